"""Mode significance: which clusters of a mean-shift result are real, and the merge of those that
are not (what ``bandwidth="auto"`` does after clustering). Validates once, then calls the jitted
pure functions of :mod:`jaxshift.density.significance`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxshift.api import sizes
from jaxshift.api import validation as v
from jaxshift.density import significance
from jaxshift.density.selection import BandwidthResult
from jaxshift.density.significance import DEFAULT_REPLICATES, AutoReport, ModeSignificance
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce import sharding
from jaxshift.solvers.mean_shift import MeanShiftResult

Array = jax.Array

DEFAULT_LEVEL = 0.99
MIN_TESTED = 32  # modes tested at least (padded): one compilation for every result with fewer clusters
TRACED_TESTED = 256  # under jit the number of clusters is unknown: the strongest this many are tested

_significance = jax.jit(significance.mode_significance, static_argnames=("kernel", "n_boot", "segment_points"))
_kept_significance = jax.jit(
    significance.kept_significance, static_argnames=("kernel", "n_boot", "segment_points", "max_rounds")
)
_merge = jax.jit(significance.merge_roots)
_merged_result = jax.jit(significance.merged_result, static_argnames=("tested",))


def centre_significance(data, centers, n_clusters, bandwidth, *, kernel: Kernel, weights, n_boot: int, key, level=None):
    """:func:`mode_significance` of the first ``n_clusters`` rows of ``centers`` (unvalidated;
    the rows are padded to a power of two, at least ``MIN_TESTED``; ``TRACED_TESTED`` under jit);
    with a ``level``, tested again against kept parents until the kept ones are significant
    (:func:`jaxshift.density.significance.kept_significance`)."""
    rows = centers.shape[0]
    if v.is_concrete(n_clusters):
        k = sizes.power_of_two_rows(int(n_clusters), MIN_TESTED)
    else:
        k = max(MIN_TESTED, min(rows, TRACED_TESTED))
    if isinstance(centers, np.ndarray):  # padded on the host: no compilation per number of clusters
        centers = np.concatenate([centers, np.zeros((max(k - rows, 0), centers.shape[1]), centers.dtype)])[:k]
    elif k > rows:
        centers = jnp.concatenate([centers, jnp.zeros((k - rows, centers.shape[1]), centers.dtype)])
    valid = np.arange(k) < n_clusters if v.is_concrete(n_clusters) else jnp.arange(k) < n_clusters
    modes = jnp.asarray(centers[:k], data.dtype)
    if level is None:
        return _significance(data, modes, valid, bandwidth, weights, key, kernel=kernel, n_boot=n_boot)
    level = jnp.asarray(level, data.dtype)
    return _kept_significance(data, modes, valid, bandwidth, weights, key, kernel=kernel, level=level, n_boot=n_boot)


@sharding.follow_data("data", split=False)
def mode_significance(
    data,
    result: MeanShiftResult,
    *,
    kernel: str | Kernel = "gaussian",
    weights=None,
    n_boot: int = DEFAULT_REPLICATES,
    key: Array | None = None,
) -> ModeSignificance:
    """How often each cluster of a mean-shift ``result`` on ``data`` is reproduced: the fraction of
    ``n_boot`` bootstrap replicates of the KDE (Poisson(1) weights on the points, same bandwidth)
    in which the density dips on the segment between the cluster's centre and its *parent*, the
    nearest centre of higher density (Genovese, Perone-Pacifico, Verdinelli & Wasserman 2016,
    "Non-parametric inference for density modes", JRSS-B). The highest mode has significance 1.

    Args:
      data: the (n, d) points ``result`` clustered.
      result: a :class:`MeanShiftResult` (its bandwidth: scalar, (d,) or (d, d)).
      kernel: the kernel ``result`` was computed with (the density its steps climb is tested).
      weights: the points' weights, if ``result`` had any.
      n_boot: bootstrap replicates.
      key: a PRNG key; default ``jax.random.key(0)`` (deterministic).

    Returns:
      A :class:`~jaxshift.density.significance.ModeSignificance` whose first ``n_clusters`` rows
      are the clusters' (the rest are padding: significance 1, their own parent). The clusters
      are padded to a power of two (at least 32), so results with few clusters share one
      compilation; under ``jit`` (the count unknown) the first 256 are tested.
    """
    kernel = get_kernel(kernel)
    data = v.as_points(data, "data")
    if not isinstance(result, MeanShiftResult):
        raise ValueError(f"result: expected a MeanShiftResult, got {type(result).__name__}")
    if result.centers.shape[1:] != data.shape[1:]:
        raise ValueError(f"result: its centres have {result.centers.shape[1]} dimensions, data {data.shape[1]}")
    weights = v.as_weights(weights, data.shape[0], data.dtype)
    v.check_positive_int(n_boot, "n_boot")
    key = jax.random.key(0) if key is None else key
    v.check_key(key)
    return centre_significance(
        data,
        result.centers,
        result.n_clusters,
        result.bandwidth,
        kernel=kernel,
        weights=weights,
        n_boot=n_boot,
        key=key,
    )


def merge_insignificant(
    result: MeanShiftResult, found: ModeSignificance, level: float = DEFAULT_LEVEL
) -> tuple[MeanShiftResult, Array]:
    """Merge every cluster whose significance is below ``level`` into its parent (a chain of
    insignificant clusters ends in the first significant one; the highest mode is always kept).

    Returns:
      ``(merged, significance)``: ``result`` with the kept clusters renumbered in their order and
      the points and modes relabelled, and the (max_clusters,) significance of each kept cluster
      (its first ``n_clusters`` entries; NaN for clusters beyond the tested rows).
    """
    if not v.is_concrete(level) or np.ndim(level) != 0 or not 0 <= float(level) <= 1:
        raise ValueError(f"level: must be a number in [0, 1], got {level!r}")
    roots = _merge(found.significance, found.parent, level)
    tested = min(found.parent.shape[0], result.centers.shape[0])
    return _merged_result(result, roots[:tested], found.significance[:tested], tested=tested)


def auto_merge(
    data,
    result: MeanShiftResult,
    selection: BandwidthResult | None,
    *,
    kernel: Kernel,
    weights=None,
    level: float = DEFAULT_LEVEL,
    rounded: bool = False,
) -> MeanShiftResult:
    """``bandwidth="auto"``'s last step: ``result`` with its insignificant clusters merged, and its
    ``auto`` field saying what was done (``selection``: the bandwidth selection's result, its
    objective ``-UCV₁``; ``rounded``: the plug-in bandwidth was used, as for rounded data).

    The clusters are tested as :func:`mode_significance` does (``DEFAULT_REPLICATES`` replicates,
    the key 0), then again, as long as modes are dropped, each kept one against its nearest higher
    kept one (:func:`jaxshift.density.significance.kept_significance`), and those below ``level``
    are merged (:func:`merge_insignificant`)."""
    data = v.as_points(data, "data")
    found = centre_significance(
        data,
        result.centers,
        result.n_clusters,
        result.bandwidth,
        kernel=kernel,
        weights=v.as_weights(weights, data.shape[0], data.dtype),
        n_boot=DEFAULT_REPLICATES,
        key=jax.random.key(0),
        level=level,
    )
    merged, kept = merge_insignificant(result, found, level)
    if selection is None:
        criterion, n_iter, converged = jnp.full((), jnp.nan, kept.dtype), jnp.zeros((), jnp.int32), jnp.ones((), bool)
    else:
        criterion, n_iter, converged = -selection.objective, selection.n_iter, selection.converged
    report = AutoReport(
        bandwidth=result.bandwidth,
        criterion=jnp.asarray(criterion, kept.dtype),
        n_iter=n_iter,
        converged=converged,
        n_modes=result.n_clusters,
        significance=kept,
        level=jnp.asarray(level, kept.dtype),
        rounded=jnp.asarray(rounded),
    )
    return merged._replace(auto=report)
