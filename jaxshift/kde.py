"""Kernel density estimates and their cross-validated log-likelihoods.

The bandwidth is a scalar ``h``, a (d,) vector of per-dimension ``h``, or a (d, d) symmetric
positive-definite matrix ``H``, the kernel's squared-scale matrix: for the Gaussian, its
covariance (scipy's ``gaussian_kde.covariance``, R ks' ``H``); ``h²I`` is the scalar case. A full
``H = L Lᵀ`` is applied by whitening queries and data with ``L⁻¹``; everything then runs on the
blockwise, log-stable reduction of :mod:`jaxshift.reduce`, so it is memory-bounded, never 0/0,
and differentiable in the bandwidth.

Example:
  >>> import numpy as np, jaxshift
  >>> X = np.random.default_rng(0).normal(size=(500, 2))
  >>> float(jaxshift.kde.loo_log_likelihood(X, 0.4)) < 0
  True
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from jaxshift import _validation as v
from jaxshift import sharding
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, kernel_sums

Array = jax.Array

FORMS = ("scalar", "diagonal", "full")


def bandwidth_form(bandwidth: Array) -> str:
    """``"scalar"``, ``"diagonal"`` or ``"full"``, from the bandwidth's number of dimensions."""
    return FORMS[jnp.ndim(bandwidth)]


def _whiten(points: Array, data: Array, bandwidth: Array):
    """Coordinates and a scalar/diagonal bandwidth in which ``r = |(y - x)/h|²``, and ``log |H|^½``."""
    dim = data.shape[1]
    if jnp.ndim(bandwidth) < 2:
        log_det = jnp.sum(jnp.log(bandwidth)) * (dim if jnp.ndim(bandwidth) == 0 else 1)
        return points, data, bandwidth, log_det
    chol = jnp.linalg.cholesky(bandwidth)

    def solve(a):
        return jax.scipy.linalg.solve_triangular(chol, a.T, lower=True).T

    return solve(points), solve(data), jnp.ones((), data.dtype), jnp.sum(jnp.log(jnp.diagonal(chol)))


def _log_density(
    points,
    data,
    bandwidth,
    kernel: Kernel,
    weights,
    query_groups=None,
    data_groups=None,
    query_block=DEFAULT_QUERY_BLOCK,
    data_block=DEFAULT_DATA_BLOCK,
) -> Array:
    n, dim = data.shape
    # Work relative to the data's centre: the density is translation-invariant, and small
    # coordinates keep the distances accurate for data far from the origin.
    origin = jnp.mean(data, axis=0)
    y, x, h, log_det = _whiten(points - origin, data - origin, bandwidth)
    sums = kernel_sums(
        y,
        x,
        h,
        kernel=kernel,
        weights=weights,
        profile="density",
        with_moment=False,
        query_groups=query_groups,
        data_groups=data_groups,
        query_block=query_block,
        data_block=data_block,
    )
    w = jnp.ones((n,), data.dtype) if weights is None else weights
    mass = jnp.sum(w)
    if data_groups is not None:
        # the mass that is left: everything but the query's own group
        group_mass = jax.ops.segment_sum(w, data_groups, num_segments=n)
        mass = mass - group_mass[jnp.clip(query_groups, 0, n - 1)]
    return jnp.log(sums.total) + sums.log_scale - jnp.log(mass) - kernel.log_normaliser(dim) - log_det


def _check(data, bandwidth, kernel, weights, *, points=None, min_points=1):
    kernel = get_kernel(kernel)
    data = v.as_points(data, "data")
    n, dim = data.shape
    if n < min_points:
        raise ValueError(f"data: needs at least {min_points} points, got {n}")
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype, allow_matrix=True)
    weights = v.as_weights(weights, n, data.dtype)
    if points is not None:
        points = v.as_points(points, "points", dim=dim).astype(data.dtype)
    return data, bandwidth, kernel, weights, points


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def log_density(
    points,
    data,
    bandwidth,
    *,
    kernel: str | Kernel = "gaussian",
    weights=None,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
) -> Array:
    """Log of the normalised kernel density estimate at ``points``.

    Args:
      points: (m, d) where to evaluate.
      data: (n, d) the sample.
      bandwidth: scalar, (d,) or (d, d) SPD matrix (see the module docstring).
      kernel: a kernel name; compact kernels give ``-inf`` outside their support.
      weights: optional (n,) non-negative weights.

    Returns:
      (m,) log densities.
    """
    data, bandwidth, kernel, weights, points = _check(data, bandwidth, kernel, weights, points=points)
    v.check_blocks(query_block, data_block)
    return _jit_log_density(
        points, data, bandwidth, weights, kernel=kernel, query_block=query_block, data_block=data_block
    )


@partial(jax.jit, static_argnames=("kernel", "query_block", "data_block"))
def _jit_log_density(points, data, bandwidth, weights, *, kernel, query_block, data_block):
    return _log_density(points, data, bandwidth, kernel, weights, query_block=query_block, data_block=data_block)


def _weighted_mean(values: Array, weights: Array | None) -> Array:
    if weights is None:
        return jnp.mean(values)
    return jnp.sum(weights * values) / jnp.sum(weights)


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def loo_log_likelihood(
    data, bandwidth, *, kernel: str | Kernel = "gaussian", weights=None, data_block: int = DEFAULT_DATA_BLOCK
) -> Array:
    """Mean over the points of the leave-one-out log density, ``(1/n) Σ_i log f̂_{-i}(x_i)``.

    With weights, each point is left out whole and the mean is weighted. Pass duplicated points
    as one point with a weight: exact duplicates make the likelihood grow without bound as the
    bandwidth shrinks.
    """
    data, bandwidth, kernel, weights, _ = _check(data, bandwidth, kernel, weights, min_points=2)
    v.check_positive_int(data_block, "data_block")
    return _jit_loo(data, bandwidth, weights, kernel=kernel, data_block=data_block)


def _loo(data, bandwidth, weights, *, kernel, data_block=DEFAULT_DATA_BLOCK):
    groups = jnp.arange(data.shape[0])
    values = _log_density(data, data, bandwidth, kernel, weights, groups, groups, data_block=data_block)
    return _weighted_mean(values, weights)


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def kfold_log_likelihood(
    data, bandwidth, *, n_folds: int = 5, key: Array | None = None, kernel: str | Kernel = "gaussian", weights=None
) -> Array:
    """Mean log density of each point under the estimate from the other folds.

    Points are dealt into ``n_folds`` folds in order (``i mod n_folds``), or at random with ``key``.
    """
    data, bandwidth, kernel, weights, _ = _check(data, bandwidth, kernel, weights, min_points=2)
    v.check_positive_int(n_folds, "n_folds", minimum=2)
    if key is not None:
        v.check_key(key)
    return _jit_kfold(data, bandwidth, weights, key, kernel=kernel, n_folds=n_folds)


def _kfold(data, bandwidth, weights, key, *, kernel, n_folds):
    n = data.shape[0]
    order = jnp.arange(n) if key is None else jax.random.permutation(key, n)
    groups = jnp.zeros((n,), jnp.int32).at[order].set(jnp.arange(n, dtype=jnp.int32) % n_folds)
    values = _log_density(data, data, bandwidth, kernel, weights, groups, groups)
    return _weighted_mean(values, weights)


@v.keeps_half_precision("train")
@sharding.follow_data("train")
def heldout_log_likelihood(train, test, bandwidth, *, kernel: str | Kernel = "gaussian", weights=None) -> Array:
    """Mean log density of ``test`` under the estimate from ``train`` (``weights`` are ``train``'s)."""
    train, bandwidth, kernel, weights, test = _check(train, bandwidth, kernel, weights, points=test)
    return _jit_heldout(test, train, bandwidth, weights, kernel=kernel)


@partial(jax.jit, static_argnames=("kernel",))
def _jit_heldout(test, train, bandwidth, weights, *, kernel):
    return jnp.mean(_log_density(test, train, bandwidth, kernel, weights))


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def minibatch_loo_log_likelihood(
    data, bandwidth, key: Array, *, batch_size: int = 1024, kernel: str | Kernel = "gaussian", weights=None
) -> Array:
    """Unbiased estimate of :func:`loo_log_likelihood` from ``batch_size`` random query points.

    Each evaluation costs ``batch_size · n`` pairs and O(block) memory, so it scales to n = 1e6.
    """
    data, bandwidth, kernel, weights, _ = _check(data, bandwidth, kernel, weights, min_points=2)
    v.check_positive_int(batch_size, "batch_size")
    v.check_key(key)
    return _jit_minibatch_loo(data, bandwidth, weights, key, kernel=kernel, batch_size=batch_size)


def _minibatch_loo(data, bandwidth, weights, key, *, kernel, batch_size):
    n = data.shape[0]
    if weights is None:
        index = jax.random.randint(key, (batch_size,), 0, n)
    else:  # sample queries in proportion to their weight: the weighted mean, unbiased
        index = jax.random.choice(key, n, (batch_size,), p=weights / jnp.sum(weights))
    groups = jnp.arange(n)
    return jnp.mean(_log_density(data[index], data, bandwidth, kernel, weights, index, groups))


# Compiled once per shape and static option, so eager calls do not retrace the blockwise loops.
_jit_loo = jax.jit(_loo, static_argnames=("kernel", "data_block"))
_jit_kfold = jax.jit(_kfold, static_argnames=("kernel", "n_folds"))
_jit_minibatch_loo = jax.jit(_minibatch_loo, static_argnames=("kernel", "batch_size"))
