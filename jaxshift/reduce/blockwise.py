"""The one kernel reduction everything else is built on: blockwise, log-stable, shardable.

For queries ``y_i`` and data ``x_j`` with weights ``w_j`` and scaled squared distances
``r_ij = |(y_i - x_j) / h|²`` it computes, per query,

    total_i  = Σ_j w_j p(r_ij)            (the KDE's sum, or the step's denominator)
    moment_i = Σ_j w_j p(r_ij) x_j        (the step's numerator)

for a kernel profile ``p``, blockwise over the data and the queries so that no more than a
``query_block × data_block`` tile exists at once. Both sums are returned scaled by
``exp(-log_scale_i)``; ``log(total_i) + log_scale_i`` is the log of the plain sum. Pairs whose
query and data point share a *group* can be left out (leave-one-out and k-fold likelihoods).

Kernels of unbounded support (the Gaussian) are evaluated in the log domain: a first pass finds each
query's largest log-weight, the second sums with it subtracted. So points hundreds of bandwidths
away from all the data, and tiny bandwidths, give finite, accurate results, not 0/0. The tile is
rematerialised in the backward pass (``jax.checkpoint``), so gradients with respect to the bandwidth
need memory O(n·d), not O(n·m).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel
from jaxshift.reduce.sharding import DataAxis, shard_over

Array = jax.Array

DEFAULT_QUERY_BLOCK = 1024
DEFAULT_DATA_BLOCK = 1024
_DIRECT_DISTANCE_MAX_DIM = 8  # above this, squared distances may go through a matrix product
_DISTANCE_TOLERANCE = 1e-2  # the largest rounding error (in r = |y - x|²/h²) a matrix product may make


class KernelSums(NamedTuple):
    """Per-query kernel sums, scaled by ``exp(-log_scale)``."""

    log_scale: Array  # shape=(m,)
    total: Array  # shape=(m,)
    moment: Array | None  # shape=(m, d), in the data's units; None when not asked for


class DataBlock(NamedTuple):
    """One block of prepared data (or a stack of them, with a leading block axis)."""

    points: Array  # shape=(d, block): coordinates relative to the origin in units (see PreparedData), transposed
    values: Array  # shape=(d + 1, block): rows [w, w·x], x in the data's units (relative to the origin)
    group: Array | None  # shape=(block,), int32, or None when no pairs are left out
    log_weight: Array | None  # shape=(block,): log w (-inf for w = 0), or None when unweighted
    lower: Array  # shape=(d,): the block's bounding box, in units
    upper: Array  # shape=(d,)


class PreparedData(NamedTuple):
    """Data centred and laid out in blocks, with the bandwidth's inverse, made once per run.

    Coordinates are taken relative to ``origin`` (the centre of the data's bounding box unless
    given, see :func:`centre`): the results are translation-equivariant, and small coordinates
    keep float32 accurate for data far from the origin. Queries passed to :func:`block_sums` and
    the moments it returns are relative to it too (in the data's units).

    The points are stored in *units*: the coordinates divided by ``2^unit_exponent``, the power of
    two at or below the bandwidth (exactly: a power-of-two scaling never rounds), and the scaled
    squared distance is ``factor² · |Δ units|²`` with ``factor = 2^unit_exponent / h`` in
    (1/2, 1]. A query equal to a data point is then at distance exactly 0 however the compiler
    fuses the arithmetic (``y/h - x/h`` contracted into a multiply-add skips one rounding, and at
    ``h = 1e-30`` one rounding is 1e13 bandwidths), and squaring differences of at most a few
    units never overflows where the distance is finite.
    Full blocks are stacked for a scan; the remainder (fewer than ``data_block`` points) is a
    separate, statically shaped block, so no padding or masking is needed.
    """

    blocks: DataBlock  # leading axis n_blocks
    rest: DataBlock  # n_rest = n mod block points
    inv_bandwidth: Array  # shape=() or (d,)
    origin: Array  # shape=(d,)
    unit_exponent: Array  # shape=() or (d,), int32: coordinates are stored in units of 2^unit_exponent
    factor: Array  # shape=() or (d,): 2^unit_exponent / bandwidth, in (1/2, 1]


def prepare_data(
    data: Array,
    bandwidth: Array,
    weights: Array | None = None,
    data_block: int = DEFAULT_DATA_BLOCK,
    groups: Array | None = None,
    *,
    origin: Array | None = None,
    spatially_ordered: bool = False,
) -> PreparedData:
    """Centre, weight and block the data for :func:`block_sums`.

    Args:
      data: (n, d) points.
      bandwidth: scalar or (d,).
      weights: None or (n,) non-negative weights.
      data_block: points per block.
      groups: None or (n,) int group of each point (see :func:`kernel_sums`).
      origin: (d,) the point coordinates are taken from; default :func:`centre` of the data.
      spatially_ordered: put the points in Morton order first, so that blocks are compact in space
        and a compact kernel's reduction skips the blocks out of its reach.
    """
    n, _ = data.shape
    origin = centre(data) if origin is None else jnp.asarray(origin, data.dtype)
    inv_bandwidth = 1.0 / jnp.asarray(bandwidth, data.dtype)
    centred = data - origin
    if spatially_ordered:
        order = spatial_order(centred, jnp.asarray(bandwidth, data.dtype))
        centred = centred[order]
        weights = None if weights is None else weights[order]
        groups = None if groups is None else groups[order]
    w = jnp.ones((n,), data.dtype) if weights is None else jnp.asarray(weights, data.dtype)
    # the moment in the data's units: dividing it by 1/h afterwards would be 0/0 where 1/h
    # underflows (a bandwidth near the largest float)
    values = jnp.concatenate([w[None, :], w[None, :] * centred.T], axis=0)
    group = None if groups is None else jnp.asarray(groups, jnp.int32)[None, :]
    log_w = None if weights is None else log_weights(w)[None, :]
    block = max(1, min(data_block, n))
    n_blocks = n // block
    n_full = n_blocks * block

    def stack(a):
        return None if a is None else a[:, :n_full].reshape(a.shape[0], n_blocks, block).transpose(1, 0, 2)

    def rest(a):
        return None if a is None else a[:, n_full:]

    def unrow(a):
        return None if a is None else a[..., 0, :]

    unit_exponent, factor = units(jnp.asarray(bandwidth, data.dtype))
    in_units = to_units(centred, unit_exponent).T
    full_points, rest_points = stack(in_units), rest(in_units)
    blocks = DataBlock(full_points, stack(values), unrow(stack(group)), unrow(stack(log_w)), *_bounds(full_points))
    remainder = DataBlock(rest_points, rest(values), unrow(rest(group)), unrow(rest(log_w)), *_bounds(rest_points))
    return PreparedData(blocks, remainder, inv_bandwidth, origin, unit_exponent, factor)


def units(bandwidth: Array) -> tuple[Array, Array]:
    """The exponent ``e`` of the power of two at or below the bandwidth (within the range of
    normal floats) and ``factor = 2^e / h``."""
    info = jnp.finfo(bandwidth.dtype)
    exponent = jnp.clip(jnp.floor(jnp.log2(bandwidth)), info.minexp, info.maxexp - 1)
    # the derivative in the bandwidth flows through the factor (the exponent is locally constant)
    exponent = jax.lax.stop_gradient(exponent).astype(jnp.int32)
    return exponent, _power_of_two(exponent, bandwidth.dtype) / bandwidth


def _power_of_two(exponent: Array, dtype) -> Array:
    """``2^exponent`` exactly, for exponents of normal floats, from its bits (``exp2`` is an
    approximation, and ``jnp.ldexp``'s second derivative in its first argument was measured wrong)."""
    info = jnp.finfo(dtype)
    mantissa_bits = info.nmant
    integer = jnp.int64 if info.bits == 64 else jnp.int32
    biased = exponent.astype(integer) - (info.minexp - 1)
    return jax.lax.bitcast_convert_type(biased << mantissa_bits, dtype)


def to_units(points: Array, unit_exponent: Array) -> Array:
    """(m, d) points divided by ``2^unit_exponent`` (exactly: a multiplication by a power of two),
    kept within a quarter of the largest float so that differences of them never overflow to a
    NaN (points beyond that are 1e37 bandwidths or more from the origin in float32)."""
    big = jnp.finfo(points.dtype).max / 4
    return jnp.clip(points * _power_of_two(-unit_exponent, points.dtype), -big, big)


def centre(data: Array) -> Array:
    """The centre of the bounding box of (n, d) ``data``, the origin the reductions work from.

    Unlike the mean, it is computed exactly (a min and a max, in any order), so every copy XLA
    makes of it is the same number and a query equal to a data point stays exactly equal to it
    once both are centred: the distance between them is 0, not a rounding error, which at a
    bandwidth of 1e-30 would be 1e13 bandwidths. Halves are added so that it never overflows."""
    return 0.5 * jnp.min(data, axis=0) + 0.5 * jnp.max(data, axis=0)


def log_weights(weights: Array) -> Array:
    """``log w``, with ``-inf`` (not NaN, nor a NaN gradient) for zero weights."""
    positive = weights > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, weights, 1.0)), -jnp.inf)


def _bounds(points: Array) -> tuple[Array, Array]:
    if points.shape[-1] == 0:
        return jnp.zeros(points.shape[:-1], points.dtype), jnp.zeros(points.shape[:-1], points.dtype)
    return jnp.min(points, axis=-1), jnp.max(points, axis=-1)


def spatial_order(points: Array, cell: Array) -> Array:
    """A permutation that puts nearby points next to each other (Morton / Z order of a grid with
    cells of side ``cell``), so that blocks of consecutive points are compact in space."""
    n, dim = points.shape
    bits = max(1, min(10, 30 // dim))
    cells = jnp.floor((points - jnp.min(points, axis=0)) / cell)
    cells = jnp.clip(cells, 0, 2**bits - 1).astype(jnp.uint32)
    code = jnp.zeros((n,), jnp.uint32)
    for bit in range(bits):
        for k in range(dim):
            code = code | (((cells[:, k] >> bit) & 1) << (bit * dim + k))
    return jnp.argsort(code, stable=True)


def squared_distances(y: Array, x: Array, inv_scale: Array | None = None) -> Array:
    """``|(y_i - x_j) · inv_scale|²`` for y (q, d) and x transposed (d, b), as a (q, b) tile.

    ``inv_scale`` (a scalar or (d,), default 1) multiplies the differences, not the coordinates,
    so a query equal to a data point is at distance exactly 0 (see :class:`PreparedData`); a
    scalar one multiplies the sum of squares once per pair.

    Up to :data:`_DIRECT_DISTANCE_MAX_DIM` dimensions, by direct differences. Above, through a
    matrix product ``|y - c|² + |x - c|² - 2 (y - c)·(x - c)`` about the centre ``c`` of the
    block's bounding box, when that is accurate: its rounding error is about
    ``eps · (|y - c|² + |x - c|²)``, which in float32 is whole units for points a thousand
    bandwidths from ``c``. When that bound exceeds :data:`_DISTANCE_TOLERANCE`, the tile is
    computed by direct differences (one fused broadcast-subtract-square-reduce; 2-10x slower on
    CPU, exact to rounding at any scale).
    """
    dim = y.shape[1]
    scalar = inv_scale is None or jnp.ndim(inv_scale) == 0
    if scalar:
        per_dim = jnp.ones((dim,), y.dtype)
        overall = jnp.ones((), y.dtype) if inv_scale is None else jnp.square(jnp.asarray(inv_scale, y.dtype))
    else:
        per_dim, overall = jnp.asarray(inv_scale, y.dtype), jnp.ones((), y.dtype)

    def direct():
        if dim <= _DIRECT_DISTANCE_MAX_DIM:
            diffs = [y[:, k : k + 1] - x[k][None, :] for k in range(dim)]
            r = sum(jnp.square(diff if scalar else diff * per_dim[k]) for k, diff in enumerate(diffs))
        else:
            diff = y[:, :, None] - x[None, :, :]
            r = jnp.sum(jnp.square(diff if scalar else diff * per_dim[None, :, None]), axis=1)
        return r if inv_scale is None else r * overall

    if dim <= _DIRECT_DISTANCE_MAX_DIM or x.shape[1] == 0:
        return direct()
    # halves first: the sum of two coordinates near the largest float must not overflow
    centre = 0.5 * jnp.min(x, axis=1) + 0.5 * jnp.max(x, axis=1)
    yc = (y - centre[None, :]) * per_dim[None, :]
    xc = (x - centre[:, None]) * per_dim[:, None]
    y_norm = jnp.sum(yc * yc, axis=1)
    x_norm = jnp.sum(xc * xc, axis=0)
    bound = 2.0 * jnp.finfo(y.dtype).eps * (jnp.max(y_norm) + jnp.max(x_norm)) * overall

    def product():
        cross = jnp.matmul(yc, xc, precision=jax.lax.Precision.HIGHEST)
        return jnp.maximum(y_norm[:, None] + x_norm[None, :] - 2.0 * cross, 0.0) * overall

    # (a NaN or infinite bound takes the direct path too)
    return jax.lax.cond(bound <= _DISTANCE_TOLERANCE, product, direct)


def _weigh(p: Array, values: Array, with_moment: bool) -> Array:
    # One fused broadcast-multiply-reduce for all d + 1 sums: XLA:CPU vectorises a single
    # reduction far better than several sibling ones (measured 1.3e9 vs 0.24e9 pairs/s).
    if not with_moment:
        return (p @ values[0])[:, None]
    return jnp.sum(p[:, None, :] * values[None, :, :], axis=-1)


def _left_out(query_group: Array | None, block: DataBlock) -> Array | None:
    if query_group is None or block.group is None:
        return None
    return query_group[:, None] == block.group[None, :]


def _fold_blocks(y, query_group, data: PreparedData, tile_fn, init, combine=jnp.add):
    """Fold ``tile_fn(y, query_group, block)`` over the full blocks and the remainder."""
    tile_fn = jax.checkpoint(tile_fn)

    def body(acc, block):
        return combine(acc, tile_fn(y, query_group, block)), None

    acc, _ = jax.lax.scan(body, init, data.blocks)
    if data.rest.points.shape[1]:
        acc = combine(acc, tile_fn(y, query_group, data.rest))
    return acc


def block_sums(
    queries: Array,
    data: PreparedData,
    kernel: Kernel,
    *,
    profile: str = "shadow",
    with_moment: bool = True,
    query_group: Array | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> KernelSums:
    """Kernel sums for one block of queries (q, d) against all of the prepared data.

    Args:
      queries: (q, d) query points relative to ``data.origin``, in the data's units.
      data: the output of :func:`prepare_data`.
      kernel: the kernel.
      profile: ``"shadow"`` (mean-shift weights ``g``) or ``"density"`` (KDE profile ``k``).
      with_moment: whether to compute the weighted sum of the data too (relative to ``data.origin``).
      query_group: None or (q,) int; pairs with ``data`` points of the same group are left out.
      axis_name: inside :func:`jax.shard_map`, the mesh axis the data is split along: the sums
        then cover every device's shard (``psum``), the same on all of them.
    """
    y = to_units(queries, data.unit_exponent)
    inv_h = data.factor
    q, dim = y.shape
    width = dim + 1 if with_moment else 1
    zeros = jnp.zeros((q, width), y.dtype)

    if kernel.compact:
        fn = kernel.profile(profile)
        lower, upper = jnp.min(y, axis=0), jnp.max(y, axis=0)

        def dense_tile(y, query_group, block):
            p = fn(squared_distances(y, block.points, inv_h))
            out = _left_out(query_group, block)
            return _weigh(p if out is None else jnp.where(out, 0.0, p), block.values, with_moment)

        def tile(y, query_group, block):
            # Skip a data block whose bounding box is beyond the kernel's reach (r > 1) from the
            # queries' box: with spatially ordered data most blocks are.
            gap = jnp.maximum(0.0, jnp.maximum(block.lower - upper, lower - block.upper)) * inv_h
            return jax.lax.cond(
                jnp.sum(jnp.square(gap)) > 1.0, lambda: zeros, lambda: dense_tile(y, query_group, block)
            )

        acc = _fold_blocks(y, query_group, data, tile, zeros)
        log_scale = jnp.zeros((q,), y.dtype)
    else:
        log_scale, acc = _log_domain_block_sums(
            y, inv_h, query_group, data, kernel.log_profile(profile), with_moment, zeros, axis_name
        )
    if axis_name is not None:
        acc = jax.lax.psum(acc, axis_name)
    total = acc[:, 0]
    moment = acc[:, 1:] if with_moment else None
    return KernelSums(log_scale, total, moment)


def _logits(log_profile, y, inv_h, query_group, block: DataBlock) -> Array:
    logits = log_profile(squared_distances(y, block.points, inv_h))
    out = _left_out(query_group, block)
    return logits if out is None else jnp.where(out, -jnp.inf, logits)


def _log_domain_block_sums(y, inv_h, query_group, data: PreparedData, log_profile, with_moment: bool, zeros, axis_name):
    # Two passes, like a streaming log-sum-exp: first each query's largest log-weight
    # log w_j + log p(r_ij) (over j with w_j > 0), then the sums with it subtracted. The largest
    # term is then exp(0) = 1 whatever the distances, so nothing underflows to 0/0. (A cheaper fast
    # pass with a fallback under lax.cond was measured 1.7x faster unbatched, but ~70x slower under
    # vmap, where cond becomes select.)
    def ref_tile(y, query_group, block):
        logits = _logits(log_profile, y, inv_h, query_group, block)
        if block.log_weight is not None:
            logits = logits + block.log_weight[None, :]
        return jnp.max(logits, axis=1)

    start = jnp.full(y.shape[:1], -jnp.inf, y.dtype)
    ref = _fold_blocks(y, query_group, data, ref_tile, start, jnp.maximum)
    if axis_name is not None:
        ref = jax.lax.pmax(jax.lax.stop_gradient(ref), axis_name)  # pmax has no derivative; ref needs none
    ref = jax.lax.stop_gradient(jnp.where(jnp.isfinite(ref), ref, 0.0))

    def tile(y, query_group, block):
        p = jnp.exp(_logits(log_profile, y, inv_h, query_group, block) - ref[:, None])
        return _weigh(p, block.values, with_moment)

    return ref, _fold_blocks(y, query_group, data, tile, zeros)


def kernel_sums(
    queries: Array,
    data: Array,
    bandwidth: Array,
    *,
    kernel: Kernel,
    weights: Array | None = None,
    profile: str = "shadow",
    with_moment: bool = True,
    query_groups: Array | None = None,
    data_groups: Array | None = None,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
    data_axis: DataAxis | None = None,
) -> KernelSums:
    """Kernel sums for every query, blockwise over queries and data (unvalidated; see
    :func:`jaxshift.kernel_sums` for the checked, jitted entry point and the arguments).

    With ``data_axis`` the data (and its weights and groups) are split along that mesh axis and
    reduced under :func:`jax.shard_map`, the partial sums combined across devices.
    """
    args = (queries, data, bandwidth, weights, query_groups, data_groups)
    options = dict(
        kernel=kernel, profile=profile, with_moment=with_moment, query_block=query_block, data_block=data_block
    )
    if data_axis is None:
        return _kernel_sums(*args, **options)
    # one origin for every shard: the whole data's
    origin = centre(data)
    present = [i for i, a in enumerate(args) if a is not None]
    split = (False, True, False, True, False, True)

    def local(origin, *given):
        full = [None] * len(args)
        for i, a in zip(present, given, strict=True):
            full[i] = a
        return _kernel_sums(*full, origin=origin, axis_name=data_axis.axis, **options)

    whole = data_axis.spec(False)
    return shard_over(
        data_axis,
        local,
        (origin,) + tuple(args[i] for i in present),
        (False,) + tuple(split[i] for i in present),
        KernelSums(whole, whole, whole if with_moment else None),
    )


def _kernel_sums(
    queries,
    data,
    bandwidth,
    weights,
    query_groups,
    data_groups,
    *,
    kernel,
    profile,
    with_moment,
    query_block,
    data_block,
    origin=None,
    axis_name=None,
) -> KernelSums:
    prepared = prepare_data(data, bandwidth, weights, data_block, data_groups, origin=origin)
    m, dim = queries.shape
    block = max(1, min(query_block, m))
    n_blocks = -(-m // block)
    padded = jnp.pad(queries - prepared.origin, ((0, n_blocks * block - m), (0, 0)), mode="edge")
    if query_groups is None:
        groups = None
    else:
        # padding queries get group -1, which no data point has
        groups = jnp.full((n_blocks * block,), -1, jnp.int32).at[:m].set(jnp.asarray(query_groups, jnp.int32))
        groups = groups.reshape(n_blocks, block)

    def one_block(args):
        yb, gb = args
        return block_sums(
            yb, prepared, kernel, profile=profile, with_moment=with_moment, query_group=gb, axis_name=axis_name
        )

    out = jax.lax.map(one_block, (padded.reshape(n_blocks, block, dim), groups))
    log_scale, total, moment = (None if a is None else a.reshape((n_blocks * block,) + a.shape[2:])[:m] for a in out)
    if moment is not None:
        moment = moment + total[:, None] * prepared.origin
    return KernelSums(log_scale, total, moment)
