"""Grid mean shift (MeanShift++, Jang & Jiang, CVPR 2021): an approximate mode for low dimensions.

Space is cut into cells of side ``bandwidth`` (per dimension if ``bandwidth`` has d entries). At
every iteration each point moves to the mean of all points in the 3^d cells around its own (its cell
and the adjacent ones, diagonals included), so all points of one cell move together:

    x_i  <-  Σ_{c ∈ N(cell(x_i))} S[c] / Σ_{c ∈ N(cell(x_i))} C[c],

with ``C[c]`` the number and ``S[c]`` the sum of the points in cell ``c``. As in the paper, the
points themselves move (*blurring*): the counts and sums of the next iteration are taken from the
moved points. The cost is O(n log n + n·3^(d-1) log n) per iteration and the memory O(n·d); no
dense grid over the bounding box is ever built.

How it is computed, with static shapes throughout (``jit`` compiles it once per shape):

- Coordinates are measured in cells from the data's lower corner; a point's cell is the integer
  ``floor`` of them, and the cell's key its row-major index in the bounding box grown by one cell
  on every side (so the -1/+1 neighbours of a boundary cell never wrap onto another row). Points
  only move to means of points, so they never leave the first bounding box: the keys stay valid.
- The points are sorted by key (carrying their positions and original indices along); the
  occupied cells are the runs of equal keys, their counts and sums segment sums over the runs.
- For each of the 3^(d-1) offsets of the other dimensions, one ``searchsorted`` in the sorted cell
  keys finds the first occupied cell at or after ``key + offset - 1``; the cells with keys
  ``key + offset - 1 .. key + offset + 1`` (the three neighbours along the last dimension) are
  that cell and the next two, where their keys are in range.
- A point has converged when it moved at most ``tol`` cells; the loop stops when all have, or
  after ``max_iter`` iterations.
- Outside ``jit`` (:func:`solve_on_cells` after :func:`occupied_cells`) the points are first
  merged into one row per occupied cell (its mean, weighted by its count), and only these rows
  iterate, padded to a power of two so that few sizes compile.
  After the first iteration all points of a cell coincide anyway, so the positions are the same
  as when every point iterates (which is what happens under ``jit``, where the number of occupied
  cells is not known when compiling); only the first iteration's shift is measured from the
  cell's mean, not from each point, so ``n_iter`` can be one less.

Clusters: the points are grouped by the cell they end in. At a fixed point, points in adjacent cells
would still pull each other together, so the occupied cells are pairwise more than one cell apart;
each is a mode, with its number of points as its strength. The modes are merged as in
:func:`jaxshift.solvers.clusters.merge_modes` (strongest first, radius ``merge_radius`` cells), which only
changes anything when the loop stopped before convergence. Every point gets the label of its
final cell (the basin rule), so there are no orphans.

The neighbourhood of a point is a box of side 3·bandwidth (not a ball), and its mean is a cell's
mean, not the point's: this approximates flat-kernel mean shift with a radius of about
1.5·bandwidth. The number of neighbour cells grows as 3^d, hence the dimension limit
:data:`MAX_DIM`.

Cell keys are int32 unless JAX's x64 mode is on (then int64): the bounding box may hold at most
2^31 - 1 cells (2^63 - 1 with x64). Larger boxes raise a ValueError when the data are concrete;
under ``jit`` with traced data the result reports ``n_clusters = 0`` and labels -1 instead.

Example:
  >>> import numpy as np, jaxshift
  >>> rng = np.random.default_rng(0)
  >>> X = np.vstack([rng.normal(0, 1, (500, 2)), rng.normal(10, 1, (500, 2))])
  >>> result = jaxshift.grid_mean_shift(X, 1.0)
  >>> int(result.n_clusters)
  2
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel
from jaxshift.reduce import prepare_data
from jaxshift.solvers import loop
from jaxshift.solvers import mean_shift as ms
from jaxshift.solvers.clusters import cluster_sizes, merge_modes, nearest_center, sorted_runs

Array = jax.Array

MAX_DIM = 6  # 3^6 = 729 neighbour cells per cell (243 searches per iteration): the cost grows as 3^d
REFINE_QUERY_BLOCK = 4  # seeds per block in the exact climb: only the seeds still moving are visited


class GridMeanShiftResult(NamedTuple):
    """What :func:`jaxshift.grid_mean_shift` returns (the vocabulary of ``MeanShiftResult``)."""

    modes: Array  # shape=(n, d): each point's final position
    converged: Array  # shape=(n,), bool: the point's last move was at most tol cells
    n_iter: Array  # shape=(), int32: iterations run
    centers: Array  # shape=(max_clusters, d): the first n_clusters rows are valid, the rest zero
    n_clusters: Array  # shape=(), int32
    labels: Array  # shape=(n,), int32: cluster of each data point
    mode_labels: Array  # shape=(n,), int32: the same (every point is its own seed)
    cluster_sizes: Array  # shape=(max_clusters,), int32: points labelled to each cluster
    bandwidth: Array  # shape=() or (d,): the cell side used

    @property
    def all_converged(self) -> Array:
        """Whether every point converged within ``max_iter``."""
        return jnp.all(self.converged, axis=-1)


def key_dtype():
    """The dtype of the cell keys: int64 with JAX's x64 mode, else int32."""
    return jnp.int64 if jax.config.jax_enable_x64 else jnp.int32


def _grid_shape(scaled: Array) -> tuple[Array, Array]:
    """Extent (cells per dimension, padded by one on each side) and row-major strides."""
    extent = jnp.floor(jnp.max(scaled, axis=0)).astype(key_dtype()) + 3
    strides = jnp.flip(jnp.cumprod(jnp.flip(jnp.concatenate([extent[1:], jnp.ones((1,), extent.dtype)]))))
    return extent, strides


def _cell_keys(position: Array, strides: Array) -> Array:
    # +1: the padding row/column of the bounding box, so cell -1 of a neighbour is still >= 0
    cells = jnp.floor(position).astype(strides.dtype) + 1
    return cells @ strides


def _runs(sorted_keys: Array) -> tuple[Array, Array, Array]:
    """Run (occupied cell) index of every sorted point, the run keys (padded with the dtype's
    maximum) and the number of runs."""
    n = sorted_keys.shape[0]
    _, run, n_runs = sorted_runs(sorted_keys)
    pad = jnp.iinfo(sorted_keys.dtype).max
    keys = jnp.full((n,), pad, sorted_keys.dtype).at[run].set(sorted_keys)
    return run, keys, n_runs


def _neighbour_means(counts: Array, sums: Array, cell_keys: Array, n_runs: Array, strides: Array) -> Array:
    """Mean of the points in the 3^d cells around each occupied cell, from the cells' point counts
    (n,) and coordinate sums (n, d) taken relative to each cell's own lower corner; the means are
    relative to the centre cell's corner. Rows >= n_runs are unused."""
    n, dim = sums.shape
    occupied = jnp.arange(n) < n_runs
    # the 3^(d-1) offsets of the other dimensions, visited by a loop (unrolled, 6-D took a minute
    # and 4 GB to compile)
    offsets = jnp.asarray(list(itertools.product((-1, 0, 1), repeat=dim - 1)), strides.dtype)
    offsets = offsets.reshape(3 ** (dim - 1), dim - 1)

    def visit(carry, offset):
        total, moment = carry
        delta = offset @ strides[:-1]
        # padded rows search for key 0, which is found nowhere useful and masked out below
        target = jnp.where(occupied, cell_keys + delta, 0)
        first = jnp.searchsorted(cell_keys, target - 1, side="left").astype(jnp.int32)
        for j in range(3):
            index = jnp.minimum(first + j, n - 1)
            hit = occupied & (first + j < n) & (cell_keys[index] <= target + 1)
            # a neighbour's corner is the centre's plus the offset, along the last axis its key difference
            last = (cell_keys[index] - target).astype(sums.dtype)
            corner = jnp.concatenate([jnp.broadcast_to(offset.astype(sums.dtype), (n, dim - 1)), last[:, None]], 1)
            total = total + jnp.where(hit, counts[index], 0.0)
            moment = moment + jnp.where(hit[:, None], sums[index] + counts[index][:, None] * corner, 0.0)
        return (total, moment), None

    start = (jnp.zeros((n,), sums.dtype), jnp.zeros((n, dim), sums.dtype))
    (total, moment), _ = jax.lax.scan(visit, start, offsets)
    return moment / jnp.where(occupied, total, 1.0)[:, None]


class GridState(NamedTuple):
    position: Array  # (m, d), in cells, sorted by the cell keys of the previous iteration
    weight: Array  # (m,): number of points each row stands for
    index: Array  # (m,), int32: original row of each row
    converged: Array  # (m,), bool


def _sorted_by_cell(position: Array, weight: Array, index: Array, strides: Array):
    keys = _cell_keys(position, strides)
    out = jax.lax.sort((keys, index, weight, *position.T), num_keys=1)
    return out[0], out[1], out[2], jnp.stack(out[3:], axis=1)


def _cell_totals(position: Array, weight: Array, run: Array) -> tuple[Array, Array, Array]:
    """Per run of sorted rows: lower corner, total weight, and weighted sum of the coordinates
    relative to the corner (coordinates in [0, 1) keep float32 sums accurate)."""
    m = position.shape[0]
    corner = jnp.floor(position)
    total = jax.ops.segment_sum(weight, run, num_segments=m, indices_are_sorted=True)
    moment = jax.ops.segment_sum(weight[:, None] * (position - corner), run, num_segments=m, indices_are_sorted=True)
    return corner, total, moment


def step(state: GridState, strides: Array, tol) -> tuple[GridState, tuple]:
    """Every row moves to the mean of the points in the 3^d cells around its own."""
    keys, index, weight, position = _sorted_by_cell(state.position, state.weight, state.index, strides)
    run, cell_keys, n_runs = _runs(keys)
    corner, total, moment = _cell_totals(position, weight, run)
    new = corner + _neighbour_means(total, moment, cell_keys, n_runs, strides)[run]
    shift_sq = jnp.sum(jnp.square(new - position), axis=1)
    return GridState(new, weight, index, shift_sq <= jnp.square(tol)), ()


def _climb_and_merge(position, weight, strides, max_iter, tol, merge_radius, *, max_clusters):
    """Move the (weighted) rows to their modes and merge their final cells.

    Returns the rows' final positions, converged flags and cluster labels (all in the input order),
    the iterations run and the :class:`~jaxshift.solvers.clusters.Clusters` (in cells)."""
    m = position.shape[0]
    start = GridState(position, weight, jnp.arange(m, dtype=jnp.int32), jnp.zeros((m,), bool))
    state, _, n_iter = loop.run(
        lambda st: step(st, strides, tol), start, max_iter=max_iter, done=lambda st: jnp.all(st.converged)
    )

    # Clusters: the cells the rows end in, strongest (most points) first.
    keys, index, weight, position = _sorted_by_cell(state.position, state.weight, state.index, strides)
    run, _, n_runs = _runs(keys)
    corner, total, moment = _cell_totals(position, weight, run)
    corner = jnp.zeros_like(corner).at[run].set(corner)
    modes = corner + moment / jnp.where(total > 0, total, 1.0)[:, None]
    valid = (jnp.arange(m) < n_runs) & (total > 0)
    clusters = merge_modes(
        modes, jnp.log(jnp.where(valid, total, 1.0)), valid, 1.0, radius=merge_radius, max_clusters=max_clusters
    )
    labels = jnp.zeros((m,), jnp.int32).at[index].set(clusters.mode_labels[run])
    final = jnp.zeros_like(position).at[index].set(position)
    converged = jnp.zeros((m,), bool).at[state.index].set(state.converged)
    return final, converged, labels, n_iter, clusters


def _result(data, bandwidth, lower, final, converged, labels, n_iter, clusters, fits, max_clusters):
    n_clusters = jnp.where(fits, clusters.n_clusters, 0)
    filled = jnp.arange(max_clusters) < jnp.minimum(n_clusters, max_clusters)
    labels = jnp.where(fits, labels, -1)
    return GridMeanShiftResult(
        modes=final * bandwidth + lower,
        converged=converged & fits,
        n_iter=n_iter,
        centers=jnp.where(filled[:, None], clusters.centers * bandwidth + lower, 0.0),
        n_clusters=n_clusters,
        labels=labels,
        mode_labels=labels,
        cluster_sizes=cluster_sizes(labels, max_clusters),
        bandwidth=bandwidth,
    )


def _scaled(data, bandwidth):
    lower = jnp.min(data, axis=0)
    scaled = (data - lower) / bandwidth
    extent, strides = _grid_shape(scaled)
    fits = jnp.all(extent > 0) & (jnp.prod(extent.astype(jnp.float32)) < float(jnp.iinfo(strides.dtype).max))
    return lower, scaled, strides, fits


def solve(data, bandwidth, max_iter, tol, merge_radius, *, max_clusters) -> GridMeanShiftResult:
    """Every point a row of its own: static shapes end to end (the path under ``jit``)."""
    n = data.shape[0]
    lower, scaled, strides, fits = _scaled(data, bandwidth)
    weight = jnp.ones((n,), data.dtype)
    out = _climb_and_merge(scaled, weight, strides, max_iter, tol, merge_radius, max_clusters=max_clusters)
    return _result(data, bandwidth, lower, *out, fits, max_clusters)


def occupied_cells(data, bandwidth):
    """The points merged by cell: each occupied cell's mean (kept inside the cell) and count, the
    cell of every point, and the number of cells (rows from it on are padding)."""
    n = data.shape[0]
    lower, scaled, strides, _ = _scaled(data, bandwidth)
    keys, index, _, position = _sorted_by_cell(
        scaled, jnp.ones((n,), data.dtype), jnp.arange(n, dtype=jnp.int32), strides
    )
    run, _, n_runs = _runs(keys)
    corner, total, moment = _cell_totals(position, jnp.ones((n,), data.dtype), run)
    corner = jnp.zeros_like(corner).at[run].set(corner)
    mean = corner + moment / jnp.maximum(total, 1.0)[:, None]
    # the mean of points in [k, k + 1) may round up to k + 1: keep it in its cell
    mean = jnp.clip(mean, corner, jnp.nextafter(corner + 1, corner))
    cell_of_point = jnp.zeros((n,), jnp.int32).at[index].set(run)
    return lower, strides, mean, total, cell_of_point, n_runs


def solve_on_cells(
    data,
    bandwidth,
    lower,
    strides,
    mean,
    total,
    cell_of_point,
    n_runs,
    max_iter,
    tol,
    merge_radius,
    *,
    rows,
    max_clusters,
) -> GridMeanShiftResult:
    """The same iterations on the first ``rows`` occupied cells, weighted by their counts."""
    real = jnp.arange(rows) < n_runs
    # padding rows sit on the first cell with no weight: they change no sum and leave no cell empty
    position = jnp.where(real[:, None], mean[:rows], mean[0])
    weight = jnp.where(real, total[:rows], 0.0)
    final, converged, labels, n_iter, clusters = _climb_and_merge(
        position, weight, strides, max_iter, tol, merge_radius, max_clusters=max_clusters
    )
    fits = jnp.ones((), bool)
    return _result(
        data,
        bandwidth,
        lower,
        final[cell_of_point],
        converged[cell_of_point],
        labels[cell_of_point],
        n_iter,
        clusters,
        fits,
        max_clusters,
    )


def refine(
    data: Array,
    bandwidth: Array,
    lower: Array,
    mean: Array,
    total: Array,
    n_runs: Array,
    refine_bandwidth: Array,
    max_iter: int | Array,
    tol: float | Array,
    merge_radius: float | Array,
    *,
    kernel: Kernel,
    rows: int,
    max_clusters: int,
) -> GridMeanShiftResult:
    """Mean shift with ``kernel`` and ``refine_bandwidth``, seeded and sped up by the grid's cells
    (from :func:`occupied_cells`; the first ``rows`` of them, ``n_runs`` real):

    1. binned: every occupied cell climbs, as a seed, on the cells' means weighted by their counts
       (``rows`` points standing for n), to the modes of the binned density;
    2. the binned modes are merged as :func:`jaxshift.mean_shift` merges modes (strongest first,
       ``merge_radius`` bandwidths): seeds that climbed to one mode, and the saddles between
       nearby modes that symmetric seeds stop on (an exact climb from a saddle creeps for
       ``max_iter`` steps), are one seed;
    3. exact: the remaining modes climb over all the data, :data:`REFINE_QUERY_BLOCK` at a time
       (only the seeds still moving are visited), and are merged as :func:`jaxshift.mean_shift`
       merges them (``merge_radius`` bandwidths);
    4. every point is labelled by its nearest centre (``labels="nearest"``).

    Every occupied cell seeds the binned climb, as every bin seeds exact mean shift with bin
    seeding: the grid's own (blurring) iterations are not used, because they merge touching
    clusters that the exact density keeps apart (4 blobs 3 standard deviations apart: 1 grid
    cluster, 4 exact ones), and no seed from a merged cluster climbs back to the lost modes.

    Returns a :class:`GridMeanShiftResult` with the exact centres, labels and sizes; ``modes`` is
    each point's centre, ``converged`` whether every exact climb converged (a binned seed that
    creeps past ``max_iter`` only seeds a little off its mode), ``n_iter`` the binned and the
    exact iterations together.
    """
    real = jnp.arange(rows) < n_runs
    cells = jnp.where(real[:, None], mean[:rows], mean[0]) * bandwidth + lower
    binned = ms.climb(
        cells, cells, refine_bandwidth, jnp.where(real, total[:rows], 0.0), kernel=kernel, tol=tol, max_iter=max_iter
    )
    found = real & ~binned.dropped
    distinct = merge_modes(
        binned.modes, binned.log_intensity, found, refine_bandwidth, radius=merge_radius, max_clusters=rows
    )
    valid = jnp.arange(rows) < distinct.n_clusters
    seeds = jnp.where(valid[:, None], distinct.centers, distinct.centers[0])
    prepared = prepare_data(data, refine_bandwidth, spatially_ordered=kernel.compact)
    state = ms.init(seeds, prepared, spatially_ordered=True)._replace(dropped=~valid)
    state, _, n_iter = ms.run(
        state, prepared, kernel=kernel, tol=tol, max_iter=max_iter, query_block=min(REFINE_QUERY_BLOCK, rows)
    )
    clusters = merge_modes(
        ms.modes(state, prepared),
        state.log_intensity,
        ~state.dropped,
        refine_bandwidth,
        radius=merge_radius,
        max_clusters=max_clusters,
    )
    labels, _ = nearest_center(data, clusters.centers, clusters.n_clusters, refine_bandwidth)
    return GridMeanShiftResult(
        modes=clusters.centers[labels],
        converged=jnp.broadcast_to(jnp.all(state.converged | state.dropped), labels.shape),
        n_iter=binned.n_iter + n_iter,
        centers=clusters.centers,
        n_clusters=clusters.n_clusters,
        labels=labels,
        mode_labels=labels,
        cluster_sizes=cluster_sizes(labels, max_clusters),
        bandwidth=bandwidth,
    )
