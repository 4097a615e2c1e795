"""Blurring mean shift: every point moves, and the data moves with it.

This is the tutorial's algorithm: each iteration replaces the data by its own mean-shift step
(Fukunaga & Hostetler 1975; Cheng 1995). Run to convergence it collapses every cluster into one
point and then the clusters into each other, so it is stopped as soon as the cluster structure
has formed: when the entropy of the histogram of the step lengths stops changing, the points of
each cluster move as one rigid body (Carreira-Perpiñán, ICML 2006).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, kernel_sums
from jaxshift.solvers import loop
from jaxshift.solvers.clusters import cluster_sizes, merge_modes

Array = jax.Array


class BlurringState(NamedTuple):
    """The moving points and what the stopping rules need."""

    points: Array  # shape=(n, d): relative to the data's mean
    shift: Array  # shape=(n,): each point's last step, in bandwidths (inf before the first)
    entropy: Array  # shape=(): entropy of the last step-length histogram (NaN before the first)
    structured: Array  # shape=(), bool: the entropy stopped changing (the clusters have formed)


class BlurringInfo(NamedTuple):
    max_shift: Array  # shape=(): the longest step, in bandwidths


class BlurringResult(NamedTuple):
    """What :func:`jaxshift.blurring_mean_shift` returns (the vocabulary of ``MeanShiftResult``)."""

    modes: Array  # shape=(n, d): the points where the iterations stopped
    converged: Array  # shape=(n,), bool: the point's last step was at most tol bandwidths
    n_iter: Array  # shape=(), int32
    stopped_by_entropy: Array  # shape=(), bool: the structure rule stopped it (not tol or max_iter)
    centers: Array  # shape=(n, d): the first n_clusters rows are valid, the rest zero
    n_clusters: Array  # shape=(), int32
    labels: Array  # shape=(n,), int32: cluster of each data point
    mode_labels: Array  # shape=(n,), int32: the same (every point is its own seed)
    cluster_sizes: Array  # shape=(n,), int32
    bandwidth: Array  # shape=() or (d,)


def _entropy(lengths: Array, n_bins: int) -> Array:
    """Entropy of the histogram of ``lengths`` over ``[0, max]`` in ``n_bins`` bins."""
    top = jnp.max(lengths)
    scale = jnp.where(top > 0, n_bins / jnp.where(top > 0, top, 1.0), 0.0)
    bins = jnp.clip(jnp.floor(lengths * scale).astype(jnp.int32), 0, n_bins - 1)
    p = jnp.zeros((n_bins,), lengths.dtype).at[bins].add(1.0) / lengths.shape[0]
    return -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))


def init(data: Array) -> BlurringState:
    n = data.shape[0]
    return BlurringState(
        points=data - jnp.mean(data, axis=0),
        shift=jnp.full((n,), jnp.inf, data.dtype),
        entropy=jnp.full((), jnp.nan, data.dtype),
        structured=jnp.zeros((), bool),
    )


def step(
    state: BlurringState,
    bandwidth: Array,
    *,
    kernel: Kernel,
    entropy_tol: float | Array = 1e-8,
    n_bins: int,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
) -> tuple[BlurringState, BlurringInfo]:
    """Every point moves to the mean of the (moved) points around it."""
    points = state.points
    sums = kernel_sums(points, points, bandwidth, kernel=kernel, query_block=query_block, data_block=data_block)
    # every point is within reach of itself, so the total is positive
    new = sums.moment / sums.total[:, None]
    lengths = jnp.sqrt(jnp.sum(jnp.square((new - points) / bandwidth), axis=1))
    entropy = _entropy(lengths, n_bins)
    structured = jnp.abs(entropy - state.entropy) < entropy_tol  # False after the first step (NaN)
    return BlurringState(new, lengths, entropy, structured), BlurringInfo(jnp.max(lengths))


def solve(
    data,
    bandwidth,
    max_iter,
    tol,
    entropy_tol,
    merge_radius,
    *,
    kernel: Kernel,
    n_bins: int,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
) -> BlurringResult:
    """Blurring mean shift until the structure rule, full collapse (every step <= ``tol``) or
    ``max_iter``; the final points merged into clusters (see :func:`jaxshift.blurring_mean_shift`)."""
    n = data.shape[0]
    origin = jnp.mean(data, axis=0)

    def advance(st):
        return step(
            st,
            bandwidth,
            kernel=kernel,
            entropy_tol=entropy_tol,
            n_bins=n_bins,
            query_block=query_block,
            data_block=data_block,
        )

    def stop(st):
        return st.structured | (jnp.max(st.shift) <= tol)

    state, _, n_iter = loop.run(advance, init(data), max_iter=max_iter, done=stop)
    points = state.points
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
        modes=points + origin,
        converged=state.shift <= tol,
        n_iter=n_iter,
        stopped_by_entropy=state.structured,
        centers=jnp.where(filled, clusters.centers + origin, 0.0),
        n_clusters=clusters.n_clusters,
        labels=clusters.mode_labels,
        mode_labels=clusters.mode_labels,
        cluster_sizes=cluster_sizes(clusters.mode_labels, n),
        bandwidth=bandwidth,
    )
