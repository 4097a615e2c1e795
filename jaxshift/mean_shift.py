"""Mean shift: ``init`` / ``step`` / ``run`` on an explicit state, and the ``mean_shift`` entry point.

Each seed moves to the kernel-weighted mean of the data around it (Fukunaga & Hostetler 1975;
Cheng 1995; Comaniciu & Meer 2002) until its shift is at most ``tol`` bandwidths. Converged seeds
are frozen *and skipped*: every step gathers the seeds still moving into query blocks, so the work
of an iteration is proportional to the seeds that are left, inside one ``lax.while_loop``.

Example:
  >>> import numpy as np, jaxshift
  >>> rng = np.random.default_rng(0)
  >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(8, 1, (50, 2))])
  >>> result = jaxshift.mean_shift(X, 2.0)
  >>> int(result.n_clusters)
  2
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxshift import _validation as v
from jaxshift import attention, sharding
from jaxshift.clusters import cluster_sizes, merge_modes, nearest_center, orphans_removed, sorted_runs
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce import (
    DEFAULT_DATA_BLOCK,
    DEFAULT_QUERY_BLOCK,
    PreparedData,
    block_sums,
    log_weights,
    prepare_data,
    spatial_order,
)

Array = jax.Array


class MeanShiftState(NamedTuple):
    """The state of every seed; arrays only, dtypes fixed at :func:`init`."""

    position: Array  # shape=(m, d)
    converged: Array  # shape=(m,), bool: last shift <= tol bandwidths
    dropped: Array  # shape=(m,), bool: no data within reach of the kernel (compact kernels only)
    log_intensity: Array  # shape=(m,): log kernel sum at the position before the last step
    n_iter: Array  # shape=(m,), int32: steps taken by each seed
    iteration: Array  # shape=(), int32: steps of the whole loop


class MeanShiftResult(NamedTuple):
    """What :func:`mean_shift` returns."""

    modes: Array  # shape=(m, d): each seed's final position
    converged: Array  # shape=(m,), bool
    dropped: Array  # shape=(m,), bool: seeds with no data in reach, left out of the clusters
    n_iter: Array  # shape=(), int32: iterations run (the slowest seed's)
    centers: Array  # shape=(max_clusters, d): the first n_clusters rows are valid, the rest zero
    n_clusters: Array  # shape=(), int32
    labels: Array  # shape=(n,), int32: cluster of each data point, -1 for orphans
    mode_labels: Array  # shape=(m,), int32: cluster of each seed's mode, -1 if dropped
    cluster_sizes: Array  # shape=(max_clusters,), int32: points labelled to each cluster
    bandwidth: Array  # shape=() or (d,): the bandwidth used (the chosen one for "auto")

    @property
    def all_converged(self) -> Array:
        """Whether every seed that was not dropped converged within ``max_iter``."""
        return jnp.all(self.converged | self.dropped, axis=-1)


def init(seeds: Array) -> MeanShiftState:
    """Start every seed at its position."""
    m = seeds.shape[0]
    return MeanShiftState(
        position=seeds,
        converged=jnp.zeros((m,), bool),
        dropped=jnp.zeros((m,), bool),
        log_intensity=jnp.full((m,), -jnp.inf, seeds.dtype),
        n_iter=jnp.zeros((m,), jnp.int32),
        iteration=jnp.zeros((), jnp.int32),
    )


def step(
    state: MeanShiftState,
    data: PreparedData,
    *,
    kernel: Kernel,
    tol: float | Array = 1e-3,
    query_block: int = DEFAULT_QUERY_BLOCK,
    axis_name=None,
) -> MeanShiftState:
    """Move every seed that is still active to the weighted mean of the data around it.

    Args:
      state: the current state.
      data: the data, from :func:`jaxshift.reduce.prepare_data` (scaled by the bandwidth).
      kernel: the kernel; the step weights are its shadow ``g``.
      tol: a seed converges when it moves at most ``tol`` bandwidths.
      query_block: seeds per block.
      axis_name: inside :func:`jax.shard_map`, the mesh axis the data is split along (the state
        is replicated; see :mod:`jaxshift.sharding`).
    """

    def move(y):
        sums = block_sums(y, data, kernel, axis_name=axis_name)
        empty = sums.total <= 0
        mean = sums.moment / jnp.where(empty, 1.0, sums.total)[:, None]
        return jnp.where(empty[:, None], y, mean), empty, jnp.log(sums.total) + sums.log_scale

    return step_active(state, move, tol=tol, inv_bandwidth=data.inv_bandwidth, query_block=query_block)


def step_active(state: MeanShiftState, move, *, tol, inv_bandwidth, query_block: int) -> MeanShiftState:
    """One step of the seeds still active, in blocks of ``query_block``, by ``move``.

    ``move(y)`` takes a (q, d) block of positions and returns their new positions, whether each
    had no data in reach (``empty``: then it is dropped), and the log kernel sum at ``y``.
    """
    m = state.position.shape[0]
    block = max(1, min(query_block, m))
    n_slots = -(-m // block) * block
    active = ~(state.converged | state.dropped)
    (slots,) = jnp.nonzero(active, size=n_slots, fill_value=m)  # m = out of range: dropped
    n_blocks = -(-jnp.sum(active, dtype=jnp.int32) // block)

    def move_block(b, st: MeanShiftState) -> MeanShiftState:
        index = jax.lax.dynamic_slice(slots, (b * block,), (block,))
        # empty slots read the block's first seed (always a real one), keeping its bounding box tight
        y = st.position[jnp.where(index < m, index, index[0])]
        new, empty, log_intensity = move(y)
        shift_sq = jnp.sum(jnp.square((new - y) * inv_bandwidth), axis=1)

        def put(a, value):
            return a.at[index].set(value, mode="drop")

        return st._replace(
            position=put(st.position, new),
            converged=put(st.converged, ~empty & (shift_sq <= jnp.square(tol))),
            dropped=put(st.dropped, empty),
            log_intensity=put(st.log_intensity, log_intensity),
            n_iter=put(st.n_iter, st.n_iter[jnp.minimum(index, m - 1)] + 1),
        )

    state = jax.lax.fori_loop(0, n_blocks, move_block, state)
    return state._replace(iteration=state.iteration + 1)


def run(
    state: MeanShiftState,
    data: PreparedData,
    *,
    kernel: Kernel,
    tol: float | Array = 1e-3,
    max_iter: int | Array = 300,
    query_block: int = DEFAULT_QUERY_BLOCK,
    progress=None,
    axis_name=None,
) -> MeanShiftState:
    """Step until every seed has converged (or was dropped), or ``max_iter`` steps were taken.

    ``progress``, if given, is called from inside the loop (``jax.debug.callback``) as
    ``progress(iteration, seeds_still_moving)`` after every step.
    """

    def advance(st):
        return step(st, data, kernel=kernel, tol=tol, query_block=query_block, axis_name=axis_name)

    return run_steps(state, advance, max_iter, progress)


def run_steps(state: MeanShiftState, advance, max_iter: int | Array, progress=None) -> MeanShiftState:
    """``state = advance(state)`` under ``lax.while_loop`` until no seed is active or the state's
    ``iteration`` reaches ``max_iter``."""

    def cond(st: MeanShiftState) -> Array:
        return (st.iteration < max_iter) & ~jnp.all(st.converged | st.dropped)

    def body(st: MeanShiftState) -> MeanShiftState:
        st = advance(st)
        if progress is not None:
            jax.debug.callback(progress, st.iteration, jnp.sum(~(st.converged | st.dropped)))
        return st

    return jax.lax.while_loop(cond, body, state)


LABEL_RULES = ("basin", "nearest")
BANDWIDTH_NAMES = ("auto", "scott", "silverman", "normal_gradient")


def _named_bandwidth(data: Array, name: str, kernel: Kernel) -> Array:
    """A bandwidth chosen from the data for the Gaussian, carried over to ``kernel``."""
    # bandwidth selection sits above mean shift (its sweep runs mean shift), hence the late import
    from jaxshift.bandwidth import clustering_bandwidth, rule_of_thumb

    v.check_choice(name, "bandwidth", BANDWIDTH_NAMES)
    if data.shape[0] < 2:
        raise ValueError(f'bandwidth: "{name}" needs at least 2 data points, got {data.shape[0]}')
    gaussian = clustering_bandwidth(data) if name == "auto" else rule_of_thumb(data, name)
    dim = data.shape[1]
    return gaussian * math.exp(kernel.log_canonical_scale(dim) - get_kernel("gaussian").log_canonical_scale(dim))


_PER_SEED_FIELDS = ("position", "converged", "dropped", "log_intensity", "n_iter")


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def mean_shift(
    data,
    bandwidth,
    *,
    kernel: str | Kernel = "gaussian",
    seeds=None,
    weights=None,
    max_iter: int | Array = 300,
    tol: float | Array = 1e-3,
    labels: str | None = None,
    cluster_all: bool = True,
    merge_radius: float | Array = 1.0,
    max_clusters: int | None = None,
    query_block: int | None = None,
    data_block: int = DEFAULT_DATA_BLOCK,
    progress=None,
    backend: str = "auto",
) -> MeanShiftResult:
    """Cluster ``data`` by the modes its kernel density estimate climbs to.

    Args:
      data: (n, d) points.
      bandwidth: scalar or (d,) per-dimension bandwidth (the Gaussian's standard deviation, the
        compact kernels' radius); may be traced, so it can be ``vmap``-ped or ``jit``-ted over.
        Or a name: ``"auto"`` (chosen for clustering, see
        :func:`jaxshift.bandwidth.clustering_bandwidth`) or a rule of thumb (``"scott"``,
        ``"silverman"``, ``"normal_gradient"``), each converted to ``kernel`` by canonical scaling.
      kernel: ``"gaussian"``, ``"flat"`` (scikit-learn's), ``"epanechnikov"`` or ``"biweight"``.
      seeds: (m, d) starting points; the data itself by default.
      weights: optional (n,) non-negative weights of the data points.
      max_iter: the most steps any seed takes.
      tol: a seed converges when its shift is at most ``tol`` bandwidths (scikit-learn: 1e-3).
      labels: ``"basin"`` (each point's own mode's cluster; needs ``seeds=None``) or ``"nearest"``
        (nearest centre, as scikit-learn). Default: ``"basin"`` without seeds, else ``"nearest"``.
      cluster_all: if False, points farther than one bandwidth from their centre get label -1.
      merge_radius: modes closer than this many bandwidths are one cluster.
      max_clusters: static number of centre rows (default: one per seed, never truncated).
      query_block, data_block: tile sizes of the kernel reduction (``query_block`` defaults to
        1024 seeds, 32768 on the attention path).
      progress: optional ``progress(iteration, seeds_still_moving)``, called after every step
        (the computation stays pure without it).
      backend: ``"blockwise"`` (the exact reduction of :mod:`jaxshift.reduce`, in the data's
        precision), ``"attention"`` (Gaussian only: half-precision fused attention steps, see
        :mod:`jaxshift.attention`, then exact steps from one representative per 0.05-bandwidth
        cell; each seed's ``n_iter`` is its representative's) or ``"auto"`` (attention for the
        Gaussian with float32 data and at least 32768 seeds on an NVIDIA GPU, else blockwise).

    Returns:
      A :class:`MeanShiftResult`.

    Raises:
      ValueError: for bad input, naming the argument (values are only checked outside ``jit``).
    """
    kernel = get_kernel(kernel)
    placement = sharding.current()
    data = v.as_points(data, "data")
    n, dim = data.shape
    if isinstance(bandwidth, str):
        bandwidth = _named_bandwidth(data, bandwidth, kernel)
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype)
    weights = v.as_weights(weights, n, data.dtype)
    seeds = None if seeds is None else v.as_points(seeds, "seeds", dim=dim).astype(data.dtype)
    v.check_positive_int(max_iter, "max_iter")
    v.check_non_negative(tol, "tol")
    v.check_non_negative(merge_radius, "merge_radius")
    labels = ("basin" if seeds is None else "nearest") if labels is None else labels
    v.check_choice(labels, "labels", LABEL_RULES)
    if labels == "basin" and seeds is not None:
        raise ValueError('labels: "basin" needs every data point as a seed (seeds=None); use "nearest"')
    m = n if seeds is None else seeds.shape[0]
    if max_clusters is not None:
        v.check_positive_int(max_clusters, "max_clusters")
    implementation = None if placement is not None else _attention_implementation(backend, kernel, dim, data.dtype, m)
    if query_block is None:
        query_block = DEFAULT_QUERY_BLOCK if implementation is None else attention.DEFAULT_QUERY_BLOCK
    v.check_blocks(query_block, data_block)
    return _mean_shift(
        data,
        bandwidth,
        seeds,
        weights,
        max_iter,
        tol,
        merge_radius,
        kernel=kernel,
        labels=labels,
        cluster_all=cluster_all,
        max_clusters=m if max_clusters is None else int(max_clusters),
        query_block=query_block,
        data_block=data_block,
        progress=None if placement is not None else progress,
        attention_implementation=implementation,
        data_axis=placement,
    )


BACKENDS = ("auto", "blockwise", "attention")


def _attention_implementation(backend: str, kernel: Kernel, dim: int, dtype, n_seeds: int) -> str | None:
    """The fused-attention implementation ``backend`` asks for, or None for the blockwise path.
    ``"auto"`` keeps float64 data on the exact path (asking for doubles is asking for exactness),
    and fewer seeds than one attention block too (measured faster on the fp32 path)."""
    v.check_choice(backend, "backend", BACKENDS)
    suitable = kernel.name == "gaussian" and dim <= attention.MAX_DIM
    if backend == "attention" and not suitable:
        raise ValueError(
            f'backend: "attention" needs the Gaussian kernel and at most {attention.MAX_DIM} dimensions, '
            f"got kernel {kernel.name!r} and {dim} dimensions"
        )
    on_gpu = attention.attention_available()
    worth_it = dtype != jnp.float64 and n_seeds >= attention.DEFAULT_QUERY_BLOCK
    if backend == "blockwise" or (backend == "auto" and not (suitable and on_gpu and worth_it)):
        return None
    return "cudnn" if on_gpu else "emulated"


def bin_seeds(data, bin_size: float, min_bin_freq: int = 1) -> np.ndarray:
    """Seeds at the centres of the grid cells of side ``bin_size`` that hold at least
    ``min_bin_freq`` points (scikit-learn's bin seeding); the data itself when every point has a
    cell of its own. Runs on the host: its output size depends on the data."""
    data = np.asarray(v.as_points(data, "data"))
    v.check_non_negative(bin_size, "bin_size")
    v.check_positive_int(min_bin_freq, "min_bin_freq")
    if bin_size == 0:
        return data
    cells, counts = np.unique(np.round(data / bin_size), axis=0, return_counts=True)
    cells = cells[counts >= min_bin_freq]
    if len(cells) == len(data):
        return data
    if len(cells) == 0:
        raise ValueError(f"min_bin_freq: no cell of side {bin_size:g} holds {min_bin_freq} points")
    return (cells * bin_size).astype(data.dtype)


def _climb(
    data,
    bandwidth,
    seeds,
    weights,
    max_iter,
    tol,
    *,
    kernel,
    query_block,
    data_block,
    progress=None,
    attention_implementation=None,
    data_axis=None,
) -> MeanShiftState:
    """Run every seed (the data when ``seeds`` is None) to its mode; the state in the seeds' order.

    With ``attention_implementation`` (``"cudnn"`` or ``"emulated"``) the Gaussian climb takes the
    half-precision attention path of :func:`_climb_attention`."""
    # Work relative to the data's centre: the answer is translation-equivariant, and small
    # coordinates keep float32 accurate for data far from the origin.
    origin = jnp.mean(data, axis=0)
    centred = data - origin
    if weights is not None:
        weights = weights / jnp.max(weights)
    start = centred if seeds is None else seeds - origin
    seed_order = None
    if kernel.compact:
        # Spatially ordered blocks let the reduction skip the data blocks out of the kernel's reach.
        data_order = spatial_order(centred, bandwidth)
        seed_order = data_order if seeds is None else spatial_order(start, bandwidth)
        centred = centred[data_order]
        weights = None if weights is None else weights[data_order]
    elif attention_implementation is not None:
        seed_order = spatial_order(start, bandwidth)  # compact seed blocks keep half precision accurate
    if seed_order is not None:
        start = start[seed_order]
    if data_axis is not None:
        state = _sharded_run(
            centred,
            start,
            bandwidth,
            weights,
            max_iter,
            tol,
            kernel=kernel,
            query_block=query_block,
            data_block=data_block,
            data_axis=data_axis,
        )
    elif attention_implementation is None:
        state = _blockwise_run(
            centred,
            start,
            bandwidth,
            weights,
            max_iter,
            tol,
            kernel=kernel,
            query_block=query_block,
            data_block=data_block,
            progress=progress,
        )
    else:
        state = _climb_attention(
            centred,
            start,
            bandwidth,
            weights,
            max_iter,
            tol,
            query_block=query_block,
            data_block=data_block,
            implementation=attention_implementation,
            progress=progress,
        )
    if seed_order is not None:
        unsort = jnp.argsort(seed_order)
        state = state._replace(**{f: getattr(state, f)[unsort] for f in _PER_SEED_FIELDS})
    return state._replace(position=state.position + origin)


def _blockwise_run(
    data, start, bandwidth, weights, max_iter, tol, *, kernel, query_block, data_block, progress=None, axis_name=None
) -> MeanShiftState:
    """:func:`run` from ``start`` over the prepared ``data`` (a shard of it, with ``axis_name``)."""
    prepared = prepare_data(data, bandwidth, weights, data_block)
    return run(
        init(start),
        prepared,
        kernel=kernel,
        tol=tol,
        max_iter=max_iter,
        query_block=query_block,
        progress=progress,
        axis_name=axis_name,
    )


def _sharded_run(data, start, bandwidth, weights, max_iter, tol, *, kernel, query_block, data_block, data_axis):
    """:func:`_blockwise_run` with the data split along ``data_axis`` and the seeds replicated:
    every device steps all seeds over its shard, the sums combined by ``psum``, so the states
    stay identical."""
    whole = data_axis.spec(False)

    def local(data, start, bandwidth, max_iter, tol, *weights):
        weights = weights[0] if weights else None
        return _blockwise_run(
            data,
            start,
            bandwidth,
            weights,
            max_iter,
            tol,
            kernel=kernel,
            query_block=query_block,
            data_block=data_block,
            axis_name=data_axis.axis,
        )

    extra = () if weights is None else (weights,)
    args = (data, start, bandwidth, jnp.asarray(max_iter), jnp.asarray(tol, data.dtype)) + extra
    return sharding.shard_over(data_axis, local, args, (True, False, False, False, False) + (True,) * len(extra), whole)


FAST_TOL = 1e-2  # bandwidths: the half-precision phase stops here, above its rounding (~1e-3)
REPRESENTATIVE_CELL = 0.05  # bandwidths: seeds this close after the fast phase finish as one


def _climb_attention(
    data, start, bandwidth, weights, max_iter, tol, *, query_block, data_block, implementation, progress
) -> MeanShiftState:
    """Gaussian mean shift in two phases: half-precision attention steps (:mod:`jaxshift.attention`)
    until every seed moves less than ``FAST_TOL`` bandwidths, then exact fp32 steps from one
    representative per grid cell of ``REPRESENTATIVE_CELL`` bandwidths, whose mode its seeds share."""
    m, dim = start.shape
    gaussian = get_kernel("gaussian")
    exact = prepare_data(data, bandwidth, weights, data_block)
    inv_bandwidth = exact.inv_bandwidth
    scaled = data * inv_bandwidth
    log_weight = None if weights is None else log_weights(weights)

    def exact_mean(y):
        # in blocks of the blockwise path's size (a whole attention block as one tile compiles for minutes on GPUs)
        q = y.shape[0]
        chunk = min(q, DEFAULT_QUERY_BLOCK)
        padded = jnp.pad(y, ((0, -q % chunk), (0, 0)), mode="edge").reshape(-1, chunk, dim)

        def one(yb):
            sums = block_sums(yb, exact, gaussian)
            return sums.moment / sums.total[:, None]

        return jax.lax.map(one, padded).reshape(-1, dim)[:q]

    def move(y):
        ys = y * inv_bandwidth
        radius = attention.block_radius(ys)
        new = jax.lax.cond(
            radius <= attention.MAX_BLOCK_RADIUS,
            lambda: attention.attention_means(ys, scaled, log_weight, implementation=implementation) / inv_bandwidth,
            lambda: exact_mean(y),
        )
        # A shift within the block's rounding noise is no shift: it stops the seed (for the exact
        # finish) instead of letting it wander until max_iter.
        shift = jnp.sqrt(jnp.sum(jnp.square((new - y) * inv_bandwidth), axis=1))
        new = jnp.where((shift <= attention.rounding_floor(radius))[:, None], y, new)
        return new, jnp.zeros(y.shape[:1], bool), jnp.full(y.shape[:1], -jnp.inf, y.dtype)

    fast_tol = jnp.maximum(tol, FAST_TOL)
    fast = run_steps(
        init(start),
        lambda st: step_active(st, move, tol=fast_tol, inv_bandwidth=inv_bandwidth, query_block=query_block),
        max_iter,
        progress,
    )

    # One representative per occupied cell (the first seed in it), found by sorting the cells.
    cells = jnp.floor(jnp.clip(fast.position * inv_bandwidth / REPRESENTATIVE_CELL, -(2.0**30), 2.0**30))
    cells = cells.astype(jnp.int32)
    order = jnp.lexsort(tuple(cells[:, k] for k in reversed(range(dim)))).astype(jnp.int32)
    first, group_sorted, n_groups = sorted_runs(cells[order])
    group = jnp.zeros((m,), jnp.int32).at[order].set(group_sorted)
    representative = jnp.zeros((m,), jnp.int32).at[jnp.where(first, group_sorted, m)].set(order, mode="drop")
    polish = init(fast.position[representative])._replace(
        converged=jnp.arange(m) >= n_groups, n_iter=fast.n_iter[representative]
    )
    polish = run(
        polish, exact, kernel=gaussian, tol=tol, max_iter=max_iter, query_block=DEFAULT_QUERY_BLOCK, progress=progress
    )
    return MeanShiftState(
        position=polish.position[group],
        converged=polish.converged[group],
        dropped=jnp.zeros((m,), bool),
        log_intensity=polish.log_intensity[group],
        n_iter=polish.n_iter[group],
        iteration=fast.iteration + polish.iteration,
    )


# Compiled once per shape and structural option, so eager calls reuse it; inside a caller's jit
# it is simply inlined.
@partial(
    jax.jit,
    static_argnames=(
        "kernel",
        "labels",
        "cluster_all",
        "max_clusters",
        "query_block",
        "data_block",
        "progress",
        "attention_implementation",
        "data_axis",
    ),
)
def _mean_shift(
    data,
    bandwidth,
    seeds,
    weights,
    max_iter,
    tol,
    merge_radius,
    *,
    kernel,
    labels,
    cluster_all,
    max_clusters,
    query_block,
    data_block,
    progress=None,
    attention_implementation=None,
    data_axis=None,
) -> MeanShiftResult:
    # With data_axis, the arrays arrive whole (gathered by mean_shift's follow_data): seeds,
    # ordering and labels work on the whole data, and only the reduction splits it again.
    state = _climb(
        data,
        bandwidth,
        seeds,
        weights,
        max_iter,
        tol,
        kernel=kernel,
        query_block=query_block,
        data_block=data_block,
        progress=progress,
        attention_implementation=attention_implementation,
        data_axis=data_axis,
    )
    valid = ~state.dropped
    clusters = merge_modes(
        state.position, state.log_intensity, valid, bandwidth, radius=merge_radius, max_clusters=max_clusters
    )
    centers = clusters.centers
    if labels == "basin":
        point_labels = clusters.mode_labels
        safe = jnp.clip(point_labels, 0, max_clusters - 1)
        distance = jnp.sqrt(jnp.sum(jnp.square((data - centers[safe]) / bandwidth), axis=1))
        distance = jnp.where((point_labels >= 0) & (point_labels < max_clusters), distance, jnp.inf)
    else:
        point_labels, distance = nearest_center(data, centers, clusters.n_clusters, bandwidth)
    if not cluster_all:
        point_labels = orphans_removed(point_labels, distance)
    return MeanShiftResult(
        modes=state.position,
        converged=state.converged,
        dropped=state.dropped,
        n_iter=state.iteration,
        centers=centers,
        n_clusters=clusters.n_clusters,
        labels=point_labels,
        mode_labels=clusters.mode_labels,
        cluster_sizes=cluster_sizes(point_labels, max_clusters),
        bandwidth=bandwidth,
    )
