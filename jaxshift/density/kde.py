"""Kernel density estimates and their cross-validated log-likelihoods.

The bandwidth is a scalar ``h``, a (d,) vector of per-dimension ``h``, or a (d, d) symmetric
positive-definite matrix ``H``, the kernel's squared-scale matrix: for the Gaussian, its
covariance (scipy's ``gaussian_kde.covariance``, R ks' ``H``); ``h²I`` is the scalar case. A full
``H = L Lᵀ`` is applied by whitening queries and data with ``L⁻¹``; everything then runs on the
blockwise, log-stable reduction of :mod:`jaxshift.reduce`, so it is memory-bounded, never 0/0,
and differentiable in the bandwidth.

These are the pure, unvalidated functions; :mod:`jaxshift.kde` is their checked, jitted API.
With ``data_axis`` (a :class:`~jaxshift.reduce.sharding.DataAxis`) the reduction is split over
that mesh axis.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, centre, kernel_sums

Array = jax.Array

FORMS = ("scalar", "diagonal", "full")


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


def log_density(
    points: Array,
    data: Array,
    bandwidth: Array,
    *,
    kernel: Kernel,
    weights: Array | None = None,
    query_groups: Array | None = None,
    data_groups: Array | None = None,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
    data_axis=None,
) -> Array:
    """(m,) log of the normalised KDE at ``points``; pairs in the same group left out."""
    n, dim = data.shape
    # Work relative to the data's centre before whitening: the density is translation-invariant,
    # and small coordinates keep the distances accurate for data far from the origin.
    origin = centre(data)
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
        data_axis=data_axis,
    )
    w = jnp.ones((n,), data.dtype) if weights is None else weights
    mass = jnp.sum(w)
    if data_groups is not None:
        # the mass that is left: everything but the query's own group
        group_mass = jax.ops.segment_sum(w, data_groups, num_segments=n)
        mass = mass - group_mass[jnp.clip(query_groups, 0, n - 1)]
    # -inf where a compact kernel reaches no point, with a zero (not NaN) gradient there
    reached = sums.total > 0
    log_total = jnp.where(reached, jnp.log(jnp.where(reached, sums.total, 1.0)), -jnp.inf)
    return log_total + sums.log_scale - jnp.log(mass) - kernel.log_normaliser(dim) - log_det


def _weighted_mean(values: Array, weights: Array | None) -> Array:
    if weights is None:
        return jnp.mean(values)
    return jnp.sum(weights * values) / jnp.sum(weights)


def _groups_left_out(data, bandwidth, weights, groups, **options):
    """Mean log density of each point under the estimate from the points of the other groups."""
    values = log_density(data, data, bandwidth, weights=weights, query_groups=groups, data_groups=groups, **options)
    return _weighted_mean(values, weights)


def loo_log_likelihood(data, bandwidth, weights=None, *, kernel: Kernel, data_block=DEFAULT_DATA_BLOCK, data_axis=None):
    """Mean over the points of the leave-one-out log density (each weighted point left out whole)."""
    groups = jnp.arange(data.shape[0])
    return _groups_left_out(data, bandwidth, weights, groups, kernel=kernel, data_block=data_block, data_axis=data_axis)


def fold_groups(n: int, n_folds: int, key: Array | None) -> Array:
    """The fold of each of ``n`` points: ``i mod n_folds`` in order, or of a random permutation."""
    order = jnp.arange(n) if key is None else jax.random.permutation(key, n)
    return jnp.zeros((n,), jnp.int32).at[order].set(jnp.arange(n, dtype=jnp.int32) % n_folds)


def kfold_log_likelihood(data, bandwidth, weights=None, key=None, *, kernel: Kernel, n_folds: int, data_axis=None):
    """Mean log density of each point under the estimate from the other folds."""
    groups = fold_groups(data.shape[0], n_folds, key)
    return _groups_left_out(data, bandwidth, weights, groups, kernel=kernel, data_axis=data_axis)


def heldout_log_likelihood(points, data, bandwidth, weights=None, *, kernel: Kernel, data_axis=None):
    """Mean log density of ``points`` under the estimate from ``data`` (``weights`` are the data's)."""
    return jnp.mean(log_density(points, data, bandwidth, kernel=kernel, weights=weights, data_axis=data_axis))


def minibatch_index(key: Array, n: int, batch_size: int, weights: Array | None, *, replace: bool = True) -> Array:
    """``batch_size`` random points, in proportion to their weights when weighted."""
    p = None if weights is None else weights / jnp.sum(weights)
    return jax.random.choice(key, n, (batch_size,), replace=replace, p=p)


def minibatch_loo_log_likelihood(data, bandwidth, weights, key, *, kernel: Kernel, batch_size: int, data_axis=None):
    """Unbiased estimate of :func:`loo_log_likelihood` from ``batch_size`` random query points
    (sampled in proportion to their weights: the weighted mean stays unbiased)."""
    index = minibatch_index(key, data.shape[0], batch_size, weights)
    return batch_loo_log_likelihood(data, bandwidth, weights, index, kernel=kernel, data_axis=data_axis)


def batch_loo_log_likelihood(data, bandwidth, weights, index, *, kernel: Kernel, data_axis=None):
    """Mean leave-one-out log density of the points ``data[index]``."""
    groups = jnp.arange(data.shape[0])
    values = log_density(
        data[index],
        data,
        bandwidth,
        kernel=kernel,
        weights=weights,
        query_groups=index,
        data_groups=groups,
        data_axis=data_axis,
    )
    return jnp.mean(values)
