"""The clustering bandwidth behind ``bandwidth="auto"``: a sweep of bandwidths and the stability
rule. Pure and unvalidated: :func:`jaxshift.clustering_bandwidth` and
:func:`jaxshift.bandwidth_sweep` are the checked entry points. See ``docs/bandwidth.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.density import gradient_cv, kde, rules, selection
from jaxshift.kernels import GAUSSIAN, Kernel
from jaxshift.solvers import mean_shift

Array = jax.Array

AUTO_METHODS = ("auto", "stability", "normal_gradient", "plugin_gradient", "loo", "gradient_ucv")

# bandwidth="auto" clusters at the minimiser of the gradient criterion (auto_bandwidth below), then merges
# the clusters that are not significant (density/significance.py). Chosen on the dev suite of
# experiments/auto_bandwidth.py, reported on the held-out suite of experiments/auto_heldout.py.


class SweepResult(NamedTuple):
    """A grid of bandwidths with what each gives, ready to plot."""

    bandwidths: Array  # shape=(K,)
    loo_log_likelihood: Array  # shape=(K,)
    n_clusters: Array  # shape=(K,), int32: all clusters mean shift finds
    n_large_clusters: Array  # shape=(K,), int32: clusters holding at least min_cluster_size points


def sweep(data, bandwidths, *, kernel: Kernel, chunk_size: int, min_cluster_size: int, clusters: bool = True):
    """Leave-one-out likelihood and cluster counts at each scalar bandwidth, ``chunk_size`` at a
    time (each chunk one vectorised call)."""

    def one(h):
        loo = kde.loo_log_likelihood(data, h, kernel=kernel)
        if not clusters:
            return loo, jnp.int32(-1), jnp.int32(-1)
        result = mean_shift.solve(data, h, kernel=kernel, labels="basin")
        large = jnp.sum(result.cluster_sizes >= min_cluster_size, dtype=jnp.int32)
        return loo, result.n_clusters, large

    loo, counts, large = jax.lax.map(one, bandwidths, batch_size=chunk_size)
    return SweepResult(bandwidths, loo, counts, large)


def stable_plateau(bandwidths: Array, counts: Array, keep: float = 0.75) -> Array:
    """Pick a run of bandwidths over which the cluster count stays the same.

    Runs with at least two clusters that are at least ``keep`` times as long as the longest such
    run are eligible; among them the one with the most clusters wins (then the longer one). Its
    geometric middle is returned; the largest bandwidth when no run has two or more clusters.
    """
    k = counts.shape[0]
    index = jnp.arange(k)
    starts = jnp.concatenate([jnp.ones((1,), bool), counts[1:] != counts[:-1]])
    run = jnp.cumsum(starts) - 1
    length = jax.ops.segment_sum(jnp.ones((k,), jnp.int32), run, num_segments=k)[run]
    first = jax.ops.segment_min(index, run, num_segments=k)[run]
    longest = jnp.max(jnp.where(counts >= 2, length, 0))
    eligible = (counts >= 2) & (length >= keep * longest)
    best = jnp.argmax(jnp.where(eligible, counts * (k + 1) + length, -1))
    low, high = bandwidths[first[best]], bandwidths[first[best] + length[best] - 1]
    return jnp.where(longest > 0, jnp.sqrt(low * high), bandwidths[-1])


def stability_bandwidth(data, key, *, n_candidates: int, max_points: int) -> Array:
    """The ``"stability"`` method of :func:`jaxshift.clustering_bandwidth`: sweep ``n_candidates``
    bandwidths from half the Silverman rule to twice the data's scale on (a subsample of at most
    ``max_points`` of) the data, take :func:`stable_plateau` of the counts of clusters holding 5%
    of the points, rescaled to the full sample by the gradient rule's rate n^(-1/(d+6))."""
    n, dim = data.shape
    sample = data if n <= max_points else data[jax.random.choice(key, n, (max_points,), replace=False)]
    m = sample.shape[0]
    scale = jnp.sqrt(jnp.mean(jnp.var(sample, axis=0)))
    # identical points (only reachable under jit, which cannot raise) would give h = 0 and 0/0
    low = jnp.where(scale > 0, 0.5 * rules.rule_of_thumb(sample, None, "silverman", "scalar"), 1.0)
    bandwidths = jnp.geomspace(low, jnp.maximum(2.0 * scale, 2.0 * low), n_candidates)
    swept = sweep(sample, bandwidths, kernel=GAUSSIAN, chunk_size=8, min_cluster_size=max(2, m // 20))
    chosen = stable_plateau(bandwidths, swept.n_large_clusters)
    return chosen * (n / m) ** (-1.0 / (dim + 6))


def auto_bandwidth(data, weights, key, *, max_points: int, tol: float = 1e-5, max_iter: int = 100):
    """The Gaussian bandwidth behind ``bandwidth="auto"`` (a :class:`BandwidthResult`, its
    objective ``-UCV₁``): the scalar minimiser of the gradient criterion, by L-BFGS over ``log h``
    from the normal-scale gradient rule, on at most ``max_points`` points (a random subsample,
    the bandwidth then rescaled to the full sample by the rule's rate ``(n/m)^(-1/(d+6))``).
    The criterion is evaluated from the sample's pairwise distances, computed once, in units of
    its spread (as :func:`gradient_cv.gradient_ucv`, whose values it reproduces)."""
    n, dim = data.shape
    sample = rules.pairwise_sample(data, weights, key, max_points)
    m = sample.data.shape[0]
    start = rules.rule_of_thumb(sample.data, sample.weights, "normal_gradient", "scalar") / sample.spread
    start = jnp.where(sample.has_spread, start, 1.0)

    def objective(distances, sigma, weights):
        return -gradient_cv.scalar_gradient_ucv(distances, sigma, weights, dim)

    chosen = selection.select(sample.sq_distances, sample.weights, start, tol, max_iter, key, objective=objective)
    bandwidth = chosen.bandwidth * sample.spread * (n / m) ** (-1.0 / (dim + 6))
    return chosen._replace(bandwidth=jnp.where(sample.has_spread, bandwidth, 1.0))
