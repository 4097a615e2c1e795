"""Neighbour cells for compact kernels: each block of queries reduced over the data in its reach only.

The blockwise reduction (:mod:`jaxshift.reduce.blockwise`) visits every data block and skips, one
``lax.cond`` at a time, those whose bounding box is out of reach of the query block's. Here the data
are sorted once so that what a block of queries can reach is a handful of contiguous ranges, found
by binary search, and only those are read:

- Space (in bandwidths, per dimension for a per-dimension bandwidth) is cut along the first
  ``d - 1`` coordinates into *bands*, cells of side ``1 / bands_per_bandwidth``; a band's key is its
  row-major index. The points are sorted by (band key, last coordinate), so each band is a
  contiguous run, itself sorted along the last coordinate.
- For a block of queries with bounding box ``[lo, hi]``, the bands within one bandwidth of the box
  are enumerated (a dynamic count, visited in groups of a static size); in each, the points the
  kernel can reach lie between ``lo_last - L`` and ``hi_last + L`` along the last coordinate, with
  ``L² = 1 - g²`` and ``g`` the band's smallest distance from the box: one contiguous range.
- The ranges of a group are concatenated and read in chunks of a static size (gathered by index);
  each chunk is one dense ``queries × chunk`` tile with exactly the blockwise path's distance and
  profile (weighed by a matrix product), so every pair in reach is evaluated the same way and the
  others are never read.
  Static shapes throughout: the counts of bands, groups and chunks are dynamic trip counts of
  ``fori_loop`` s, the tiles and groups fixed in size.

Exact. The sums are those of the dense reduction up to the order of the additions: every pair the
kernel can reach is in a range (the bounds are widened by a margin far above float rounding), and
the pairs a range holds beyond the kernel's reach weigh exactly 0.

Interior of the ball, for a *flat* profile (the flat kernel's density and shadow, which is also the
Epanechnikov kernel's shadow: the mean-shift step of both): within a band, the points that lie
inside the ball of *every* query of the block (``|x_last - y_last| <= sqrt(1 - G²)`` for all of
them, ``G`` the band's largest distance from the box, with the same margin, shrunk) weigh exactly
``p(0)`` for all the queries: their count and sum are one difference of per-band prefix sums,
added to every query of the block, and only the two ranges on either side of them (the ball's
boundary, in the band) are read point by point. The per-point work is then proportional to the
ball's surface times the block's size plus the band's side, not to its volume. A point near the
ball's edge is always in the per-point ranges, so the set of points counted is the dense path's;
only the rounding of the sums differs (one difference of running sums per band, in the data's
precision, instead of a sum over its points).

Why this design (measured on 2-D blobs, flat radius 1.5 standard deviations, every point a seed;
``experiments/bench_exact_1e6.py``, results/2026-11-28-bench-exact-1e6.md):

- The blockwise path was not n² but evaluated 3-14x the pairs in reach (n·k) in a step: 2.6x and
  3.1x at 1e5 points (six and five blobs), 7-10x at 1e4; its blocks of 1024 Morton-ordered points
  on cells of one bandwidth are boxes up to a bandwidth wide, and a ``lax.cond`` per data block is
  paid for every seed block (1e6 of them per step at 1e6 points).
- Neighbour bands alone (no interior sums: the biweight) read ~1.6 n·k; with the interior sums
  (flat, Epanechnikov) 0.75-0.8 n·k at 1e5 and 0.27 n·k at 1e6 in the first step, less as the
  seeds gather. First step at 1e5: 9.4x (five blobs) and 4.1x (six) faster than blockwise; whole
  climbs 4.0-4.2x. The interior cannot do better per block: the per-point ranges are as wide as
  the block's box, so the pairs read are ~``4 (2b + s) / π`` n·k for boxes of side ``b`` and
  bands of side ``s`` (bandwidths). Smaller blocks read fewer pairs (64 seeds: 0.15 n·k at 1e6)
  but each block pays ~0.1-0.3 ms of binary searches: 256 seeds per block balance the two.
- Seeds are ordered along Hilbert's curve (2-D) on cells of the bands' side: Morton's order jumps
  across the plane inside a block, whose box then reads 1.35x the pairs at 1e6 points (0.36 n·k).
- Bands of 1/32 bandwidth in 2-D (the interior then misses ~``4 s / π`` = 4% of the ball per
  seed), 1/48 from :data:`LARGE` points (2.7%; ~100 bands in reach, one group): at 1e6 points 1/32
  read 25% more pairs once the boxes had shrunk (13.8e3 against 11.0e3 per seed after five steps)
  and were 5-20% slower per step, 1/64 as fast as 1/48 (:func:`default_chunk`); 1/8 in 3-D, where
  the bands in reach of a block grow as the square: 4e3 bands of 1/32.

- Blocks are kept within cells of the curve's quadtree (:func:`block_layout`): once the seeds
  gather at their modes, a block holding the last seeds of one mode and the first of the next is
  a box bandwidths wide that reads everything in its reach (at 1e6 points, blocks reading tens of
  times the median, which dominated the mean).
- The seeds are re-ordered by their current positions before every step while most of them move
  (:func:`jaxshift.solvers.mean_shift.resorted_when_thinned`): their boxes then shrink as the
  seeds converge (median box 0.12 bandwidths at the first step, 0.005 at the eighth).
- Tiles of 2048 points from :data:`LARGE` points, weighed by a matrix product: 1.5x the blocks
  per second of tiles of 512 weighed by the fused multiply-reduce, at 1e6 points. The tile's
  distances by direct differences: the centred matrix product (as the blockwise path's above 8
  dimensions) was 2x slower here, in place.

At 1e6 points (five blobs, ~1e5 neighbours per point) the whole climb with every point a seed
took 611 s at first (~3e10 pairs per step in the first ten steps at ~8e8 pairs/s); 103-164 s with
the flat profile as a compare-and-select and the seeds re-ordered when half of them have stopped;
about 60 s with the three items above (results/2026-11-29-bench-exact-1e6-big.md).

Mean shift takes this path for compact kernels from 4096 data points
(``solvers.mean_shift.CELLS_MIN_POINTS``): below, the blockwise path is as fast and compiles sooner.
For low dimensions only (:data:`MAX_DIM`): the bands in reach grow as ``(2 · bands_per_bandwidth)^(d-1)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce.blockwise import KernelSums, PreparedData, squared_distances, to_units

Array = jax.Array

MAX_DIM = 3  # above this the bands in reach of a block are too many: the blockwise path is used
LARGE = 2**16  # from this many data points: finer bands (2-D) and longer tiles (see default_chunk)
QUERY_BLOCK = 256  # seeds per block: smaller boxes read fewer pairs, more blocks cost more searches
BAND_GROUP = 128  # bands whose ranges are found at once (a block reaching more visits them in groups)
_KEY_LIMIT = 2**30  # bands in the grid: keys stay in int32
_MARGIN = 64.0  # the geometric bounds are widened by this many ulps of the largest coordinate
_RELATIVE_MARGIN = 1e-4  # ... and the ball's squared radius by this much (r = 1 ± this)
_FLAT_PROFILE = get_kernel("flat").profile("shadow")


def bands_per_bandwidth(dim: int, n: int = 0) -> int:
    """The default band density for ``n`` points: fine bands for the flat profile's interior sums
    in 2-D (finer from :data:`LARGE` points), coarser ones in 3-D, where the bands in reach of a
    block grow as the square of it."""
    return {1: 1, 2: 48 if n >= LARGE else 32, 3: 8}.get(dim, 4)


def default_chunk(n: int) -> int:
    """Points read per tile for ``n`` data points. Long tiles run more pairs per second but are
    padded to their length in every group of bands. Climbs of 2-D blobs (flat radius 1.5 standard
    deviations, every point a seed), tiles of 2048 points and bands of 1/48 against 512 and 1/32:
    1.3-1.5x faster at 1e6 points, 1.2x at 1e5, as fast at 4e4, 1.3-1.8x slower at 3000 and 1e4."""
    return 2048 if n >= LARGE else 512


class CellData(NamedTuple):
    """The data sorted by band and last coordinate, with per-band prefix sums (see the module)."""

    points: Array  # shape=(n, d): coordinates in units (see PreparedData), sorted
    last: Array  # shape=(n,): the last coordinate of ``points`` (the sort key within a band)
    values: Array  # shape=(n, d + 1): rows [w, w·x], x in the data's units relative to the origin, sorted
    prefix: Array  # shape=(n, d + 1): inclusive sums of ``values`` within each band
    band: Array  # shape=(n,), int32: each point's band key, non-decreasing
    occupied: Array  # shape=(n,), int32: the occupied bands' keys, increasing, padded with the largest int32
    occupied_start: Array  # shape=(n + 1,), int32: the index of each occupied band's first point, padded with n
    lower: Array  # shape=(d - 1,): the band grid's lower corner, in bandwidths
    side: Array  # shape=(d - 1,): the bands' side, in bandwidths
    extent: Array  # shape=(d - 1,), int32: bands along each of the first d - 1 dimensions
    strides: Array  # shape=(d - 1,), int32: row-major strides of the band keys
    reach: Array  # shape=(): the largest |coordinate| of the data, in bandwidths
    unit_exponent: Array  # shape=() or (d,), as PreparedData
    factor: Array  # shape=() or (d,), as PreparedData


def prepare_cells(data: PreparedData, bands: int | None = None) -> CellData:
    """Sort prepared data (from :func:`~jaxshift.reduce.prepare_data`, in any order) into bands.

    Args:
      data: the prepared data; its points, values, units and origin are reused as they are.
      bands: bands per bandwidth along each of the first ``d - 1`` dimensions (default
        :func:`bands_per_bandwidth`); wider when the grid would exceed 2^30 bands.
    """
    dim = data.origin.shape[0]
    n_points = data.blocks.points.shape[0] * data.blocks.points.shape[2] + data.rest.points.shape[1]
    bands = bands_per_bandwidth(dim, n_points) if bands is None else bands
    points = jnp.concatenate([_rows(data.blocks.points), data.rest.points.T], axis=0)
    values = jnp.concatenate([_rows(data.blocks.values), data.rest.values.T], axis=0)
    n = points.shape[0]
    factor = jnp.broadcast_to(data.factor, (dim,))
    scaled = points * factor
    band_dims = dim - 1
    lower = jnp.min(scaled[:, :band_dims], axis=0)
    span = jnp.max(scaled[:, :band_dims], axis=0) - lower
    per_dim = int(_KEY_LIMIT ** (1.0 / band_dims)) if band_dims else 1
    side = jnp.maximum(1.0 / bands, span / (per_dim - 1))
    extent = (jnp.floor(span / side) + 1).astype(jnp.int32)
    extent = jnp.clip(extent, 1, per_dim)
    strides = jnp.cumprod(jnp.concatenate([extent[1:], jnp.ones((1,), jnp.int32)])[::-1])[::-1].astype(jnp.int32)
    cell = jnp.clip(jnp.floor((scaled[:, :band_dims] - lower) / side), 0, extent - 1).astype(jnp.int32)
    key = cell @ strides if band_dims else jnp.zeros((n,), jnp.int32)
    key, _, order = jax.lax.sort((key, points[:, -1], jnp.arange(n, dtype=jnp.int32)), num_keys=2)
    points, values = points[order], values[order]
    first = jnp.concatenate([jnp.ones((1,), bool), key[1:] != key[:-1]])
    # the first point of every band, in order, padded with n (a stable sort: nonzero compiles slower)
    heads = jnp.argsort(~first, stable=True).astype(jnp.int32)
    heads = jnp.where(jnp.arange(n) < jnp.sum(first, dtype=jnp.int32), heads, n)
    occupied = jnp.where(heads < n, key[jnp.minimum(heads, n - 1)], jnp.iinfo(jnp.int32).max)
    return CellData(
        points=points,
        last=points[:, -1],
        values=values,
        prefix=_segmented_cumsum(values, first),
        band=key,
        occupied=occupied.astype(jnp.int32),
        occupied_start=jnp.concatenate([heads, jnp.full((1,), n, heads.dtype)]).astype(jnp.int32),
        lower=lower,
        side=side,
        extent=extent,
        strides=strides,
        reach=jnp.max(jnp.abs(scaled)) if n else jnp.zeros((), points.dtype),
        unit_exponent=data.unit_exponent,
        factor=data.factor,
    )


def _rows(stacked: Array) -> Array:
    # (n_blocks, k, block) -> (n_blocks * block, k)
    return stacked.transpose(0, 2, 1).reshape(-1, stacked.shape[1])


def _segmented_cumsum(values: Array, first: Array) -> Array:
    """Inclusive sums of ``values`` (n, k) restarting at every ``first`` row: running sums, with no
    difference of two long prefixes (whose rounding would be that of the whole data's sum). The
    rows are cut into ~sqrt(n) pieces summed side by side, then each piece's carry-in added (two
    short scans: ``associative_scan`` took seconds to compile)."""
    n, k = values.shape
    width = max(1, math.isqrt(n))
    rows = -(-n // width)
    pad = rows * width - n
    v = jnp.pad(values, ((0, pad), (0, 0))).reshape(rows, width, k)
    f = jnp.pad(first, (0, pad), constant_values=True).reshape(rows, width)

    def along(running, column):
        value, starts = column
        running = jnp.where(starts[:, None], value, running + value)
        return running, running

    _, within = jax.lax.scan(along, jnp.zeros((rows, k), values.dtype), (v.transpose(1, 0, 2), f.T))
    within = within.transpose(1, 0, 2)
    started = jnp.cumsum(f, axis=1, dtype=jnp.int32) > 0  # a restart at or before this column

    def across(carry, row):
        tail, restarted = row
        return jnp.where(restarted, tail, carry + tail), carry

    _, incoming = jax.lax.scan(across, jnp.zeros((k,), values.dtype), (within[:, -1], started[:, -1]))
    prefix = within + jnp.where(started[..., None], 0.0, incoming[:, None, :])
    return prefix.reshape(rows * width, k)[:n]


def seed_codes(positions: Array, data: CellData) -> Array:
    """(m,) uint32: the index of each of the (m, d) positions (relative to the data's origin, in
    the data's units) along a space-filling curve on cells of the bands' side, so that blocks of
    consecutive seeds are small boxes: Hilbert's in 2-D (no jumps: at a million points its blocks
    read half the pairs of a Morton order's), Morton's otherwise. Both are quadtree (octree)
    orders: ``code >> (d · j)`` numbers the cells ``2^j`` times as wide."""
    m, dim = positions.shape
    scaled = to_units(positions, data.unit_exponent) * jnp.broadcast_to(data.factor, (dim,))
    side = jnp.min(data.side) if dim > 1 else jnp.ones((), scaled.dtype)
    bits = max(1, 30 // dim)
    cells = jnp.floor((scaled - jnp.min(scaled, axis=0)) / side)
    cells = jnp.clip(cells, 0, 2**bits - 1).astype(jnp.uint32)
    return _hilbert(cells[:, 0], cells[:, 1], bits) if dim == 2 else _morton(cells, bits)


def seed_order(positions: Array, data: CellData) -> tuple[Array, Array]:
    """``(order, codes)``: the positions' order along the curve of :func:`seed_codes`, and their
    codes in that order (non-decreasing)."""
    codes = seed_codes(positions, data)
    order = jnp.argsort(codes, stable=True).astype(jnp.int32)
    return order, codes[order]


CUT_LEVELS = 6  # cells of 1, 2, ..., 32 bands' sides (2-D: 1/32 to 1 bandwidth; 1/48 to 2/3 from LARGE points)
EXTRA_BLOCKS = 8  # cutting blocks at cells may add at most 1 / EXTRA_BLOCKS of the blocks ...
MIN_EXTRA_BLOCKS = 16  # ... or this many, whichever is more


def _extra_blocks(blocks):
    return jnp.maximum(blocks // EXTRA_BLOCKS, MIN_EXTRA_BLOCKS)


def extra_slots(m: int, block: int) -> int:
    """Slots beyond ``m`` (rounded up to whole blocks) that :func:`block_layout` may use."""
    return (max(-(-m // block) // EXTRA_BLOCKS, MIN_EXTRA_BLOCKS) + 1) * block


def block_layout(order: Array, codes: Array, active: Array, block: int, dim: int) -> tuple[Array, Array]:
    """``(slots, n_blocks)``: the active seeds gathered in ``order`` into blocks of ``block`` slots
    (``m``: empty), no block straddling two cells of the finest level of the curve's quadtree
    (octree) at which that adds at most ``1 / EXTRA_BLOCKS`` of the blocks (or ``MIN_EXTRA_BLOCKS``).

    Blocks of consecutive seeds are small boxes, except those that straddle a gap: once the
    seeds gather at a few modes, a block holding the last seeds of one mode and the first of the
    next is a box several bandwidths wide, which reads all the data in its reach point by point
    (at 1e6 points, blocks reading tens of times the median). Kept within a cell ``c`` bands wide,
    a block's box is at most ``c`` wide.

    When even the coarsest cells (32 bands) are more than that budget (few seeds left moving,
    scattered: each would be a block of its own, padded to ``block`` slots), the blocks are the
    plain ones, consecutive in ``order``: a bound on the blocks' number, not on their boxes.

    Args:
      order: (m,) int32, the seeds' order; ``codes`` (m,) their codes in that order (:func:`seed_order`).
      active: (m,) bool, the seeds to gather (indexed by seed).
      block: slots per block.
      dim: the seeds' dimension (the curve's code has ``dim`` bits per level).
    """
    m = order.shape[0]
    (ranks,) = jnp.nonzero(active[order], size=m, fill_value=m)
    seeds = jnp.concatenate([order, jnp.full((1,), m, jnp.int32)])[ranks]
    count = jnp.sum(active, dtype=jnp.int32)
    at = jnp.arange(m, dtype=jnp.int32)
    real = at < count
    code = jnp.concatenate([codes, jnp.zeros((1,), codes.dtype)])[ranks]
    plain = (count + block - 1) // block

    def new_cell(shift):
        cell = code >> shift
        return real & ((at == 0) | (cell != jnp.roll(cell, 1)))

    # the finest level with at most _extra_blocks(plain) cells (each adds at most one block)
    shift = jnp.uint32(CUT_LEVELS * dim)  # beyond the levels: no cut
    for level in reversed(range(CUT_LEVELS)):
        cells_in = jnp.sum(new_cell(jnp.uint32(level * dim)), dtype=jnp.int32)
        shift = jnp.where(cells_in <= _extra_blocks(plain), jnp.uint32(level * dim), shift)
    new = new_cell(shift) & (shift < CUT_LEVELS * dim) | (real & (at == 0))
    rank = at - jax.lax.cummax(jnp.where(new, at, 0))
    first = real & (rank % block == 0)
    index = jnp.cumsum(first, dtype=jnp.int32) - 1
    slot = jnp.where(real, index * block + rank % block, -1)
    n_blocks = jnp.sum(first, dtype=jnp.int32)
    size = m + extra_slots(m, block)
    slots = jnp.full((size,), m, jnp.int32).at[jnp.where(slot < 0, size, slot)].set(seeds, mode="drop")
    return slots, n_blocks


def _morton(cells: Array, bits: int) -> Array:
    dim = cells.shape[1]
    code = jnp.zeros(cells.shape[:1], jnp.uint32)
    for bit in range(bits):
        for k in range(dim):
            code = code | (((cells[:, k] >> bit) & 1) << (bit * dim + k))
    return code


def _hilbert(x: Array, y: Array, bits: int) -> Array:
    """The index along Hilbert's curve of the cells (x, y) of a 2^bits grid."""
    top = jnp.uint32(2**bits - 1)
    code = jnp.zeros(x.shape, jnp.uint32)
    for level in reversed(range(bits)):
        s = jnp.uint32(1 << level)
        rx = (x & s) > 0
        ry = (y & s) > 0
        code = code + s * s * ((3 * rx.astype(jnp.uint32)) ^ ry.astype(jnp.uint32))
        flip = ~ry & rx
        x, y = jnp.where(flip, top - x, x), jnp.where(flip, top - y, y)
        x, y = jnp.where(~ry, y, x), jnp.where(~ry, x, y)
    return code


def _search(keys: Array, start: Array, end: Array, value: Array, right: Array) -> Array:
    """First index in ``[start, end)`` whose key is ``>= value`` (``> value`` where ``right``), or
    ``end``: a binary search vectorised over the ranges, within sorted runs of ``keys`` (one loop,
    not unrolled: compiling stays cheap)."""
    n = keys.shape[0]

    def halve(_, bounds):
        lo, hi = bounds
        active = lo < hi
        mid = (lo + hi) // 2
        key = keys[jnp.clip(mid, 0, n - 1)]
        below = jnp.where(right, key <= value, key < value)
        return jnp.where(active & below, mid + 1, lo), jnp.where(active & ~below, mid, hi)

    return jax.lax.fori_loop(0, max(1, n.bit_length()), halve, (start, end))[0]


def cell_sums(
    queries: Array,
    data: CellData,
    kernel: Kernel,
    *,
    profile: str = "shadow",
    with_moment: bool = True,
    chunk: int | None = None,
    band_group: int = BAND_GROUP,
) -> KernelSums:
    """Kernel sums for one block of queries (q, d) over the data in its reach, for a compact kernel.

    The same sums as :func:`~jaxshift.reduce.block_sums` (up to rounding; ``log_scale`` is 0).

    Args:
      queries: (q, d) query points relative to the data's origin, in the data's units.
      data: the output of :func:`prepare_cells`.
      kernel: a compact kernel.
      profile: ``"shadow"`` or ``"density"``.
      with_moment: whether to compute the weighted sum of the data too.
      chunk: points per tile (default :func:`default_chunk`).
      band_group: bands whose ranges are found at once.
    """
    chunk = default_chunk(data.points.shape[0]) if chunk is None else chunk
    fn = kernel.profile(profile)
    width = queries.shape[1] + 1 if with_moment else 1
    plan = _plan(queries, data, fn is _FLAT_PROFILE, band_group)
    y, dtype, q = plan.units, queries.dtype, queries.shape[0]
    positions = jnp.arange(chunk, dtype=jnp.int32)
    zero_value = fn(jnp.zeros((), dtype))

    def visit_group(g, acc):
        tiles, inner = acc
        starts, lengths, _, interior = _group_ranges(plan, data, g, width)
        ends = jnp.cumsum(lengths)
        total = ends[-1]

        def read_chunk(c, tiles):
            at = c * chunk + positions
            which = jnp.minimum(jnp.searchsorted(ends, at, side="right"), ends.shape[0] - 1)
            index = starts[which] + at - (ends[which] - lengths[which])
            real = at < total
            index = jnp.where(real, index, 0)
            x = data.points[index]
            values = jnp.where(real[:, None], data.values[index, :width], 0.0)
            p = fn(_distances(y, x, data.factor))
            return tiles + _weigh_tile(p, values)

        tiles = jax.lax.fori_loop(0, (total + chunk - 1) // chunk, read_chunk, tiles)
        return tiles, inner + interior

    n_groups = (plan.n_bands + plan.group - 1) // plan.group
    start = (jnp.zeros((q, width), dtype), jnp.zeros((width,), dtype))
    tiles, inner = jax.lax.fori_loop(0, n_groups, visit_group, start)
    acc = tiles + zero_value * inner[None, :]
    return KernelSums(jnp.zeros((q,), dtype), acc[:, 0], acc[:, 1:] if with_moment else None)


def _distances(y: Array, x: Array, factor: Array) -> Array:
    return squared_distances(y, x.T, factor)


def _weigh_tile(p: Array, values: Array) -> Array:
    """``p @ values``: (q, c) kernel values times (c, width) rows ``[w, w·x]``. A matrix product:
    with tiles of 2048 points, 1.3x the blocks per second of the blockwise path's fused
    multiply-reduce (:func:`~jaxshift.reduce.blockwise._weigh`), measured at 1e6 points."""
    return jnp.matmul(p, values, precision=jax.lax.Precision.HIGHEST)


class _Plan(NamedTuple):
    units: Array  # (q, d): the queries in units
    lo: Array  # (d,): the queries' bounding box, in bandwidths
    hi: Array  # (d,)
    margin: Array  # (): the bounds' margin, in bandwidths
    first: Array  # (d - 1,), int32: the first band in reach along each dimension
    counts: Array  # (d - 1,), int32: bands in reach along each dimension
    slot: Array  # (), int32: in 1-D and 2-D, the first occupied band in reach (its index in ``occupied``)
    n_bands: Array  # (), int32: bands in reach (occupied ones only, in 1-D and 2-D)
    group: int  # bands per group (static)
    flat: bool  # whether the profile is flat (interior sums; static)


def _plan(queries: Array, data: CellData, flat: bool, band_group: int) -> _Plan:
    """The box of a block of queries and the bands in its reach."""
    y = to_units(queries, data.unit_exponent)
    dim = y.shape[1]
    dtype = y.dtype
    band_dims = dim - 1
    scaled = y * jnp.broadcast_to(data.factor, (dim,))
    lo, hi = jnp.min(scaled, axis=0), jnp.max(scaled, axis=0)
    eps = jnp.finfo(dtype).eps
    margin = _MARGIN * eps * (1.0 + data.reach + jnp.max(jnp.maximum(jnp.abs(lo), jnp.abs(hi))))
    if band_dims:
        first = jnp.floor(jnp.clip((lo[:band_dims] - 1.0 - margin - data.lower) / data.side, -1.0, 2.0**30))
        last = jnp.floor(jnp.clip((hi[:band_dims] + 1.0 + margin - data.lower) / data.side, -1.0, 2.0**30))
        first = jnp.maximum(first, 0).astype(jnp.int32)
        last = jnp.minimum(last, (data.extent - 1).astype(dtype)).astype(jnp.int32)
        counts = jnp.maximum(last - first + 1, 0)
        n_bands = jnp.prod(counts)
    else:
        first = counts = jnp.zeros((0,), jnp.int32)
        n_bands = jnp.ones((), jnp.int32)
    slot = jnp.zeros((), jnp.int32)
    if band_dims == 1:
        # only the occupied bands: a block's cost is bounded by the data near it, however sparse
        slot = jnp.searchsorted(data.occupied, first[0], side="left").astype(jnp.int32)
        n_bands = jnp.where(counts[0] > 0, jnp.searchsorted(data.occupied, last[0], side="right") - slot, 0)
    group = max(1, min(band_group, data.points.shape[0])) if band_dims else 1
    return _Plan(y, lo, hi, margin, first, counts, slot, n_bands.astype(jnp.int32), group, flat)


def _group_ranges(plan: _Plan, data: CellData, g: Array, width: int):
    """Per band of group ``g``: the (2 · group,) starts and lengths of the ranges read point by
    point, the (group,) number of interior points, and the (width,) sum of the interior's values
    (flat profiles; else none)."""
    lo, hi, margin, group = plan.lo, plan.hi, plan.margin, plan.group
    dtype = lo.dtype
    band_dims = lo.shape[0] - 1
    outer_sq = 1.0 + _RELATIVE_MARGIN
    inner_sq = 1.0 - _RELATIVE_MARGIN
    t = g * group + jnp.arange(group, dtype=jnp.int32)
    real = t < plan.n_bands
    n = data.points.shape[0]
    if band_dims <= 1:
        slot = jnp.minimum(plan.slot + t, n - 1)
        cell = data.occupied[slot][:, None]
        start, end = data.occupied_start[slot], data.occupied_start[slot + 1]
    else:
        rest = t
        index = []
        for k in reversed(range(band_dims)):
            size = jnp.maximum(plan.counts[k], 1)
            index.append(rest % size)
            rest = rest // size
        cell = jnp.stack(index[::-1], axis=1) + plan.first
        key = cell @ data.strides
        start = jnp.searchsorted(data.band, key, side="left").astype(jnp.int32)
        end = jnp.searchsorted(data.band, key, side="right").astype(jnp.int32)
    if band_dims:
        band_lo = data.lower + cell.astype(dtype) * data.side - margin
        band_hi = data.lower + (cell + 1).astype(dtype) * data.side + margin
        near = jnp.maximum(0.0, jnp.maximum(band_lo - hi[:band_dims], lo[:band_dims] - band_hi))
        far = jnp.maximum(band_hi - lo[:band_dims], hi[:band_dims] - band_lo)
        near_sq, far_sq = jnp.sum(jnp.square(near), axis=1), jnp.sum(jnp.square(far), axis=1)
    else:
        near_sq = far_sq = jnp.zeros((group,), dtype)
    in_reach = real & (near_sq < outer_sq)
    reach = jnp.sqrt(jnp.maximum(outer_sq - near_sq, 0.0)) + margin
    unit = jnp.broadcast_to(data.factor, lo.shape)[-1]
    # the outer range's bounds (and the interior's, flat profiles) in one search
    inside = jnp.sqrt(jnp.maximum(inner_sq - far_sq, 0.0)) - margin
    bounds = [lo[-1] - reach, hi[-1] + reach] + ([hi[-1] - inside, lo[-1] + inside] if plan.flat else [])
    found = _search(
        data.last,
        jnp.tile(start, len(bounds)),
        jnp.tile(end, len(bounds)),
        jnp.concatenate(bounds) / unit,
        jnp.repeat(jnp.asarray([False, True] * (len(bounds) // 2)), group),
    ).reshape(len(bounds), group)
    outer_start, outer_end = found[0], jnp.where(in_reach, found[1], found[0])
    interior = jnp.zeros((width,), dtype)
    inner_start = inner_end = outer_start
    if plan.flat:
        inner_start, inner_end = found[2], found[3]
        has = in_reach & (far_sq < inner_sq) & (inside > 0) & (inner_end > inner_start)
        inner_start = jnp.where(has, jnp.clip(inner_start, outer_start, outer_end), outer_start)
        inner_end = jnp.where(has, jnp.clip(inner_end, inner_start, outer_end), outer_start)
        top = data.prefix[jnp.maximum(inner_end - 1, 0), :width]
        below = jnp.where((inner_start > start)[:, None], data.prefix[jnp.maximum(inner_start - 1, 0), :width], 0)
        interior = jnp.sum(jnp.where(has[:, None], top - below, 0.0), axis=0)
    starts = jnp.concatenate([outer_start, inner_end])
    lengths = jnp.concatenate([inner_start - outer_start, outer_end - inner_end])
    return starts, lengths, inner_end - inner_start, interior


def read_counts(
    queries: Array, data: CellData, kernel: Kernel, *, profile: str = "shadow", band_group: int = BAND_GROUP
):
    """How :func:`cell_sums` would reduce one block of queries: ``(points read point by point,
    points summed as the interior, bands in reach)``, each read point costing one pair per query
    (a diagnostic for the benchmarks)."""
    plan = _plan(queries, data, kernel.profile(profile) is _FLAT_PROFILE, band_group)

    def visit(g, acc):
        _, lengths, inner, _ = _group_ranges(plan, data, g, 1)
        return acc[0] + jnp.sum(lengths, dtype=jnp.int32), acc[1] + jnp.sum(inner, dtype=jnp.int32)

    n_groups = (plan.n_bands + plan.group - 1) // plan.group
    read, inner = jax.lax.fori_loop(0, n_groups, visit, (jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32)))
    return read, inner, plan.n_bands
