"""Which modes are real: a bootstrap test of the density's valley between each mode and its
nearest mode of higher density (Genovese, Perone-Pacifico, Verdinelli & Wasserman 2016,
"Non-parametric inference for density modes", JRSS-B 78:99-126), and the merge of the modes that
fail it. Pure and unvalidated: :func:`jaxshift.mode_significance` and ``bandwidth="auto"`` are the
checked entry points. See ``docs/bandwidth.md``.

For each mode ``a`` its *parent* ``p`` is the nearest mode (in the bandwidth's metric) whose density
is higher; the highest mode has none. The statistic is the depth of the valley on the segment
between them,

    D = min(f̂(a), f̂(p)) - min_t f̂(a + t (p - a)),   t = 1/(L+1), ..., L/(L+1),

positive when the density dips between the two modes. The KDE is bootstrapped by reweighting the
data with independent Poisson(1) weights (the Poisson bootstrap, which equals the multinomial one as
n grows and can be drawn block by block), at the same bandwidth; a mode's *significance* is the
fraction of the ``B`` replicates in which its valley is there (``D* > 0``). Its complement is a
one-sided bootstrap p-value of "no valley". Every replicate needs the KDE at the same ``k (L + 1)``
points only, so all ``B`` of them are one product of a ``(k(L+1), block)`` kernel matrix with a
``(block, B)`` weight matrix per data block: memory O(k L block + k L B), no climbing.

:func:`merge_roots` merges each mode whose significance is below a level into its parent (one
pass, by pointer jumping: a chain of insignificant modes ends at the first significant one).
:func:`kept_significance` (what ``bandwidth="auto"`` and the scikit-learn drop-in use) repeats the
test until every mode kept is significant against a parent that is kept too: a spurious mode
cannot vouch for another.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel, get_kernel
from jaxshift.solvers.clusters import cluster_sizes
from jaxshift.solvers.mean_shift import MeanShiftResult

Array = jax.Array

DEFAULT_REPLICATES = 200
SEGMENT_POINTS = 16


class ModeSignificance(NamedTuple):
    """What the valley bootstrap finds for each of ``k`` modes."""

    significance: Array  # shape=(k,): fraction of replicates with a valley to the parent; 1 for the highest mode
    parent: (
        Array  # shape=(k,), int32: nearest higher (kept: kept_significance) mode; itself for the highest, invalid rows
    )
    density: Array  # shape=(k,): the KDE at each mode, up to a constant factor (0 for invalid rows)


class AutoReport(NamedTuple):
    """What ``bandwidth="auto"`` did (the ``auto`` field of its :class:`MeanShiftResult`)."""

    bandwidth: Array  # shape=(), (d,) or (d, d): the bandwidth the clustering used
    criterion: Array  # shape=(): the gradient criterion UCV₁ at the selected Gaussian bandwidth (scale-free)
    n_iter: Array  # shape=(), int32: L-BFGS steps of the selection
    converged: Array  # shape=(), bool: whether the selection converged
    n_modes: Array  # shape=(), int32: clusters before the insignificant ones were merged
    significance: Array  # shape=(max_clusters,): each cluster's significance (its first n_clusters rows; NaN: untested)
    level: Array  # shape=(): clusters whose significance is below it were merged
    rounded: Array  # shape=(), bool: the data looked rounded, so the plug-in bandwidth was used (criterion NaN)


def climbed_profile(kernel: Kernel):
    """The profile of the density that ``kernel``'s mean-shift steps climb: the kernel's own
    density profile, except for the flat kernel, whose steps climb the Epanechnikov density."""
    if kernel == get_kernel("flat"):
        return get_kernel("epanechnikov").density
    return kernel.density


def whitener(bandwidth: Array, dim: int):
    """``x -> x`` in units of the bandwidth (scalar, (d,) or a (d, d) matrix ``H = L Lᵀ``: ``L⁻¹x``)."""
    if jnp.ndim(bandwidth) == 2:
        chol = jnp.linalg.cholesky(bandwidth)
        return lambda x: jax.scipy.linalg.solve_triangular(chol, x.T, lower=True).T
    return lambda x: x / bandwidth


def parents(modes: Array, density: Array, valid: Array, candidates: Array | None = None) -> Array:
    """(k,) the nearest valid mode of strictly higher density among ``candidates`` (default: all
    valid ones; ties: the lower index counts as higher); itself for the highest and for invalid
    rows. ``modes`` in whitened units."""
    k = modes.shape[0]
    index = jnp.arange(k)
    candidates = valid if candidates is None else candidates & valid
    higher = (density[None, :] > density[:, None]) | (
        (density[None, :] == density[:, None]) & (index[None, :] < index[:, None])
    )
    higher = higher & candidates[None, :] & valid[:, None]
    d2 = jnp.sum(jnp.square(modes[:, None, :] - modes[None, :, :]), axis=-1)
    d2 = jnp.where(higher, d2, jnp.inf)
    nearest = jnp.argmin(d2, axis=1).astype(jnp.int32)
    return jnp.where(jnp.isfinite(jnp.min(d2, axis=1)), nearest, index.astype(jnp.int32))


def _bootstrap_densities(queries, data, weights, key, *, profile, n_boot: int, block: int):
    """((q,), (q, B)): the KDE sums at ``queries`` with the data's weights, and with the weights
    times independent Poisson(1) draws; data and queries whitened. Blockwise over the data."""
    n, dim = data.shape
    blocks = max(1, math.ceil(n / block))
    pad = blocks * block - n
    w = jnp.ones((n,), data.dtype) if weights is None else weights.astype(data.dtype)
    data = jnp.concatenate([data, jnp.zeros((pad, dim), data.dtype)]).reshape(blocks, block, dim)
    w = jnp.concatenate([w, jnp.zeros((pad,), w.dtype)]).reshape(blocks, block)

    def one(carry, item):
        base, boot = carry
        i, x, wb = item
        r = jnp.sum(jnp.square(queries[:, None, :] - x[None, :, :]), axis=-1)
        k = profile(r)
        draws = jax.random.poisson(jax.random.fold_in(key, i), 1.0, (block, n_boot)).astype(data.dtype)
        return (base + k @ wb, boot + k @ (wb[:, None] * draws)), None

    q = queries.shape[0]
    start = (jnp.zeros((q,), data.dtype), jnp.zeros((q, n_boot), data.dtype))
    (base, boot), _ = jax.lax.scan(one, start, (jnp.arange(blocks), data, w))
    return base, boot


def mode_significance(
    data: Array,
    modes: Array,
    valid: Array,
    bandwidth: Array,
    weights: Array | None,
    key: Array,
    *,
    kernel: Kernel,
    n_boot: int = DEFAULT_REPLICATES,
    segment_points: int = SEGMENT_POINTS,
    block: int = 1024,
    candidates: Array | None = None,
) -> ModeSignificance:
    """The valley bootstrap (module docstring) for ``k`` modes, of which the ``valid`` ones count,
    each tested against its nearest higher mode among ``candidates`` (default: the valid ones)."""
    n, dim = data.shape
    k = modes.shape[0]
    whiten = whitener(bandwidth, dim)
    origin = jnp.mean(data, axis=0)
    x, a = whiten(data - origin), whiten(modes - origin)
    profile = climbed_profile(kernel)
    options = dict(profile=profile, block=min(block, n))
    at_modes, _ = _bootstrap_densities(a, x, weights, key, n_boot=1, **options)
    density = jnp.where(valid, at_modes, 0.0)
    parent = parents(a, density, valid, candidates)
    t = jnp.arange(1, segment_points + 1, dtype=data.dtype) / (segment_points + 1)
    segment = a[:, None, :] + t[None, :, None] * (a[parent] - a)[:, None, :]  # (k, L, d)
    queries = jnp.concatenate([a, segment.reshape(k * segment_points, dim)])
    _, boot = _bootstrap_densities(queries, x, weights, key, n_boot=n_boot, **options)
    ends, inside = boot[:k], boot[k:].reshape(k, segment_points, n_boot)
    depth = jnp.minimum(ends, ends[parent]) - jnp.min(inside, axis=1)  # (k, B)
    fraction = jnp.mean(depth > 0, axis=1)
    is_root = parent == jnp.arange(k)
    return ModeSignificance(jnp.where(is_root, 1.0, fraction).astype(data.dtype), parent, density)


def kept_significance(
    data: Array,
    modes: Array,
    valid: Array,
    bandwidth: Array,
    weights: Array | None,
    key: Array,
    *,
    kernel: Kernel,
    level: Array,
    n_boot: int = DEFAULT_REPLICATES,
    segment_points: int = SEGMENT_POINTS,
    block: int = 1024,
    max_rounds: int = 8,
) -> ModeSignificance:
    """The valley bootstrap, repeated until every mode kept is significant against a kept parent.

    The first round tests every mode against its nearest higher mode (:func:`mode_significance`);
    then, as long as a round drops a mode, the modes still kept are tested again, each against its
    nearest higher mode *among those kept*, and those below ``level`` are dropped. A spurious mode
    can otherwise vouch for another: a lone tail point of one cluster whose nearest higher mode is
    a spurious mode on another cluster's slope passes, as the segment between them crosses the real
    valley between the clusters. If ``max_rounds`` is reached, a kept mode's parent may have been
    dropped in the last round (the merge is still well defined). A dropped mode keeps the
    significance and parent of the round that dropped it (its parent was kept then), so
    :func:`merge_roots` at ``level`` merges along those parents. Each round is one bootstrap pass
    with the same draws (``key``); at most ``max_rounds``."""
    options = dict(kernel=kernel, n_boot=n_boot, segment_points=segment_points, block=block)
    first = mode_significance(data, modes, valid, bandwidth, weights, key, **options)
    kept = valid & (first.significance >= level)

    def again(carry):
        changed, rounds, _, _, _ = carry
        return changed & (rounds < max_rounds)

    def round_(carry):
        _, rounds, kept, significance, parent = carry
        found = mode_significance(data, modes, valid, bandwidth, weights, key, candidates=kept, **options)
        significance = jnp.where(kept, found.significance, significance)
        parent = jnp.where(kept, found.parent, parent)
        still = kept & (found.significance >= level)
        return jnp.any(still != kept), rounds + 1, still, significance, parent

    start = (jnp.any(kept != valid), jnp.ones((), jnp.int32), kept, first.significance, first.parent)
    _, _, _, significance, parent = jax.lax.while_loop(again, round_, start)
    return ModeSignificance(significance, parent, first.density)


def merge_roots(significance: Array, parent: Array, level: float | Array) -> Array:
    """(k,) int32: the mode each mode ends in when every mode of significance below ``level`` is
    merged into its parent (a significant mode, and the highest, are their own)."""
    k = parent.shape[0]
    index = jnp.arange(k, dtype=jnp.int32)
    link = jnp.where(significance < level, parent, index)
    for _ in range(max(1, math.ceil(math.log2(max(k, 2)))) + 1):
        link = link[link]
    return link


def merged_result(result: MeanShiftResult, roots: Array, significance: Array, tested: int):
    """``result`` with its first ``tested`` clusters merged into ``roots`` (clusters beyond them are
    left as they are): the kept clusters in their order, renumbered, the points and modes
    relabelled. Returns ``(merged result, (max_clusters,) significance of each kept cluster)``
    (NaN for clusters that were not tested)."""
    rows = result.centers.shape[0]
    index = jnp.arange(rows, dtype=jnp.int32)
    root = index.at[:tested].set(roots)
    exists = index < result.n_clusters
    kept = (root == index) & exists
    new_id = jnp.cumsum(kept, dtype=jnp.int32) - 1
    target = new_id[root]  # new cluster of each old cluster
    (order,) = jnp.nonzero(kept, size=rows, fill_value=0)
    n_kept = jnp.sum(kept, dtype=jnp.int32)
    filled = index < n_kept
    centers = jnp.where(filled[:, None], result.centers[order], 0.0)
    full = jnp.full((rows,), jnp.nan, significance.dtype).at[:tested].set(significance)
    kept_significance = jnp.where(filled, full[order], 0.0)

    def relabel(labels):
        return jnp.where(labels >= 0, target[jnp.clip(labels, 0, rows - 1)], labels)

    labels = relabel(result.labels)
    merged = result._replace(
        centers=centers,
        n_clusters=n_kept,
        labels=labels,
        mode_labels=relabel(result.mode_labels),
        cluster_sizes=cluster_sizes(labels, rows),
    )
    return merged, kept_significance
