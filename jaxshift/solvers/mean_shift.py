"""Mean shift: ``init`` / ``step`` / ``run`` on an explicit state, and :func:`solve`, what
:func:`jaxshift.mean_shift` computes. Pure and unvalidated: the checks are the entry point's.

Each seed moves to the kernel-weighted mean of the data around it (Fukunaga & Hostetler 1975;
Cheng 1995; Comaniciu & Meer 2002) until its shift is at most ``tol`` bandwidths. Converged seeds
are frozen *and skipped*: every step gathers the seeds still moving into query blocks (in the
state's ``order``: Morton order keeps a block compact in space), so the work of an iteration is
proportional to the seeds that are left.

Positions live in the data's frame (relative to ``PreparedData.origin``); :func:`modes` gives them
back in the data's coordinates.

Example:
  >>> import jax.numpy as jnp, numpy as np
  >>> from jaxshift.kernels import get_kernel
  >>> from jaxshift.reduce import prepare_data
  >>> from jaxshift.solvers import mean_shift
  >>> X = jnp.asarray(np.random.default_rng(0).normal(size=(100, 2)))
  >>> data = prepare_data(X, 1.0)
  >>> state, info, n_iter = mean_shift.run(mean_shift.init(X, data), data, kernel=get_kernel("gaussian"))
  >>> int(info.moving), mean_shift.modes(state, data).shape
  (0, (100, 2))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp

from jaxshift.kernels import GAUSSIAN, Kernel
from jaxshift.reduce import (
    DEFAULT_DATA_BLOCK,
    DEFAULT_QUERY_BLOCK,
    PreparedData,
    attention,
    block_sums,
    cells,
    centre,
    log_weights,
    prepare_data,
    sharding,
    spatial_order,
)
from jaxshift.solvers import implicit, loop
from jaxshift.solvers.clusters import cluster_sizes, merge_modes, nearest_center, orphans_removed, sorted_runs

Array = jax.Array


class MeanShiftState(NamedTuple):
    """The state of every seed; arrays only, dtypes fixed at :func:`init`."""

    position: Array  # shape=(m, d): relative to the data's origin
    converged: Array  # shape=(m,), bool: last shift <= tol bandwidths
    dropped: Array  # shape=(m,), bool: no data within reach of the kernel (compact kernels only)
    log_intensity: Array  # shape=(m,): log kernel sum at the position before the last step
    seed_steps: Array  # shape=(m,), int32: steps taken by each seed
    order: Array  # shape=(m,), int32: the order in which seeds are gathered into blocks
    ordered_for: Array  # shape=(), int32: seeds moving when ``order`` was last made (neighbour cells re-sort)
    codes: Array  # shape=(m,), uint32: the seeds' codes along the neighbour cells' curve, in ``order`` (else 0)


class MeanShiftInfo(NamedTuple):
    """What one step reports."""

    moving: Array  # shape=(), int32: seeds neither converged nor dropped after the step


class MeanShiftResult(NamedTuple):
    """What :func:`jaxshift.mean_shift` returns."""

    modes: Array  # shape=(m, d): each seed's final position
    converged: Array  # shape=(m,), bool
    dropped: Array  # shape=(m,), bool: seeds with no data in reach, left out of the clusters
    n_iter: Array  # shape=(), int32: iterations run (the slowest seed's)
    centers: Array  # shape=(max_clusters, d): the first n_clusters rows are valid, the rest zero
    n_clusters: Array  # shape=(), int32
    labels: Array  # shape=(n,), int32: cluster of each data point, -1 for orphans
    mode_labels: Array  # shape=(m,), int32: cluster of each seed's mode, -1 if dropped or truncated
    cluster_sizes: Array  # shape=(max_clusters,), int32: points labelled to each cluster
    bandwidth: Array  # shape=() or (d,): the bandwidth used (the chosen one for "auto")
    truncated: Array  # shape=(), bool: more clusters than max_clusters rows (n_clusters counts them all)
    auto: Any = None  # bandwidth="auto" only: what it did (a jaxshift.AutoReport), else None

    @property
    def all_converged(self) -> Array:
        """Whether every seed that was not dropped converged within ``max_iter``."""
        return jnp.all(self.converged | self.dropped, axis=-1)


def init(seeds: Array, data: PreparedData, *, spatially_ordered: bool = False) -> MeanShiftState:
    """Start every seed at its position (in the data's coordinates).

    Args:
      seeds: (m, d) starting points.
      data: the prepared data (its origin sets the frame).
      spatially_ordered: gather the seeds into blocks in Morton order (compact kernels and the
        attention path: a compact block lets the reduction skip far data, and keeps half precision
        accurate); else in their own order.
    """
    chex.assert_rank(seeds, 2)
    chex.assert_equal_shape_suffix((seeds, data.origin), 1)
    m = seeds.shape[0]
    position = seeds - data.origin
    if spatially_ordered:
        order = spatial_order(position, 1.0 / data.inv_bandwidth).astype(jnp.int32)
    else:
        order = jnp.arange(m, dtype=jnp.int32)
    return MeanShiftState(
        position=position,
        converged=jnp.zeros((m,), bool),
        dropped=jnp.zeros((m,), bool),
        log_intensity=jnp.full((m,), -jnp.inf, seeds.dtype),
        seed_steps=jnp.zeros((m,), jnp.int32),
        order=order,
        ordered_for=jnp.asarray(m, jnp.int32),
        codes=jnp.zeros((m,), jnp.uint32),
    )


def modes(state: MeanShiftState, data: PreparedData) -> Array:
    """The seeds' positions in the data's coordinates."""
    return state.position + data.origin


def _moving(state: MeanShiftState) -> Array:
    return ~(state.converged | state.dropped)


def done(state: MeanShiftState) -> Array:
    """Whether every seed has converged or was dropped."""
    return ~jnp.any(_moving(state))


def step(
    state: MeanShiftState,
    data: PreparedData,
    *,
    kernel: Kernel,
    tol: float | Array = 1e-3,
    query_block: int = DEFAULT_QUERY_BLOCK,
    axis_name=None,
    cell_data: cells.CellData | None = None,
    accelerate: bool = False,
) -> tuple[MeanShiftState, MeanShiftInfo]:
    """Move every seed that is still active to the weighted mean of the data around it (with
    ``accelerate``: one SQUAREM cycle of such steps, :func:`squarem_cycle`).

    Args:
      state: the current state.
      data: the data, from :func:`jaxshift.reduce.prepare_data` (scaled by the bandwidth).
      kernel: the kernel; the step weights are its shadow ``g``.
      tol: a seed converges when it moves at most ``tol`` bandwidths.
      query_block: seeds per block.
      axis_name: inside :func:`jax.shard_map`, the mesh axis the data is split along (the state
        is replicated; see :mod:`jaxshift.reduce.sharding`).
      cell_data: the same data sorted into neighbour cells (:func:`jaxshift.reduce.cells.prepare_cells`,
        compact kernels): each block of seeds is then reduced over the data in its reach only.
      accelerate: SQUAREM cycles instead of single steps (for the Gaussian kernel, whose steps
        never lower the density the cycle's safeguard compares).
    """
    move = _mean_step(data, kernel, axis_name, cell_data)
    if accelerate:
        move = squarem_cycle(move, data.inv_bandwidth, tol)
    layout = None
    if cell_data is not None:
        state = resorted_when_thinned(state, cell_data)
        dim = state.position.shape[1]
        layout = lambda st, block: cells.block_layout(st.order, st.codes, _moving(st), block, dim)  # noqa: E731
    return _advance(state, move, tol=tol, inv_bandwidth=data.inv_bandwidth, query_block=query_block, layout=layout)


def resorted_when_thinned(state: MeanShiftState, cell_data: cells.CellData) -> MeanShiftState:
    """The seeds' order (and codes) made anew from their current positions before every step
    after the first while at least half of the seeds (not dropped) move, and after that once half
    of those moving at the last ordering have stopped.

    The seeds are gathered in order into blocks, and a block is a small box only if its seeds are
    near each other *now*: as the seeds climb, neighbours in the first order drift apart and their
    blocks' boxes, which read all the data in their reach, widen (see :mod:`jaxshift.reduce.cells`).
    At 1e6 points in five blobs, every point a seed, re-ordering when the seeds moving had halved
    took the late steps (a few thousand seeds moving) from ~1.2 s to ~0.1 s; re-ordering every
    step while they nearly all move (about ten steps) took the median block from ~23e3 to ~7e3
    points read. A re-ordering sorts every seed (~0.2 s at 1e6), a few percent of such a step."""
    moving = jnp.sum(_moving(state), dtype=jnp.int32)

    def resort(st):
        order, codes = cells.seed_order(st.position, cell_data)
        return st._replace(order=order, codes=codes, ordered_for=moving)

    seeds = jnp.sum(~state.dropped, dtype=jnp.int32)  # padding seeds start dropped
    stepped = jnp.max(state.seed_steps, initial=0) > 0  # before the first step the order is fresh
    bulk = stepped & (2 * moving >= seeds)
    return jax.lax.cond(bulk | (2 * moving <= state.ordered_for), resort, lambda st: st, state)


def _mean_step(data: PreparedData, kernel: Kernel, axis_name, cell_data):
    """``y -> (weighted means, no data in reach, log kernel sum at y)`` for a block of positions."""

    def move(y):
        if cell_data is None:
            sums = block_sums(y, data, kernel, axis_name=axis_name)
        else:
            sums = cells.cell_sums(y, cell_data, kernel)
        empty = sums.total <= 0
        mean = sums.moment / jnp.where(empty, 1.0, sums.total)[:, None]
        return jnp.where(empty[:, None], y, mean), empty, jnp.log(sums.total) + sums.log_scale

    return move


def squarem_cycle(mean_step, scale, tol):
    """``mean_step`` (``y -> (means, no data in reach, log kernel sum at y)``, as :func:`step`
    takes it) made one SQUAREM cycle (Varadhan & Roland 2008), for :func:`_advance`. Gaussian
    mean shift is an EM algorithm (Carreira-Perpiñán 2007), whose linear convergence is slow when
    the bandwidth is small against the clusters' spread (the step contracts the distance to a Gaussian
    cluster's mode by ``σ² / (σ² + h²)``: ~0.95 for h = σ / 4.5, ~200 steps to ``tol``).

    From ``y0``: two steps ``y1 = F(y0)``, ``y2 = F(y1)``; with ``r = y1 - y0`` and
    ``v = y2 - 2 y1 + y0``, the extrapolation ``y' = y0 - 2αr + α²v``, ``α = -‖r‖ / ‖v‖`` (their
    scheme 3, at most -1: α = -1 gives ``y2``), and a third step ``y3 = F(y')``. The seed moves to
    ``y3`` if the density at ``y'`` is at least that at ``y1`` (Gaussian mean shift never lowers the
    density: the global safeguard of the SQUAREM method), else to ``y2``. For a linear step with
    one rate, ``y'`` is the fixed point itself.

    Converged, as :func:`step`, when its last plain step moved it at most ``tol`` bandwidths
    (``y1`` when ``‖y1 - y0‖`` is already that small). The fixed points are those of :func:`step`;
    a seed near the boundary of two basins may reach the other mode. One cycle costs three steps.
    """

    def move(y0):
        y1, empty, log0 = mean_step(y0)
        y2, _, log1 = mean_step(y1)
        r = (y1 - y0) * scale
        v = (y2 - y1) * scale - r
        r_sq, v_sq = jnp.sum(jnp.square(r), axis=1), jnp.sum(jnp.square(v), axis=1)
        alpha = -jnp.sqrt(r_sq / jnp.where(v_sq > 0, v_sq, 1.0))
        alpha = jnp.where(v_sq > 0, jnp.minimum(alpha, -1.0), -1.0)[:, None]
        extrapolated = y0 - 2.0 * alpha * (y1 - y0) + jnp.square(alpha) * (y2 - 2.0 * y1 + y0)
        y3, empty3, log3 = mean_step(extrapolated)
        first_done = empty | (r_sq <= jnp.square(tol))
        accept = (~first_done & ~empty3 & (log3 >= log1) & jnp.all(jnp.isfinite(extrapolated), axis=1))[:, None]
        new = jnp.where(first_done[:, None], y1, jnp.where(accept, y3, y2))
        base = jnp.where(first_done[:, None], y0, jnp.where(accept, extrapolated, y1))
        log = jnp.where(first_done, log0, jnp.where(accept[:, 0], log3, log1))
        return new, empty, log, base

    return move


def _advance(state: MeanShiftState, move, *, tol, inv_bandwidth, query_block: int, layout=None):
    """One step of the seeds still active, gathered in ``state.order`` into blocks of
    ``query_block``, by ``move``: ``move(y)`` takes a (q, d) block of positions and returns their
    new positions, whether each had no data in reach (then it is dropped), the log kernel sum, and
    optionally the positions the last step started from (the shift that decides convergence is
    measured from them; default ``y``). ``layout(state, block)``, if given, returns the blocks'
    ``(slots, n_blocks)`` instead (:func:`jaxshift.reduce.cells.block_layout`)."""
    m = state.position.shape[0]
    block = max(1, min(query_block, m))
    if layout is None:
        n_slots = -(-m // block) * block
        active = _moving(state)
        (ranks,) = jnp.nonzero(active[state.order], size=n_slots, fill_value=m)
        slots = jnp.concatenate([state.order, jnp.full((1,), m, jnp.int32)])[ranks]  # m = out of range: dropped
        n_blocks = -(-jnp.sum(active, dtype=jnp.int32) // block)
    else:
        slots, n_blocks = layout(state, block)

    def move_block(b, st: MeanShiftState) -> MeanShiftState:
        index = jax.lax.dynamic_slice(slots, (b * block,), (block,))
        # empty slots read the block's first seed (always a real one), keeping its bounding box tight
        y = st.position[jnp.where(index < m, index, index[0])]
        new, empty, log_intensity, *base = move(y)
        shift_sq = jnp.sum(jnp.square((new - (base[0] if base else y)) * inv_bandwidth), axis=1)

        def put(a, value):
            return a.at[index].set(value, mode="drop")

        return st._replace(
            position=put(st.position, new),
            converged=put(st.converged, ~empty & (shift_sq <= jnp.square(tol))),
            dropped=put(st.dropped, empty),
            log_intensity=put(st.log_intensity, log_intensity),
            seed_steps=put(st.seed_steps, st.seed_steps[jnp.minimum(index, m - 1)] + 1),
        )

    state = jax.lax.fori_loop(0, n_blocks, move_block, state)
    return state, MeanShiftInfo(jnp.sum(_moving(state), dtype=jnp.int32))


def run(
    state: MeanShiftState,
    data: PreparedData,
    *,
    kernel: Kernel,
    tol: float | Array = 1e-3,
    max_iter: int | Array = 300,
    query_block: int = DEFAULT_QUERY_BLOCK,
    progress: Array | None = None,
    axis_name=None,
    cell_data: cells.CellData | None = None,
    accelerate: bool = False,
) -> tuple[MeanShiftState, MeanShiftInfo, Array]:
    """:func:`step` (SQUAREM cycles with ``accelerate``) until every seed has converged (or was
    dropped), or ``max_iter`` steps, on the loop driver (:func:`jaxshift.solvers.loop.run`).
    ``progress`` (a token of :func:`~jaxshift.solvers.loop.progress_token`) reports
    ``(iteration, seeds still moving)``.

    Returns:
      ``(state, info, n_iter)``.
    """

    def advance(st):
        return step(
            st,
            data,
            kernel=kernel,
            tol=tol,
            query_block=query_block,
            axis_name=axis_name,
            cell_data=cell_data,
            accelerate=accelerate,
        )

    return loop.run(advance, state, max_iter=max_iter, done=done, progress=progress, report_value=_report)


def _report(state, info):
    return info.moving


# ------------------------------------------------------------------------ whole climbs


class Climb(NamedTuple):
    """Every seed run to its mode, in the data's coordinates and the seeds' order."""

    modes: Array  # shape=(m, d)
    converged: Array  # shape=(m,), bool
    dropped: Array  # shape=(m,), bool
    log_intensity: Array  # shape=(m,)
    seed_steps: Array  # shape=(m,), int32
    n_iter: Array  # shape=(), int32


def _climb_result(state: MeanShiftState, data: PreparedData, n_iter) -> Climb:
    return Climb(modes(state, data), state.converged, state.dropped, state.log_intensity, state.seed_steps, n_iter)


# Compact kernels in 1-3 dimensions climb over neighbour cells (jaxshift.reduce.cells) from this many data points:
# below, the blockwise path is as fast (1.1x slower at 3000 2-D points, flat radius 1.5) and compiles ~1.4 s sooner
# (1.7 s against 3.1 s cold at 1000 points); at 1e4 the cells are 1.5-3.9x faster, at 1e5 4x.
CELLS_MIN_POINTS = 4096


def climb(
    data: Array,
    seeds: Array,
    bandwidth: Array,
    weights: Array | None = None,
    *,
    kernel: Kernel,
    tol: float | Array = 1e-3,
    max_iter: int | Array = 300,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
    backend: str = "blockwise",
    data_axis: sharding.DataAxis | None = None,
    progress: Array | None = None,
    n_seeds: Array | None = None,
    accelerate: bool = False,
) -> Climb:
    """Run every seed to its mode: :func:`prepare_data`, :func:`init`, :func:`run`.

    Seeds from ``n_seeds`` on (padding, see :func:`solve`) start dropped on the blockwise path:
    they take no step and are not reported as moving.

    ``backend`` is ``"blockwise"`` (exact), or ``"cudnn"`` / ``"emulated"`` for the two-phase
    attention path of :func:`climb_attention`. With ``data_axis`` the data is split along that mesh
    axis (:func:`jax.shard_map`) and the seeds replicated: every device steps all seeds over its
    shard, the sums combined by ``psum``, so the states stay identical. ``accelerate`` (Gaussian,
    not the attention path): SQUAREM cycles (:func:`squarem_cycle`) instead of plain steps.
    """
    if weights is not None:
        weights = weights / jnp.max(weights)
    if backend != "blockwise":
        return climb_attention(
            data,
            seeds,
            bandwidth,
            weights,
            tol=tol,
            max_iter=max_iter,
            query_block=query_block,
            data_block=data_block,
            implementation=backend,
            progress=progress,
        )
    options = dict(kernel=kernel, tol=tol, max_iter=max_iter, query_block=query_block, accelerate=accelerate)
    if data_axis is None:
        prepared, layout = lay_out(
            data, bandwidth, weights, kernel=kernel, data_block=data_block, query_block=query_block
        )
        state = _without_padding(start(seeds, prepared, layout, kernel=kernel), n_seeds)
        state, _, n_iter = run(state, prepared, progress=progress, **dict(options, **layout))
        return _climb_result(state, prepared, n_iter)

    # Sharded: one frame and one seed state for all devices, the data split along the axis.
    origin = jnp.mean(data, axis=0)

    def local(data, seeds, bandwidth, origin, tol, max_iter, *weights):
        weights = weights[0] if weights else None
        prepared = prepare_data(data, bandwidth, weights, data_block, origin=origin, spatially_ordered=kernel.compact)
        state = init(seeds, prepared, spatially_ordered=kernel.compact)
        state, _, n_iter = run(state, prepared, axis_name=data_axis.axis, **dict(options, tol=tol, max_iter=max_iter))
        return _climb_result(state, prepared, n_iter)

    extra = () if weights is None else (weights,)
    args = (data, seeds, bandwidth, origin, jnp.asarray(tol, data.dtype), jnp.asarray(max_iter)) + extra
    split = (True, False, False, False, False, False) + (True,) * len(extra)
    return sharding.shard_over(data_axis, local, args, split, data_axis.spec(False))


def lay_out(
    data: Array,
    bandwidth: Array,
    weights: Array | None = None,
    *,
    kernel: Kernel,
    data_block: int = DEFAULT_DATA_BLOCK,
    query_block: int = DEFAULT_QUERY_BLOCK,
    min_cell_points: int | None = None,
) -> tuple[PreparedData, dict]:
    """The data prepared as :func:`climb` runs on them, and the options of :func:`run` that go with
    that layout: neighbour cells for a compact kernel in at most ``cells.MAX_DIM`` dimensions from
    ``min_cell_points`` points (default ``CELLS_MIN_POINTS``; each block of seeds reads only the
    data in its reach), else blocks (in Morton order for a compact kernel, so that out-of-reach
    blocks are skipped)."""
    min_cell_points = CELLS_MIN_POINTS if min_cell_points is None else min_cell_points
    if kernel.compact and data.shape[1] <= cells.MAX_DIM and data.shape[0] >= min_cell_points:
        prepared = prepare_data(data, bandwidth, weights, data_block)
        return prepared, dict(cell_data=cells.prepare_cells(prepared), query_block=min(query_block, cells.QUERY_BLOCK))
    return prepare_data(data, bandwidth, weights, data_block, spatially_ordered=kernel.compact), {}


def start(seeds: Array, data: PreparedData, layout: dict, *, kernel: Kernel) -> MeanShiftState:
    """:func:`init` with the seeds gathered in the order the layout of :func:`lay_out` wants."""
    cell_data = layout.get("cell_data")
    if cell_data is None:
        return init(seeds, data, spatially_ordered=kernel.compact)
    state = init(seeds, data)
    order, codes = cells.seed_order(state.position, cell_data)
    return state._replace(order=order, codes=codes)


def _without_padding(state: MeanShiftState, n_seeds: Array | None) -> MeanShiftState:
    if n_seeds is None:
        return state
    return state._replace(dropped=state.dropped | (jnp.arange(state.dropped.shape[0]) >= n_seeds))


FAST_TOL = 1e-2  # bandwidths: the half-precision phase stops here, above its rounding (~1e-3)
REPRESENTATIVE_CELL = 0.05  # bandwidths: seeds this close after the fast phase finish as one


def attention_step(
    state: MeanShiftState,
    data: PreparedData,
    scaled_data: Array,
    log_weight: Array | None,
    *,
    tol: float | Array,
    query_block: int,
    implementation: str,
) -> tuple[MeanShiftState, MeanShiftInfo]:
    """A Gaussian step by half-precision fused attention (:mod:`jaxshift.reduce.attention`) over
    ``scaled_data`` ((n, d), relative to ``data.origin``, in bandwidths); blocks of seeds too wide
    for half precision take the exact step over ``data``."""
    inv_bandwidth = data.inv_bandwidth
    dim = state.position.shape[1]

    def exact_mean(y):
        # in blocks of the blockwise path's size (a whole attention block as one tile compiles for minutes on GPUs)
        q = y.shape[0]
        chunk = min(q, DEFAULT_QUERY_BLOCK)
        padded = jnp.pad(y, ((0, -q % chunk), (0, 0)), mode="edge").reshape(-1, chunk, dim)

        def one(yb):
            sums = block_sums(yb, data, GAUSSIAN)
            return sums.moment / sums.total[:, None]

        return jax.lax.map(one, padded).reshape(-1, dim)[:q]

    def move(y):
        ys = y * inv_bandwidth
        radius = attention.block_radius(ys)
        new = jax.lax.cond(
            radius <= attention.MAX_BLOCK_RADIUS,
            lambda: (
                attention.attention_means(ys, scaled_data, log_weight, implementation=implementation) / inv_bandwidth
            ),
            lambda: exact_mean(y),
        )
        # A shift within the block's rounding noise is no shift: it stops the seed (for the exact
        # finish) instead of letting it wander until max_iter.
        shift = jnp.sqrt(jnp.sum(jnp.square((new - y) * inv_bandwidth), axis=1))
        new = jnp.where((shift <= attention.rounding_floor(radius))[:, None], y, new)
        return new, jnp.zeros(y.shape[:1], bool), jnp.full(y.shape[:1], -jnp.inf, y.dtype)

    return _advance(state, move, tol=tol, inv_bandwidth=inv_bandwidth, query_block=query_block)


def climb_attention(
    data, seeds, bandwidth, weights, *, tol, max_iter, query_block, data_block, implementation, progress=None
) -> Climb:
    """Gaussian mean shift in two phases: :func:`attention_step` until every seed moves less than
    ``FAST_TOL`` bandwidths, then exact :func:`step` s from one representative per grid cell of
    ``REPRESENTATIVE_CELL`` bandwidths, whose mode its seeds share."""
    m, dim = seeds.shape
    exact = prepare_data(data, bandwidth, weights, data_block)
    inv_bandwidth = exact.inv_bandwidth
    scaled = (data - exact.origin) * inv_bandwidth
    log_weight = None if weights is None else log_weights(weights)
    fast_tol = jnp.maximum(tol, FAST_TOL)

    def fast_step(st):
        return attention_step(
            st, exact, scaled, log_weight, tol=fast_tol, query_block=query_block, implementation=implementation
        )

    fast, _, fast_iter = loop.run(
        fast_step,
        init(seeds, exact, spatially_ordered=True),
        max_iter=max_iter,
        done=done,
        progress=progress,
        report_value=_report,
    )

    # One representative per occupied cell (the first seed in it), found by sorting the cells.
    cells = jnp.floor(jnp.clip(fast.position * inv_bandwidth / REPRESENTATIVE_CELL, -(2.0**30), 2.0**30))
    cells = cells.astype(jnp.int32)
    order = jnp.lexsort(tuple(cells[:, k] for k in reversed(range(dim)))).astype(jnp.int32)
    first, group_sorted, n_groups = sorted_runs(cells[order])
    group = jnp.zeros((m,), jnp.int32).at[order].set(group_sorted)
    representative = jnp.zeros((m,), jnp.int32).at[jnp.where(first, group_sorted, m)].set(order, mode="drop")
    polish = init(modes(fast, exact)[representative], exact)._replace(
        converged=jnp.arange(m) >= n_groups, seed_steps=fast.seed_steps[representative]
    )
    polish, _, polish_iter = run(
        polish, exact, kernel=GAUSSIAN, tol=tol, max_iter=max_iter, query_block=DEFAULT_QUERY_BLOCK, progress=progress
    )
    return Climb(
        modes=modes(polish, exact)[group],
        converged=polish.converged[group],
        dropped=jnp.zeros((m,), bool),
        log_intensity=polish.log_intensity[group],
        seed_steps=polish.seed_steps[group],
        n_iter=fast_iter + polish_iter,
    )


# --------------------------------------------------------------------- modes to clusters

LABEL_RULES = ("basin", "nearest")


def solve(
    data: Array,
    bandwidth: Array,
    seeds: Array | None = None,
    weights: Array | None = None,
    max_iter: int | Array = 300,
    tol: float | Array = 1e-3,
    merge_radius: float | Array = 1.0,
    *,
    kernel: Kernel,
    labels: str = "basin",
    cluster_all: bool = True,
    max_clusters: int | None = None,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
    backend: str = "blockwise",
    data_axis: sharding.DataAxis | None = None,
    progress: Array | None = None,
    n_seeds: Array | None = None,
    accelerate: bool = False,
) -> MeanShiftResult:
    """Mean shift from ``seeds`` (the data when None), the modes merged into clusters and the
    points labelled: what :func:`jaxshift.mean_shift` computes, without its checks.

    ``n_seeds`` (traced) says that only the first ``n_seeds`` seeds are real: the others are
    padding (see :mod:`jaxshift.api.sizes`), dropped like seeds with no data in reach.

    A (d, d) ``bandwidth`` ``H = L Lᵀ`` runs in whitened coordinates ``L⁻¹(x - o)`` with a unit
    bandwidth (so ``tol``, the merge radius and the labels' distances are in the metric of ``H``),
    and the modes and centres are mapped back."""
    if jnp.ndim(bandwidth) == 2:
        return _solve_whitened(
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
            max_clusters=max_clusters,
            query_block=query_block,
            data_block=data_block,
            backend=backend,
            data_axis=data_axis,
            progress=progress,
            n_seeds=n_seeds,
            accelerate=accelerate,
        )
    m = data.shape[0] if seeds is None else seeds.shape[0]
    max_clusters = m if max_clusters is None else max_clusters

    # The loop runs forward only, on values it cannot differentiate; the derivatives of the modes
    # come from the fixed point (see solvers/implicit.py).
    constant = jax.lax.stop_gradient
    result = climb(
        constant(data),
        constant(data if seeds is None else seeds),
        constant(bandwidth),
        None if weights is None else constant(weights),
        kernel=kernel,
        tol=tol,
        max_iter=max_iter,
        query_block=query_block,
        data_block=data_block,
        backend=backend,
        data_axis=data_axis,
        progress=progress,
        n_seeds=n_seeds,
        accelerate=accelerate,
    )
    modes = implicit.fixed_points(result.modes, data, bandwidth, weights, kernel=kernel, data_axis=data_axis)
    result = result._replace(modes=modes)
    if n_seeds is not None:
        # on every path (the attention and sharded climbs too); the blockwise climb already never moved them
        result = result._replace(dropped=result.dropped | (jnp.arange(m) >= n_seeds))
    clusters = merge_modes(
        result.modes, result.log_intensity, ~result.dropped, bandwidth, radius=merge_radius, max_clusters=max_clusters
    )
    centers = clusters.centers
    # clusters beyond the max_clusters rows (the weakest) have no centre: their modes get -1
    truncated = clusters.n_clusters > max_clusters
    mode_labels = jnp.where(clusters.mode_labels < max_clusters, clusters.mode_labels, -1)
    if labels == "basin":
        point_labels = mode_labels
        safe = jnp.clip(point_labels, 0, max_clusters - 1)
        distance = jnp.sqrt(jnp.sum(jnp.square((data - centers[safe]) / bandwidth), axis=1))
        distance = jnp.where((point_labels >= 0) & (point_labels < max_clusters), distance, jnp.inf)
    else:
        point_labels, distance = nearest_center(data, centers, clusters.n_clusters, bandwidth)
    if not cluster_all:
        point_labels = orphans_removed(point_labels, distance)
    return MeanShiftResult(
        modes=result.modes,
        converged=result.converged,
        dropped=result.dropped,
        n_iter=result.n_iter,
        centers=centers,
        n_clusters=clusters.n_clusters,
        labels=point_labels,
        mode_labels=mode_labels,
        cluster_sizes=cluster_sizes(point_labels, max_clusters),
        bandwidth=bandwidth,
        truncated=truncated,
    )


def _solve_whitened(data, matrix, seeds, weights, *args, **options) -> MeanShiftResult:
    origin = centre(jax.lax.stop_gradient(data))  # the bounding box's: padding rows (copies) leave it alone
    chol = jnp.linalg.cholesky(matrix)

    def whiten(x):
        return jax.scipy.linalg.solve_triangular(chol, (x - origin).T, lower=True).T

    def unwhiten(z):
        return z @ chol.T + origin

    white = solve(
        whiten(data), jnp.ones((), data.dtype), None if seeds is None else whiten(seeds), weights, *args, **options
    )
    filled = (jnp.arange(white.centers.shape[0]) < white.n_clusters)[:, None]
    return white._replace(
        modes=unwhiten(white.modes),
        centers=jnp.where(filled, unwhiten(white.centers), 0.0),
        bandwidth=matrix,
    )
