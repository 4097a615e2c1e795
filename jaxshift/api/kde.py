"""Kernel density estimates and their cross-validated log-likelihoods (``jaxshift.kde``).

The bandwidth is a scalar ``h``, a (d,) vector of per-dimension ``h``, or a (d, d) symmetric
positive-definite matrix ``H``, the kernel's squared-scale matrix: for the Gaussian, its
covariance (scipy's ``gaussian_kde.covariance``, R ks' ``H``); ``h²I`` is the scalar case. A full
``H = L Lᵀ`` is applied by whitening queries and data with ``L⁻¹``; everything then runs on the
blockwise, log-stable reduction of :mod:`jaxshift.reduce`, so it is memory-bounded, never 0/0,
and differentiable in the bandwidth. Every function takes ``(points, data, bandwidth)`` in that
order (those without evaluation points, ``(data, bandwidth)``), validates once and runs compiled.

Example:
  >>> import numpy as np, jaxshift
  >>> X = np.random.default_rng(0).normal(size=(500, 2))
  >>> float(jaxshift.kde.loo_log_likelihood(X, 0.4)) < 0
  True
"""

from __future__ import annotations

import jax

from jaxshift.api import validation as v
from jaxshift.density import kde
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, sharding

Array = jax.Array

__all__ = [
    "heldout_log_likelihood",
    "kfold_log_likelihood",
    "log_density",
    "loo_log_likelihood",
    "minibatch_loo_log_likelihood",
]


def _checked(data, bandwidth, kernel, weights, *, points=None, min_points=1):
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


_log_density = jax.jit(kde.log_density, static_argnames=("kernel", "query_block", "data_block", "data_axis"))


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
    data, bandwidth, kernel, weights, points = _checked(data, bandwidth, kernel, weights, points=points)
    v.check_blocks(query_block, data_block)
    return _log_density(
        points,
        data,
        bandwidth,
        kernel=kernel,
        weights=weights,
        query_block=query_block,
        data_block=data_block,
        data_axis=sharding.current(),
    )


_loo = jax.jit(kde.loo_log_likelihood, static_argnames=("kernel", "data_block", "data_axis"))


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
    data, bandwidth, kernel, weights, _ = _checked(data, bandwidth, kernel, weights, min_points=2)
    v.check_positive_int(data_block, "data_block")
    return _loo(data, bandwidth, weights, kernel=kernel, data_block=data_block, data_axis=sharding.current())


_kfold = jax.jit(kde.kfold_log_likelihood, static_argnames=("kernel", "n_folds", "data_axis"))


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def kfold_log_likelihood(
    data, bandwidth, *, n_folds: int = 5, key: Array | None = None, kernel: str | Kernel = "gaussian", weights=None
) -> Array:
    """Mean log density of each point under the estimate from the other folds.

    Points are dealt into ``n_folds`` folds in order (``i mod n_folds``), or at random with ``key``.
    """
    data, bandwidth, kernel, weights, _ = _checked(data, bandwidth, kernel, weights, min_points=2)
    v.check_positive_int(n_folds, "n_folds", minimum=2)
    if key is not None:
        v.check_key(key)
    return _kfold(data, bandwidth, weights, key, kernel=kernel, n_folds=n_folds, data_axis=sharding.current())


_heldout = jax.jit(kde.heldout_log_likelihood, static_argnames=("kernel", "data_axis"))


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def heldout_log_likelihood(points, data, bandwidth, *, kernel: str | Kernel = "gaussian", weights=None) -> Array:
    """Mean log density of held-out ``points`` under the estimate from ``data`` (``weights`` are
    the data's)."""
    data, bandwidth, kernel, weights, points = _checked(data, bandwidth, kernel, weights, points=points)
    return _heldout(points, data, bandwidth, weights, kernel=kernel, data_axis=sharding.current())


_minibatch_loo = jax.jit(kde.minibatch_loo_log_likelihood, static_argnames=("kernel", "batch_size", "data_axis"))


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def minibatch_loo_log_likelihood(
    data, bandwidth, key: Array, *, batch_size: int = 1024, kernel: str | Kernel = "gaussian", weights=None
) -> Array:
    """Unbiased estimate of :func:`loo_log_likelihood` from ``batch_size`` random query points.

    Each evaluation costs ``batch_size · n`` pairs and O(block) memory, so it scales to n = 1e6.
    """
    data, bandwidth, kernel, weights, _ = _checked(data, bandwidth, kernel, weights, min_points=2)
    v.check_positive_int(batch_size, "batch_size")
    v.check_key(key)
    return _minibatch_loo(
        data, bandwidth, weights, key, kernel=kernel, batch_size=batch_size, data_axis=sharding.current()
    )
