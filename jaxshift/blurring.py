"""Blurring mean shift: every point moves, and the data moves with it.

This is the tutorial's algorithm: each iteration replaces the data by its own mean-shift step
(Fukunaga & Hostetler 1975; Cheng 1995). Run to convergence it collapses every cluster into one
point and then the clusters into each other, so it is stopped as soon as the cluster structure
has formed: when the entropy of the histogram of the step lengths stops changing, the points of
each cluster move as one rigid body (Carreira-Perpiñán, ICML 2006).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift import _validation as v
from jaxshift import sharding
from jaxshift.clusters import cluster_sizes, merge_modes
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, kernel_sums

Array = jax.Array


class BlurringResult(NamedTuple):
    """What :func:`blurring_mean_shift` returns."""

    points: Array  # shape=(n, d): the points where the iterations stopped
    n_iter: Array  # shape=(), int32
    stopped_by_entropy: Array  # shape=(), bool: the structure rule stopped it (not tol or max_iter)
    centers: Array  # shape=(n, d): the first n_clusters rows are valid, the rest zero
    n_clusters: Array  # shape=(), int32
    labels: Array  # shape=(n,), int32
    cluster_sizes: Array  # shape=(n,), int32


def _entropy(lengths: Array, n_bins: int) -> Array:
    """Entropy of the histogram of ``lengths`` over ``[0, max]`` in ``n_bins`` bins."""
    top = jnp.max(lengths)
    scale = jnp.where(top > 0, n_bins / jnp.where(top > 0, top, 1.0), 0.0)
    bins = jnp.clip(jnp.floor(lengths * scale).astype(jnp.int32), 0, n_bins - 1)
    p = jnp.zeros((n_bins,), lengths.dtype).at[bins].add(1.0) / lengths.shape[0]
    return -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def blurring_mean_shift(
    data,
    bandwidth,
    *,
    kernel: str | Kernel = "gaussian",
    max_iter: int | Array = 100,
    tol: float | Array = 1e-3,
    entropy_tol: float | Array = 1e-8,
    n_bins: int | None = None,
    merge_radius: float | Array = 1.0,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
) -> BlurringResult:
    """Blurring mean shift with Carreira-Perpiñán's (2006) stopping rule.

    Stops at the first of: the entropy of the step-length histogram changes by less than
    ``entropy_tol`` (the clusters have formed), every step is at most ``tol`` bandwidths (full
    collapse), or ``max_iter`` iterations. Points ending within ``merge_radius`` bandwidths of
    each other form one cluster.

    Args:
      data: (n, d) points.
      bandwidth: scalar or (d,) bandwidth.
      kernel: a kernel name (see :data:`jaxshift.KERNEL_NAMES`).
      max_iter, tol, entropy_tol: stopping rules (see above).
      n_bins: histogram bins; default ``max(10, n // 10)``.
      merge_radius: in bandwidths.
      query_block, data_block: tile sizes of the kernel reduction.
    """
    kernel = get_kernel(kernel)
    data = v.as_points(data, "data")
    n, dim = data.shape
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype)
    v.check_positive_int(max_iter, "max_iter")
    v.check_non_negative(tol, "tol")
    v.check_non_negative(entropy_tol, "entropy_tol")
    n_bins = max(10, n // 10) if n_bins is None else n_bins
    v.check_positive_int(n_bins, "n_bins")
    v.check_non_negative(merge_radius, "merge_radius")
    v.check_blocks(query_block, data_block)
    return _blurring(
        data,
        bandwidth,
        max_iter,
        tol,
        entropy_tol,
        merge_radius,
        kernel=kernel,
        n_bins=n_bins,
        query_block=query_block,
        data_block=data_block,
    )


@partial(jax.jit, static_argnames=("kernel", "n_bins", "query_block", "data_block"))
def _blurring(
    data, bandwidth, max_iter, tol, entropy_tol, merge_radius, *, kernel, n_bins, query_block, data_block
) -> BlurringResult:
    n = data.shape[0]
    inv_bandwidth = 1.0 / bandwidth
    origin = jnp.mean(data, axis=0)

    def one_step(points):
        sums = kernel_sums(points, points, bandwidth, kernel=kernel, query_block=query_block, data_block=data_block)
        # every point is within reach of itself, so the total is positive
        new = sums.moment / sums.total[:, None]
        return new, jnp.sqrt(jnp.sum(jnp.square((new - points) * inv_bandwidth), axis=1))

    def cond(carry):
        _, it, _, stop, _ = carry
        return (it < max_iter) & ~stop

    def body(carry):
        points, it, entropy, _, _ = carry
        points, lengths = one_step(points)
        new_entropy = _entropy(lengths, n_bins)
        structured = (it > 0) & (jnp.abs(new_entropy - entropy) < entropy_tol)
        collapsed = jnp.max(lengths) <= tol
        return points, it + 1, new_entropy, structured | collapsed, structured

    init = (
        data - origin,
        jnp.zeros((), jnp.int32),
        jnp.zeros((), data.dtype),
        jnp.zeros((), bool),
        jnp.zeros((), bool),
    )
    points, n_iter, _, _, by_entropy = jax.lax.while_loop(cond, body, init)

    density = kernel_sums(points, points, bandwidth, kernel=kernel, profile="density", with_moment=False)
    clusters = merge_modes(
        points,
        jnp.log(density.total) + density.log_scale,
        jnp.ones((n,), bool),
        bandwidth,
        radius=merge_radius,
        max_clusters=n,
    )
    filled = (jnp.arange(n) < clusters.n_clusters)[:, None]
    return BlurringResult(
        points=points + origin,
        n_iter=n_iter,
        stopped_by_entropy=by_entropy,
        centers=jnp.where(filled, clusters.centers + origin, 0.0),
        n_clusters=clusters.n_clusters,
        labels=clusters.mode_labels,
        cluster_sizes=cluster_sizes(clusters.mode_labels, n),
    )
