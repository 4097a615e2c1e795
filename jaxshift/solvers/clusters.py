"""From converged modes to clusters, with static shapes (jittable and vmappable).

Merging follows scikit-learn's rule for every kernel: order the modes by intensity (the kernel sum
at the mode, highest first; ties broken by coordinates, largest first), then greedily keep a mode
and absorb every remaining mode within ``radius`` bandwidths of it. The loop runs once per
cluster, each pass O(m·d). Ties are broken on the first :data:`TIE_BREAK_COLUMNS` coordinates
(scikit-learn compares them all, but a sort on d keys compiles in time linear in d: 45 s at
d = 2000), then on the sum of the others, then on the index. See ``docs/math.md`` for why one
bandwidth is the right radius for the smooth kernels too.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.reduce import squared_distances
from jaxshift.solvers import loop

Array = jax.Array

TIE_BREAK_COLUMNS = 8  # coordinates compared one by one when intensities tie


class Clusters(NamedTuple):
    """Merged modes."""

    centers: Array  # shape=(max_clusters, d); rows from n_clusters on are zero
    n_clusters: Array  # shape=(), int32; may exceed max_clusters (then centers is truncated)
    mode_labels: Array  # shape=(m,), int32; cluster of each mode, -1 for invalid modes


def _scaled_sq_dist(a: Array, b: Array, inv_bandwidth: Array) -> Array:
    return jnp.sum(jnp.square((a - b) * inv_bandwidth), axis=-1)


def merge_modes(
    modes: Array,
    log_intensity: Array,
    valid: Array,
    bandwidth: Array,
    *,
    radius: float | Array = 1.0,
    max_clusters: int,
) -> Clusters:
    """Greedy suppression of modes, strongest first.

    Args:
      modes: (m, d) converged seed positions.
      log_intensity: (m,) log kernel sum at each mode (only the order matters).
      valid: (m,) bool; invalid modes (seeds with no data in reach) are ignored.
      bandwidth: scalar or (d,) bandwidth.
      radius: merge radius in bandwidths.
      max_clusters: static number of centre rows returned.
    """
    m, dim = modes.shape
    inv_bandwidth = 1.0 / jnp.asarray(bandwidth, modes.dtype)
    strength = jnp.where(valid, log_intensity, -jnp.inf)
    # lexsort: last key is primary. Valid first, then intensity, then coordinates, all descending
    # (beyond the first TIE_BREAK_COLUMNS, their sum; then the index: argsort is stable).
    columns = min(dim, TIE_BREAK_COLUMNS)
    rest = (-jnp.sum(modes[:, columns:], axis=1),) if dim > columns else ()
    keys = rest + tuple(-modes[:, k] for k in reversed(range(columns))) + (-strength, ~valid)
    order = jnp.lexsort(keys)
    sorted_modes = modes[order]
    radius_sq = jnp.square(jnp.asarray(radius, modes.dtype))

    def keep_strongest(carry):
        alive, owner, center_index, k = carry
        i = jnp.argmax(alive).astype(jnp.int32)
        near = alive & (_scaled_sq_dist(sorted_modes, sorted_modes[i], inv_bandwidth) <= radius_sq)
        # the kept mode always leaves the pool, so the loop ends even if a distance is NaN
        near = near.at[i].set(True)
        owner = jnp.where(near, k, owner)
        center_index = center_index.at[k].set(i, mode="drop")
        return (alive & ~near, owner, center_index, k + 1), ()

    start = (
        valid[order],
        jnp.full((m,), -1, jnp.int32),
        jnp.zeros((max_clusters,), jnp.int32),
        jnp.zeros((), jnp.int32),
    )
    (_, owner, center_index, n_clusters), _, _ = loop.run(
        keep_strongest, start, max_iter=m, done=lambda carry: ~jnp.any(carry[0])
    )
    filled = jnp.arange(max_clusters) < n_clusters
    centers = jnp.where(filled[:, None], sorted_modes[center_index], 0.0)
    mode_labels = jnp.zeros((m,), jnp.int32).at[order].set(owner)
    return Clusters(centers, n_clusters, mode_labels)


def nearest_center(
    points: Array,
    centers: Array,
    n_clusters: Array,
    bandwidth: Array,
    *,
    point_block: int = 2048,
    center_block: int = 64,
) -> tuple[Array, Array]:
    """Index of, and distance in bandwidths to, the nearest of the first ``n_clusters`` centres.

    Only the blocks of centres that hold valid rows are visited, so the cost is
    O(n · n_clusters), not O(n · max_clusters).

    Returns:
      labels (n,) int32 (the lowest index among equally near centres) and distances (n,).
    """
    n, dim = points.shape
    n_centers = centers.shape[0]
    inv_bandwidth = 1.0 / jnp.asarray(bandwidth, points.dtype)
    c_block = max(1, min(center_block, n_centers))
    n_c_slots = -(-n_centers // c_block) * c_block
    scaled_centers = jnp.zeros((n_c_slots, dim), points.dtype).at[:n_centers].set(centers * inv_bandwidth)
    usable = jnp.minimum(n_clusters, n_centers)
    n_c_blocks = -(-usable // c_block)
    p_block = max(1, min(point_block, n))
    n_p_blocks = -(-n // p_block)
    padded = jnp.zeros((n_p_blocks * p_block, dim), points.dtype).at[:n].set(points * inv_bandwidth)

    def one_block(x):
        def visit(b, carry):
            best_sq, best = carry
            c = jax.lax.dynamic_slice(scaled_centers, (b * c_block, jnp.zeros_like(b)), (c_block, dim))
            index = b * c_block + jnp.arange(c_block, dtype=jnp.int32)
            d2 = jnp.where(index[None, :] < usable, squared_distances(x, c.T), jnp.inf)
            local = jnp.argmin(d2, axis=1)
            local_sq = jnp.take_along_axis(d2, local[:, None], axis=1)[:, 0]
            better = local_sq < best_sq
            return jnp.where(better, local_sq, best_sq), jnp.where(better, index[local], best)

        init = (jnp.full((p_block,), jnp.inf, points.dtype), jnp.zeros((p_block,), jnp.int32))
        best_sq, best = jax.lax.fori_loop(0, n_c_blocks, visit, init)
        return best, jnp.sqrt(best_sq)

    labels, dist = jax.lax.map(one_block, padded.reshape(n_p_blocks, p_block, dim))
    return labels.reshape(-1)[:n], dist.reshape(-1)[:n]


def orphans_removed(labels: Array, distance: Array, radius: float | Array = 1.0) -> Array:
    """Label -1 for points farther than ``radius`` bandwidths from their centre."""
    return jnp.where(distance <= radius, labels, -1)


def cluster_sizes(labels: Array, max_clusters: int) -> Array:
    """Number of points with each label (orphans not counted)."""
    # Negative indices would wrap around: send orphans out of range so they are dropped.
    index = jnp.where(labels >= 0, labels, max_clusters)
    return jnp.zeros((max_clusters,), jnp.int32).at[index].add(1, mode="drop")


def sorted_runs(sorted_keys: Array) -> tuple[Array, Array, Array]:
    """Runs of equal keys in sorted (n,) keys, or equal rows in lexicographically sorted (n, k)
    keys: whether each entry starts a run, the run index of each entry, and the number of runs."""
    differs = sorted_keys[1:] != sorted_keys[:-1]
    if differs.ndim == 2:
        differs = jnp.any(differs, axis=1)
    starts = jnp.concatenate([jnp.ones((1,), bool), differs])
    run = jnp.cumsum(starts, dtype=jnp.int32) - 1
    return starts, run, run[-1] + 1
