"""The clustering entry points: mean shift, blurring mean shift, grid mean shift, bin seeds.

Each validates its arguments once (naming the argument in every error), resolves names (kernels,
``"auto"``), picks the back end and calls the jitted solver of :mod:`jaxshift.solvers`. Compiled
once per shape and static option, so eager calls reuse it; inside a caller's ``jit`` it is inlined.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxshift.api import sizes
from jaxshift.api import validation as v
from jaxshift.api.bandwidth import auto_selection, on_a_lattice, rule_of_thumb
from jaxshift.api.significance import auto_merge
from jaxshift.density.selection import BandwidthResult
from jaxshift.kernels import GAUSSIAN, Kernel, get_kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, attention, sharding
from jaxshift.solvers import blurring, grid, loop
from jaxshift.solvers import mean_shift as ms
from jaxshift.solvers.blurring import BlurringResult
from jaxshift.solvers.grid import GridMeanShiftResult
from jaxshift.solvers.mean_shift import LABEL_RULES, MeanShiftResult

Array = jax.Array

BANDWIDTH_NAMES = ("auto", "scott", "silverman", "normal_gradient")
BACKENDS = ("auto", "blockwise", "attention")


def resolve_bandwidth(data: Array, name: str, kernel: Kernel) -> Array:
    """A named bandwidth for ``data`` (see :func:`resolve_named`)."""
    return resolve_named(data, name, kernel)[0]


def resolve_named(data: Array, name: str, kernel: Kernel) -> tuple[Array, BandwidthResult | None]:
    """A named bandwidth for ``data``: chosen for the Gaussian (``"auto"``: by the gradient
    criterion, see :func:`jaxshift.api.bandwidth.auto_selection`, whose result comes second; or a
    rule of thumb, with None), carried over to ``kernel`` by canonical scaling (Marron & Nolan 1988)."""
    v.check_choice(name, "bandwidth", BANDWIDTH_NAMES)
    if data.shape[0] < 2:
        raise ValueError(f'bandwidth: "{name}" needs at least 2 data points, got {data.shape[0]}')
    selection = None
    if name == "auto":
        if v.is_concrete(data) and np.all(np.ptp(np.asarray(data), axis=0) == 0):
            v.check_spread(np.zeros(()), "scalar")
        selection = auto_selection(data)
        gaussian = selection.bandwidth
    else:
        gaussian = rule_of_thumb(data, name)
    dim = data.shape[1]
    return gaussian * math.exp(kernel.log_canonical_scale(dim) - GAUSSIAN.log_canonical_scale(dim)), selection


def _backend(backend: str, kernel: Kernel, dim: int, dtype, n_seeds: int) -> str:
    """``"blockwise"``, or the fused-attention implementation (``"cudnn"``, ``"emulated"``) that
    ``backend`` asks for. ``"auto"`` keeps float64 data on the exact path (asking for doubles is
    asking for exactness), and fewer seeds than one attention block too (measured faster in fp32)."""
    v.check_choice(backend, "backend", BACKENDS)
    suitable = kernel == GAUSSIAN and dim <= attention.MAX_DIM
    if backend == "attention" and not suitable:
        raise ValueError(
            f'backend: "attention" needs the Gaussian kernel and at most {attention.MAX_DIM} dimensions, '
            f"got kernel {kernel.name!r} and {dim} dimensions"
        )
    on_gpu = attention.attention_available()
    worth_it = dtype != jnp.float64 and n_seeds >= attention.DEFAULT_QUERY_BLOCK
    if backend == "blockwise" or (backend == "auto" and not (suitable and on_gpu and worth_it)):
        return "blockwise"
    return "cudnn" if on_gpu else "emulated"


# the options of solvers.mean_shift.solve that shape its program (the trace-count tests reuse them)
MEAN_SHIFT_STATIC = (
    "kernel",
    "labels",
    "cluster_all",
    "max_clusters",
    "query_block",
    "data_block",
    "backend",
    "data_axis",
    "accelerate",
)
_solve_mean_shift = jax.jit(ms.solve, static_argnames=MEAN_SHIFT_STATIC)


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
    accelerate: bool = False,
) -> MeanShiftResult:
    """Cluster ``data`` by the modes its kernel density estimate climbs to.

    Args:
      data: (n, d) points.
      bandwidth: scalar or (d,) per-dimension bandwidth (the Gaussian's standard deviation, the
        compact kernels' radius), or a (d, d) symmetric positive-definite matrix ``H`` (the
        Gaussian's covariance, as :mod:`jaxshift.kde`; the data are whitened by its Cholesky factor,
        and ``tol``, ``merge_radius`` and the labels' distances are in its metric); may be traced,
        so it can be ``vmap``-ped, ``jit``-ted over and differentiated.
        Or a name: ``"auto"`` (the minimiser of the cross-validation criterion for the density
        gradient, then every cluster whose bootstrap significance is below 0.99 merged into its
        nearest kept cluster of higher density, the kept ones tested again against their nearest
        kept parent until none drops, see :func:`jaxshift.mode_significance` for one pass; the result's
        ``auto`` field, a :class:`~jaxshift.AutoReport`, gives the bandwidth, the criterion, the
        optimiser's steps and convergence, and each cluster's significance) or a rule of thumb
        (``"scott"``, ``"silverman"``, ``"normal_gradient"``), each converted to ``kernel`` by
        canonical scaling.
      kernel: ``"gaussian"``, ``"flat"`` (scikit-learn's), ``"epanechnikov"``, ``"biweight"`` or a
        :class:`~jaxshift.kernels.Kernel` of your own.
      seeds: (m, d) starting points; the data itself by default.
      weights: optional (n,) non-negative weights of the data points.
      max_iter: the most steps any seed takes.
      tol: a seed converges when its shift is at most ``tol`` bandwidths (scikit-learn: 1e-3).
      labels: ``"basin"`` (each point's own mode's cluster; needs ``seeds=None``) or ``"nearest"``
        (nearest centre, as scikit-learn). Default: ``"basin"`` without seeds, else ``"nearest"``.
      cluster_all: if False, points farther than one bandwidth from their centre get label -1.
      merge_radius: modes closer than this many bandwidths are one cluster.
      max_clusters: static number of centre rows (default: one per seed, never truncated). With
        fewer rows than clusters the strongest are kept, ``truncated`` is set, ``n_clusters`` still
        counts them all, the other clusters' modes and (``"basin"``) points get label -1, and
        (``"nearest"``) points go to the nearest kept centre; ``cluster_sizes`` counts the labels.
      query_block, data_block: tile sizes of the kernel reduction (``query_block`` defaults to
        1024 seeds, 32768 on the attention path).
      progress: optional ``progress(iteration, seeds_still_moving)``, called after every step
        (the computation stays pure without it; a new callable does not recompile).
      backend: ``"blockwise"`` (the exact reduction of :mod:`jaxshift.reduce`, in the data's
        precision), ``"attention"`` (Gaussian only: half-precision fused attention steps, see
        :mod:`jaxshift.reduce.attention`, then exact steps from one representative per
        0.05-bandwidth cell) or ``"auto"`` (attention for the Gaussian with float32 data and at
        least 32768 seeds on an NVIDIA GPU, else blockwise).
      accelerate: Gaussian kernel, blockwise path: each iteration a SQUAREM cycle (two steps, an
        extrapolation and a third step, kept only if the density rose; see
        :func:`jaxshift.solvers.mean_shift.squarem_cycle`). The same fixed points, to the same
        ``tol``, in far fewer steps when the bandwidth is small against the clusters (the plain
        step's linear convergence is then slow: 124 steps against 9 cycles for 2263 seeds on 1e5
        points). A seed near the boundary of two basins may reach the other mode, so it suits
        seeds labelled ``"nearest"`` more than ``"basin"`` labels.

    Returns:
      A :class:`MeanShiftResult`.

    Raises:
      ValueError: for bad input, naming the argument (values are only checked outside ``jit``).

    Example:
      >>> import numpy as np, jaxshift
      >>> rng = np.random.default_rng(0)
      >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(8, 1, (50, 2))])
      >>> int(jaxshift.mean_shift(X, 2.0).n_clusters)
      2
    """
    kernel = get_kernel(kernel)
    placement = sharding.current()
    data = v.as_points(data, "data")
    n, dim = data.shape
    auto = isinstance(bandwidth, str) and bandwidth == "auto"
    if isinstance(bandwidth, str):
        bandwidth, selection = resolve_named(data, bandwidth, kernel)
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype, allow_matrix=True)
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
    if not isinstance(accelerate, bool):
        raise ValueError(f"accelerate: expected True or False, got {accelerate!r}")
    if accelerate and kernel != GAUSSIAN:
        raise ValueError(
            f"accelerate: needs the Gaussian kernel (its steps never lower the density), got {kernel.name!r}"
        )
    if accelerate and backend == "attention":
        raise ValueError('accelerate: runs on the blockwise path; use backend="blockwise" or "auto"')
    chosen = "blockwise" if placement is not None or accelerate else _backend(backend, kernel, dim, data.dtype, m)
    if query_block is None:
        query_block = DEFAULT_QUERY_BLOCK if chosen == "blockwise" else attention.DEFAULT_QUERY_BLOCK
    v.check_blocks(query_block, data_block)
    rows = m if max_clusters is None else int(max_clusters)
    options = dict(
        kernel=kernel,
        labels=labels,
        cluster_all=cluster_all,
        query_block=query_block,
        data_block=data_block,
        backend=chosen,
        data_axis=placement,
        progress=None if placement is not None else loop.progress_token(progress),
        accelerate=accelerate,
    )
    if placement is None and v.is_concrete(data):
        # eager: n and m padded to size classes, so that a new n seldom compiles anew
        size = sizes.size_class(n)
        seed_size = size if seeds is None else sizes.size_class(m)
        result = _solve_mean_shift(
            sizes.padded_rows(data, size),
            bandwidth,
            None if seeds is None else sizes.padded_rows(seeds, seed_size),
            sizes.padded_weights(weights, n, size, data.dtype),
            max_iter,
            tol,
            merge_radius,
            max_clusters=seed_size if max_clusters is None else rows,
            n_seeds=sizes.seeds_count(m),
            **options,
        )
        result = sizes.unpadded(result, n, m, rows)
    else:
        result = _solve_mean_shift(
            data, bandwidth, seeds, weights, max_iter, tol, merge_radius, max_clusters=rows, **options
        )
    if auto:  # the clusters that are not significant merged, and a report of what was done
        result = auto_merge(data, result, selection, kernel=kernel, weights=weights, rounded=on_a_lattice(data))
    return result


def bin_seeds(data, bin_size, min_bin_freq: int = 1) -> np.ndarray:
    """Seeds at the centres of the grid cells of side ``bin_size`` (a scalar, or one side per
    dimension as ``mean_shift`` takes a per-dimension bandwidth) that hold at least
    ``min_bin_freq`` points (scikit-learn's bin seeding); the data itself when every point has a
    cell of its own. A side of 0 leaves its dimension unbinned. Runs on the host: its output size
    depends on the data."""
    data = np.asarray(v.as_points(data, "data"))
    dim = data.shape[1]
    if np.ndim(bin_size) == 0:
        v.check_non_negative(bin_size, "bin_size")
        sizes = np.full(dim, bin_size, dtype=np.float64)
    else:
        sizes = np.asarray(bin_size)
        if sizes.shape != (dim,) or sizes.dtype.kind not in "iuf":
            raise ValueError(f"bin_size: expected a number or shape ({dim},) of numbers, got {bin_size!r}")
        if not np.all(np.isfinite(sizes) & (sizes >= 0)):
            raise ValueError(f"bin_size: must be finite numbers >= 0, got {sizes.tolist()}")
        sizes = sizes.astype(np.float64)
    v.check_positive_int(min_bin_freq, "min_bin_freq")
    if not np.any(sizes > 0):
        return data
    binned = sizes > 0
    scale = np.where(binned, sizes, 1.0)
    keys = np.where(binned, np.round(data / scale), data)
    cells, counts = np.unique(keys, axis=0, return_counts=True)
    cells = cells[counts >= min_bin_freq]
    if len(cells) == len(data):
        return data
    if len(cells) == 0:
        side = f"{float(bin_size):g}" if np.ndim(bin_size) == 0 else str(sizes.tolist())
        raise ValueError(f"min_bin_freq: no cell of side {side} holds {min_bin_freq} points")
    return np.where(binned, cells * scale, cells).astype(data.dtype)


_solve_blurring = jax.jit(blurring.solve, static_argnames=("kernel", "n_bins", "query_block", "data_block"))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def blurring_mean_shift(
    data,
    bandwidth,
    *,
    kernel: str | Kernel = "gaussian",
    max_iter: int | Array = 100,
    tol: float | Array = 1e-3,
    entropy_tol: float | Array = 1e-8,
    n_bins: int | None = None,
    merge_radius: float | Array = 1.0,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
) -> BlurringResult:
    """Blurring mean shift (the tutorial's algorithm: the data moves with every step) with
    Carreira-Perpiñán's (ICML 2006) stopping rule.

    Run to convergence it collapses every cluster into one point and then the clusters into each
    other, so it stops at the first of: the entropy of the step-length histogram changes by less
    than ``entropy_tol`` (the clusters have formed and move as rigid bodies), every step is at
    most ``tol`` bandwidths (full collapse), or ``max_iter`` iterations. Points ending within
    ``merge_radius`` bandwidths of each other form one cluster.

    Args:
      data: (n, d) points.
      bandwidth: scalar or (d,) bandwidth.
      kernel: a kernel name (see :data:`jaxshift.KERNEL_NAMES`) or a :class:`~jaxshift.kernels.Kernel`.
      max_iter, tol, entropy_tol: stopping rules (see above).
      n_bins: histogram bins; default ``max(10, n // 10)``.
      merge_radius: in bandwidths.
      query_block, data_block: tile sizes of the kernel reduction.
    """
    kernel = get_kernel(kernel)
    data = v.as_points(data, "data")
    n, dim = data.shape
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype)
    v.check_positive_int(max_iter, "max_iter")
    v.check_non_negative(tol, "tol")
    v.check_non_negative(entropy_tol, "entropy_tol")
    n_bins = max(10, n // 10) if n_bins is None else n_bins
    v.check_positive_int(n_bins, "n_bins")
    v.check_non_negative(merge_radius, "merge_radius")
    v.check_blocks(query_block, data_block)
    return _solve_blurring(
        data,
        bandwidth,
        max_iter,
        tol,
        entropy_tol,
        merge_radius,
        kernel=kernel,
        n_bins=n_bins,
        query_block=query_block,
        data_block=data_block,
    )


_solve_grid = jax.jit(grid.solve, static_argnames=("max_clusters",))
_occupied_cells = jax.jit(grid.occupied_cells)
_solve_grid_on_cells = jax.jit(grid.solve_on_cells, static_argnames=("rows", "max_clusters"))
_refine_grid = jax.jit(grid.refine, static_argnames=("kernel", "rows", "max_clusters"))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def grid_mean_shift(
    data,
    bandwidth,
    *,
    max_iter: int | Array = 100,
    tol: float | Array = 1e-3,
    merge_radius: float | Array = 1.0,
    max_clusters: int | None = None,
    refine: bool = False,
    kernel: str | Kernel | None = None,
    refine_bandwidth=None,
) -> GridMeanShiftResult:
    """Cluster ``data`` with grid mean shift (MeanShift++, Jang & Jiang 2021): each point moves to
    the mean of the points in the 3^d grid cells around its own (see :mod:`jaxshift.solvers.grid`);
    with ``refine=True``, exact mean shift seeded and sped up by the grid's cells.

    Args:
      data: (n, d) points, 1 <= d <= 6.
      bandwidth: the grid's cell side: a scalar, or (d,) one per dimension; may be traced. The
        neighbourhood is the 3 x 3 x ... box of cells around a point's cell, so a cell side ``h``
        is comparable to a flat kernel of radius about ``1.5 h``.
      max_iter: the most iterations.
      tol: a point has converged when it moves at most ``tol`` cells.
      merge_radius: final cells whose means are closer than this many cells are one cluster
        (refined: modes closer than this many ``refine_bandwidth`` s).
      max_clusters: static number of centre rows (default n: never truncated).
      refine: exact mean shift instead (default False: MeanShift++ as published, the fastest).
        With ``kernel`` and ``refine_bandwidth``: every occupied grid cell climbs on the cells'
        means weighted by their counts (cheap: cells, not points), the distinct modes found then
        climb over all the data, are merged as :func:`mean_shift` merges them, and every point
        is labelled by its nearest centre (as ``mean_shift(..., labels="nearest")`` with bin
        seeds, and scikit-learn). Touching clusters get the exact method's boundaries, not the
        box's (see :func:`jaxshift.solvers.grid.refine`). Centres are ordered by density. Needs
        concrete data (not under ``jit``: the number of cells sizes the computation).
      kernel: the exact kernel (default ``"gaussian"``); only with ``refine=True``.
      refine_bandwidth: the exact kernel's bandwidth (scalar or (d,)); default ``bandwidth``
        (the Gaussian's standard deviation one cell: a little smoother than the box of 3^d cells,
        whose per-dimension standard deviation is 0.87 cells). Only with ``refine=True``.

    Returns:
      A :class:`GridMeanShiftResult`; refined, with the exact centres, labels and sizes, each
      point's centre as its mode, and ``n_iter`` counting the binned and the exact iterations.

    Raises:
      ValueError: for bad input, naming the argument (values are only checked outside ``jit``).
    """
    data = v.as_points(data, "data")
    n, dim = data.shape
    if dim > grid.MAX_DIM:
        raise ValueError(
            f"data: grid mean shift visits 3^d neighbour cells and supports at most {grid.MAX_DIM} dimensions, "
            f"got {dim}; use jaxshift.mean_shift"
        )
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype)
    v.check_positive_int(max_iter, "max_iter")
    v.check_non_negative(tol, "tol")
    v.check_non_negative(merge_radius, "merge_radius")
    if max_clusters is not None:
        v.check_positive_int(max_clusters, "max_clusters")
    if refine not in (True, False):
        raise ValueError(f"refine: expected True or False, got {refine!r}")
    if refine:
        kernel = get_kernel("gaussian" if kernel is None else kernel)
        refine_bandwidth = bandwidth if refine_bandwidth is None else refine_bandwidth
        refine_bandwidth = v.as_bandwidth(refine_bandwidth, dim, data.dtype, name="refine_bandwidth")
    elif kernel is not None or refine_bandwidth is not None:
        name = "kernel" if kernel is not None else "refine_bandwidth"
        raise ValueError(f"{name}: only used by the exact finish (refine=True); the grid's neighbourhood is its cells")
    concrete = v.is_concrete(data) and v.is_concrete(bandwidth)
    if concrete:
        span = (np.max(np.asarray(data), axis=0) - np.min(np.asarray(data), axis=0)) / np.asarray(bandwidth)
        cells = np.prod(np.floor(span) + 3.0)
        limit = float(jnp.iinfo(grid.key_dtype()).max)
        if cells >= limit:
            raise ValueError(
                f"bandwidth: a grid of cells of this side over the data's bounding box has {cells:.3g} cells, "
                f"more than the {limit:.3g} the cell keys can index; use a larger bandwidth"
                + ("" if jax.config.jax_enable_x64 else " or enable jax_enable_x64 (64-bit keys)")
            )
    max_clusters = n if max_clusters is None else int(max_clusters)
    if refine and not concrete:
        raise ValueError("refine: needs concrete data and bandwidth (the number of occupied cells sizes it), not jit")
    if not concrete:
        return _solve_grid(data, bandwidth, max_iter, tol, merge_radius, max_clusters=max_clusters)
    # Points that share a cell move together from the first iteration on, so they are merged into one
    # weighted row per occupied cell first; the rows are padded to a power of two so that few sizes compile.
    cells = _occupied_cells(data, bandwidth)
    rows = min(n, 1 << max(int(cells[-1]) - 1, 0).bit_length())
    if refine:
        lower, _, mean, total, _, n_runs = cells
        return _refine_grid(
            data,
            bandwidth,
            lower,
            mean,
            total,
            n_runs,
            refine_bandwidth,
            max_iter,
            tol,
            merge_radius,
            kernel=kernel,
            rows=rows,
            max_clusters=max_clusters,
        )
    return _solve_grid_on_cells(
        data, bandwidth, *cells, max_iter, tol, merge_radius, rows=rows, max_clusters=max_clusters
    )
