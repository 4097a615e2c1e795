"""A drop-in replacement for ``sklearn.cluster.MeanShift`` and its helper functions.

``from jaxshift.sklearn import MeanShift`` gives scikit-learn's estimator, with the same parameters,
defaults, attributes, centres and labels, computed by jaxshift's engine. Beyond scikit-learn:
``kernel=`` (any jaxshift kernel), ``bandwidth="auto"``, ``labels="basin"`` (each point's own
mode's cluster), and a ``ConvergenceWarning`` when seeds stop at ``max_iter``.

scikit-learn is needed for this module only: ``pip install 'jaxshift[sklearn]'``.
"""

from __future__ import annotations

import warnings
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

try:
    from sklearn.base import BaseEstimator, ClusterMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_array, check_is_fitted, validate_data
except ImportError as err:  # missing, or too old for these names
    raise ModuleNotFoundError(
        f"jaxshift.sklearn needs scikit-learn: pip install 'jaxshift[sklearn]' ({err})", name="sklearn"
    ) from None

from jaxshift.api import sizes
from jaxshift.api import validation as v
from jaxshift.api.bandwidth import quantile_bandwidth
from jaxshift.api.clustering import BANDWIDTH_NAMES, resolve_named
from jaxshift.api.significance import DEFAULT_LEVEL, MIN_TESTED, centre_significance
from jaxshift.density.significance import DEFAULT_REPLICATES, merge_roots
from jaxshift.kernels import get_kernel
from jaxshift.solvers import loop
from jaxshift.solvers import mean_shift as ms
from jaxshift.solvers.clusters import nearest_center

__all__ = ["MeanShift", "estimate_bandwidth", "get_bin_seeds", "mean_shift"]

_merge_roots = jax.jit(merge_roots)


def estimate_bandwidth(X, *, quantile=0.3, n_samples=None, random_state=0, n_jobs=None):
    """scikit-learn's ``estimate_bandwidth``: the mean distance to the ``int(n · quantile)``-th
    nearest neighbour (at least the first; the point itself counts), on ``n_samples`` random
    points if given. ``n_jobs`` is accepted and ignored."""
    X = check_array(_readable(X, "X"), dtype=[np.float64, np.float32])
    if n_samples is not None:
        v.check_positive_int(n_samples, "n_samples")
        X = X[check_random_state(random_state).permutation(X.shape[0])[:n_samples]]
    with _precision(X.dtype):
        v.check_fraction(quantile, "quantile")
        quantile = max(quantile, 1.0 / X.shape[0])  # scikit-learn uses at least one neighbour
        # scikit-learn returns a NumPy float of the data's dtype
        return np.asarray(quantile_bandwidth(X, quantile), X.dtype)[()]


def get_bin_seeds(X, bin_size, min_bin_freq=1):
    """scikit-learn's ``get_bin_seeds``: the centres (float32, times ``bin_size``) of the grid cells
    of side ``bin_size`` holding at least ``min_bin_freq`` points; ``X`` itself when
    ``bin_size`` is 0 or every point has a cell of its own (with a warning)."""
    X = check_array(_readable(X, "X"), dtype=[np.float64, np.float32])
    v.check_non_negative(bin_size, "bin_size")
    v.check_positive_int(min_bin_freq, "min_bin_freq")
    if bin_size == 0:
        return X
    cells, first, counts = np.unique(np.round(np.asarray(X) / bin_size), axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # scikit-learn's dict keeps the cells in order of first appearance
    seeds = cells[order][counts[order] >= min_bin_freq].astype(np.float32)
    if len(seeds) == len(X):
        warnings.warn(
            f"Binning data failed with provided bin_size={bin_size:f}, using data points as seeds.", stacklevel=2
        )
        return X
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = seeds * bin_size
    if not np.all(np.isfinite(scaled)):
        # a bin_size beyond float32 (scikit-learn's seeds are float32 times it): 0 x inf would be NaN
        scaled = np.clip(seeds.astype(np.float64) * bin_size, -np.finfo(X.dtype).max, np.finfo(X.dtype).max)
    return scaled


def mean_shift(
    X,
    *,
    bandwidth=None,
    seeds=None,
    bin_seeding=False,
    min_bin_freq=1,
    cluster_all=True,
    max_iter=300,
    n_jobs=None,
    kernel="flat",
    labels="nearest",
):
    """scikit-learn's ``mean_shift`` function: ``(cluster_centers, labels)``."""
    model = MeanShift(
        bandwidth=bandwidth,
        seeds=seeds,
        bin_seeding=bin_seeding,
        min_bin_freq=min_bin_freq,
        cluster_all=cluster_all,
        n_jobs=n_jobs,
        max_iter=max_iter,
        kernel=kernel,
        labels=labels,
    )
    model.fit(X)
    return model.cluster_centers_, model.labels_


def _no_point_in_reach(bandwidth: float) -> ValueError:
    """scikit-learn's error when no seed has a data point within the bandwidth."""
    return ValueError(
        f"No point was within bandwidth={bandwidth:f} of any seed. Try a different seeding strategy "
        "or increase the bandwidth."
    )


def _readable(X, name: str):
    """``X`` as scikit-learn's checks expect it, with a first non-finite row named (they say only
    that there is one); bfloat16, which they cannot read, as float32."""
    if isinstance(X, (list, tuple)) or hasattr(X, "__array__") and not hasattr(X, "tocsr"):
        try:
            array = np.asarray(X)
        except (ValueError, TypeError):
            return X  # ragged or unreadable: scikit-learn's checks say why
        if array.dtype.name == "bfloat16":
            array = X = array.astype(np.float32)
        if array.ndim == 2 and array.dtype.kind in "iufb":
            bad = ~np.isfinite(array).all(axis=1)
            if bad.any():
                row = int(np.argmax(bad))
                raise ValueError(
                    f"{name}: row {row} is not finite ({array[row].tolist()}); Input {name} contains NaN or infinity"
                )
    return X


def _precision(dtype):
    """Compute float64 input in float64 (as scikit-learn does), float32 input in float32."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


class MeanShift(ClusterMixin, BaseEstimator):
    """Mean-shift clustering, scikit-learn's estimator on jaxshift's engine.

    Parameters are scikit-learn's (``bandwidth``, ``seeds``, ``bin_seeding``, ``min_bin_freq``,
    ``cluster_all``, ``n_jobs`` (accepted, unused: the engine is vectorised), ``max_iter``) plus:

    Args:
      kernel: ``"flat"`` (scikit-learn's, the default), ``"gaussian"``, ``"epanechnikov"`` or
        ``"biweight"``.
      labels: ``"nearest"`` (nearest centre, scikit-learn's) or ``"basin"`` (the cluster of the
        point's own mode; needs every point as a seed).

    ``bandwidth`` may also be ``"auto"`` (jaxshift's clustering bandwidth, converted to ``kernel``;
    then every centre whose bootstrap significance is below 0.99 is merged into its nearest centre
    of higher density, see :func:`jaxshift.mode_significance`) or a rule name (``"scott"``,
    ``"silverman"``, ``"normal_gradient"``).

    Attributes:
      cluster_centers_: (n_clusters, n_features) in the input's floating dtype.
      labels_: (n_samples,) int.
      n_iter_: the most iterations any seed ran (scikit-learn's count).
      bandwidth_: the bandwidth used.
      cluster_significance_: ``"auto"`` only: (n_clusters,) the fraction of bootstrap replicates
        in which each cluster's valley to its parent is there (1 for the highest mode).
      n_modes_: ``"auto"`` only: the clusters before the insignificant ones were merged.
      bandwidth_selection_: ``"auto"`` only: the Gaussian bandwidth's selection by the gradient
        criterion (a :class:`jaxshift.BandwidthResult`: its ``objective`` is ``-UCV₁``, its
        ``n_iter`` the L-BFGS steps, ``converged``), before conversion to ``kernel``. For rounded
        data (fewer than m/2 distinct values in every column of the m <= 2000 points selected on)
        the plug-in bandwidth is used instead: ``objective`` NaN, ``n_iter`` 0 (see
        ``docs/bandwidth.md``).
    """

    def __init__(
        self,
        *,
        bandwidth=None,
        seeds=None,
        bin_seeding=False,
        min_bin_freq=1,
        cluster_all=True,
        n_jobs=None,
        max_iter=300,
        kernel="flat",
        labels="nearest",
    ):
        self.bandwidth = bandwidth
        self.seeds = seeds
        self.bin_seeding = bin_seeding
        self.min_bin_freq = min_bin_freq
        self.cluster_all = cluster_all
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.kernel = kernel
        self.labels = labels

    def _check_params(self):
        get_kernel(self.kernel)
        v.check_choice(self.labels, "labels", ("nearest", "basin"))
        if isinstance(self.bandwidth, str):
            v.check_choice(self.bandwidth, "bandwidth", BANDWIDTH_NAMES)
        elif self.bandwidth is not None:
            value = np.asarray(self.bandwidth)
            if value.shape != () or value.dtype.kind not in "iuf" or not (np.isfinite(value) and value > 0):
                raise ValueError(f"bandwidth: must be None, a name or a finite number > 0, got {self.bandwidth!r}")
        v.check_positive_int(self.max_iter, "max_iter", minimum=0)
        v.check_positive_int(self.min_bin_freq, "min_bin_freq")
        if self.labels == "basin" and (self.seeds is not None or self.bin_seeding):
            raise ValueError('labels: "basin" needs every point as a seed (no seeds, no bin_seeding)')

    def fit(self, X, y=None):
        """Cluster ``X`` (n_samples, n_features)."""
        self._check_params()
        X = validate_data(self, _readable(X, "X"), dtype=[np.float64, np.float32])
        with _precision(X.dtype):
            bandwidth = self._bandwidth(X)
            seeds = self._seeds(X, bandwidth)
            if bandwidth == 0:
                modes, intensity, n_iter, converged = _zero_bandwidth(X, seeds)
            else:
                modes, intensity, n_iter, converged = self._climb(X, seeds, bandwidth)
            if np.any(~converged):
                warnings.warn(
                    f"{int(np.sum(~converged))} of {len(seeds)} seeds did not converge within max_iter="
                    f"{self.max_iter} iterations; increase max_iter",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            self.n_iter_ = int(n_iter)
            self.bandwidth_ = bandwidth
            self.cluster_centers_ = _merge(modes, intensity, bandwidth).astype(X.dtype, copy=False)
            self.labels_ = self._label(X, modes, bandwidth)
            if isinstance(self.bandwidth, str) and self.bandwidth == "auto":
                self._merge_insignificant(X, bandwidth)
        return self

    def _merge_insignificant(self, X, bandwidth):
        """``"auto"``: each centre whose bootstrap significance is below the level merged into its
        parent (see :func:`jaxshift.mode_significance`; the kept ones tested again against kept
        parents, as ``mean_shift``'s ``"auto"``), its points relabelled."""
        centers = self.cluster_centers_
        k = len(centers)
        found = centre_significance(
            jnp.asarray(X),
            centers,
            k,
            jnp.asarray(bandwidth, X.dtype),
            kernel=get_kernel(self.kernel),
            weights=None,
            n_boot=DEFAULT_REPLICATES,
            key=jax.random.key(0),
            level=DEFAULT_LEVEL,
        )
        roots = np.asarray(_merge_roots(found.significance, found.parent, DEFAULT_LEVEL))[:k]
        kept = roots == np.arange(k)
        new_id = np.cumsum(kept) - 1
        self.n_modes_ = k
        self.cluster_significance_ = np.asarray(found.significance, np.float64)[:k][kept]
        self.cluster_centers_ = centers[kept]
        self.labels_ = np.where(self.labels_ >= 0, new_id[roots[np.maximum(self.labels_, 0)]], -1).astype(np.intp)

    def _bandwidth(self, X) -> float:
        if self.bandwidth is None:
            return estimate_bandwidth(X, n_jobs=self.n_jobs)
        if isinstance(self.bandwidth, str):
            if X.shape[0] < 2:
                raise ValueError(f'bandwidth: "{self.bandwidth}" needs at least 2 samples, got {X.shape[0]}')
            bandwidth, selection = resolve_named(jnp.asarray(X), self.bandwidth, get_kernel(self.kernel))
            if selection is not None:
                self.bandwidth_selection_ = selection
            return float(bandwidth)
        return float(self.bandwidth)

    def _seeds(self, X, bandwidth) -> np.ndarray:
        if self.seeds is not None:
            seeds = check_array(_readable(self.seeds, "seeds"), dtype=[np.float64, np.float32])
            if seeds.shape[1] != X.shape[1]:
                raise ValueError(f"seeds: have {seeds.shape[1]} features but X has {X.shape[1]}")
            return seeds
        if self.bin_seeding:
            seeds = np.asarray(get_bin_seeds(X, bandwidth, self.min_bin_freq))
            if len(seeds) == 0:
                raise _no_point_in_reach(bandwidth)
            return seeds
        return X

    def _climb(self, X, seeds, bandwidth):
        """Run every seed to its mode; return the kept modes, their intensities, n_iter_, converged.

        float64 input climbs in float32 first and finishes in float64 (see :func:`_climb_mixed`)
        when there are at least ``MIXED_MIN_PAIRS`` (seed, point) pairs and
        :func:`_climbs_in_float32` allows it."""
        # scikit-learn stops a seed after max_iter + 1 means (its counter starts after the first)
        h = min(bandwidth, float(np.finfo(X.dtype).max))  # 1e300 in float32 is inf
        args = (jnp.asarray(X), jnp.asarray(seeds, X.dtype), jnp.asarray(h, X.dtype), self.max_iter + 1)
        mixed = X.dtype == np.float64 and len(X) * len(seeds) >= MIXED_MIN_PAIRS and _climbs_in_float32(X, seeds, h)
        climb_fn = _climb_mixed if mixed else _climb
        positions, log_intensity, dropped, converged, steps = climb_fn(*args, kernel=get_kernel(self.kernel))
        dropped = np.asarray(dropped)
        if dropped.all():
            raise _no_point_in_reach(bandwidth)
        n_iter = max(int(np.max(np.asarray(steps))) - 1, 0)
        keep = ~dropped
        return (
            np.asarray(positions)[keep],
            np.exp(np.asarray(log_intensity)[keep]),
            n_iter,
            np.asarray(converged)[keep],
        )

    def _label(self, X, modes, bandwidth) -> np.ndarray:
        # "basin": each point's own mode (the seeds are the points) takes its nearest centre
        points = modes if self.labels == "basin" else X
        unit = _unit(bandwidth, points.dtype)
        labels, _ = _nearest(jnp.asarray(points), jnp.asarray(self.cluster_centers_, points.dtype), unit)
        labels = np.asarray(labels).astype(np.intp)
        if not self.cluster_all:
            own = np.linalg.norm((X - self.cluster_centers_[labels]) / unit, axis=1)
            labels[own > bandwidth / unit] = -1
        return labels

    def predict(self, X):
        """The nearest centre of each row of ``X`` (scikit-learn's ``predict``)."""
        check_is_fitted(self)
        X = validate_data(self, _readable(X, "X"), reset=False, dtype=[np.float64, np.float32])
        with _precision(X.dtype):
            unit = _unit(self.bandwidth_, X.dtype)
            labels, _ = _nearest(jnp.asarray(X), jnp.asarray(self.cluster_centers_, X.dtype), unit)
        return np.asarray(labels).astype(np.intp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


FLOAT32_REACH = 2.0**10  # bandwidths from the data's mean: beyond, float64 input climbs in float64 only
CELLS_MIN_POINTS = 2048  # fewer points: Morton-ordered blocks (compiled in far less time; cells 1.5x faster at 3000)
MIXED_MIN_PAIRS = 2**22  # seeds x points below which float64 input climbs in float64 only (compiled once, not thrice)


def _climbs_in_float32(X: np.ndarray, seeds: np.ndarray, bandwidth: float) -> bool:
    """Whether float64 input may climb in float32 first (:func:`_climb_mixed`): the data and
    seeds, centred on the data's mean, lie within ``FLOAT32_REACH`` bandwidths (float32's rounding
    there is at most 2^-14 bandwidths, far below ``tol``, and nothing overflows or underflows when
    cast), and no coordinate that varies repeats in more than half the points. Repeated values
    (integers, a lattice, rounded measurements) put points at exactly one bandwidth from a mean
    of points, where float32 and float64 decide the ball's edge differently."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean = np.mean(X, axis=0)
        reach = max(np.max(np.abs(X - mean)), np.max(np.abs(seeds - mean))) / bandwidth
    if not (np.isfinite(reach) and reach <= FLOAT32_REACH and np.isfinite(mean).all()):
        return False
    n = X.shape[0]
    for column in X.T:
        distinct = len(np.unique(column))
        if 1 < distinct < n / 2:
            return False
    return True


@partial(jax.jit, static_argnames=("kernel",))
def _climb(X, seeds, bandwidth, max_iter, *, kernel):
    data, state, options = _start(X, seeds, bandwidth, kernel)
    state, _, _ = ms.run(state, data, kernel=kernel, max_iter=max_iter, **options)
    return ms.modes(state, data), state.log_intensity, state.dropped, state.converged | state.dropped, state.seed_steps


@partial(jax.jit, static_argnames=("kernel",))
def _climb_mixed(X, seeds, bandwidth, max_iter, *, kernel):
    """float64 mean shift climbed in float32 and finished in float64, to scikit-learn's answer.

    1. float32: the data and seeds, less an origin on the grid of the unit (the power of two
       nearest the bandwidth) and divided by the unit (both exact, so integer-valued data stay
       exact), climb as :func:`_climb` does, each seed recording where it stood before its last
       step.
    2. float64: every seed, converged or not, steps again from there (from the seed itself if it
       took one step only) with the steps it has left of ``max_iter``, until its float64 shift is
       at most ``tol``.
    3. A seed whose float64 finish disagrees with its float32 climb (more than one finishing step,
       a different kernel sum there for a compact kernel, so a point on the other side of the
       ball's edge, or a mode more than 2^-12 bandwidths from the float32 one) climbs again in
       float64 from its seed, as :func:`_climb` would.

    scikit-learn's mode is the mean of the neighbours of the position *before* the converging step
    (a shift of at most ``tol`` is not always zero: one point crossing the ball's edge among
    thousands moves the mean by less). Restarting the float64 steps there recomputes that last
    mean in float64: where float32 and float64 see the same neighbours, the modes are
    scikit-learn's to float64 rounding, the intensities its counts and the step counts its own.
    Not caught: a point that float32's rounding put on the other side of the edge at an *earlier*
    step, after which the path met the same neighbours at its last step (then the mode is a
    float64 mean-shift mode, but may be a different one from scikit-learn's).
    """
    m = seeds.shape[0]
    tol = 1e-3
    unit = jnp.exp2(jnp.round(jnp.log2(bandwidth)))
    origin = jnp.round(jnp.mean(X, axis=0) / unit) * unit

    def to32(a):
        return ((a - origin) / unit).astype(jnp.float32)

    data32, state32, options32 = _start(to32(X), to32(seeds), (bandwidth / unit).astype(jnp.float32), kernel)

    def climb32(carry):
        state, before = carry
        moving = ~(state.converged | state.dropped)
        before = jnp.where(moving[:, None], state.position, before)
        state, info = ms.step(state, data32, kernel=kernel, tol=tol, **options32)
        return (state, before), info

    (state32, before), _, _ = loop.run(
        climb32, (state32, state32.position), max_iter=max_iter, done=lambda carry: ms.done(carry[0])
    )

    def to64(position):
        return (position.astype(X.dtype) + data32.origin.astype(X.dtype)) * unit + origin

    start = jnp.where((state32.seed_steps <= 1)[:, None], seeds, to64(before))
    steps_before = jnp.maximum(state32.seed_steps - 1, 0)
    data64, finish, options64 = _start(X, start, bandwidth, kernel)
    finish = finish._replace(seed_steps=steps_before)

    def finish64(carry):
        state, out_of_steps = carry
        state, info = ms.step(state, data64, kernel=kernel, tol=tol, **options64)
        # a seed at its budget stops (as scikit-learn's does), not converged
        stop = ~(state.converged | state.dropped) & (state.seed_steps >= max_iter)
        return (state._replace(converged=state.converged | stop), out_of_steps | stop), info

    (finish, out_of_steps), _, _ = loop.run(
        finish64, (finish, jnp.zeros((m,), bool)), max_iter=max_iter, done=lambda carry: ms.done(carry[0])
    )
    finish = finish._replace(converged=finish.converged & ~out_of_steps)

    found = ms.modes(finish, data64)
    apart = jnp.sqrt(jnp.sum(jnp.square(found - to64(state32.position)), axis=1)) / bandwidth
    suspect = (finish.seed_steps - steps_before > 1) | (apart > 2.0**-12) | (state32.dropped != finish.dropped)
    if kernel.compact:
        sums = jnp.exp(finish.log_intensity) - jnp.exp(state32.log_intensity.astype(X.dtype))
        suspect |= ~finish.dropped & ~(jnp.abs(sums) <= 0.25)

    # the suspects climb again in float64 from their seeds (the others, marked converged, are skipped)
    _, again, _ = _start(X, seeds, bandwidth, kernel, data64, options64)
    again, _, _ = ms.run(
        again._replace(converged=~suspect), data64, kernel=kernel, tol=tol, max_iter=max_iter, **options64
    )

    def pick(a, b):
        return jnp.where(suspect.reshape((m,) + (1,) * (a.ndim - 1)), a, b)

    return (
        pick(ms.modes(again, data64), found),
        pick(again.log_intensity, finish.log_intensity),
        pick(again.dropped, finish.dropped),
        pick(again.converged, finish.converged) | pick(again.dropped, finish.dropped),
        pick(again.seed_steps, finish.seed_steps),
    )


def _start(data, seeds, bandwidth, kernel, prepared=None, options=None):
    """The prepared data, the seeds' start state and the step's options, as
    :func:`jaxshift.solvers.mean_shift.climb` makes them (:func:`~jaxshift.solvers.mean_shift.lay_out`);
    ``prepared`` and ``options`` from an earlier call are reused."""
    if prepared is None:
        prepared, options = ms.lay_out(data, bandwidth, kernel=kernel, min_cell_points=CELLS_MIN_POINTS)
    return prepared, ms.start(seeds, prepared, options, kernel=kernel), options


def _nearest(points, centers, unit):
    """Nearest centre of each point. The centres are padded as the significance test pads them
    and their count passed as data, so refits that find another number of clusters compile nothing."""
    centers = np.asarray(centers)
    k = centers.shape[0]
    rows = sizes.power_of_two_rows(k, MIN_TESTED)
    padded = np.zeros((rows, centers.shape[1]), centers.dtype)
    padded[:k] = centers
    return _nearest_padded(points, padded, np.int32(k), unit)


@jax.jit
def _nearest_padded(points, centers, n_centers, unit):
    return nearest_center(points, centers, n_centers, unit)


def _merge(modes: np.ndarray, intensity: np.ndarray, bandwidth: float) -> np.ndarray:
    """scikit-learn's post-processing, exactly: a dict of centres (a later equal centre replaces an
    earlier one), sorted by (intensity, coordinates) descending, then greedy removal of every centre
    within ``bandwidth`` of a kept one."""
    table = {}
    for mode, count in zip(map(tuple, modes), intensity, strict=True):
        table[mode] = count
    ordered = sorted(table.items(), key=lambda item: (item[1], item[0]), reverse=True)
    centers = np.array([mode for mode, _ in ordered])
    unit = _unit(bandwidth, modes.dtype)  # distances in units of a power of two: the same decisions, and no overflow
    alive = np.ones(len(centers), bool)
    kept = []
    for i in range(len(centers)):
        if alive[i]:
            kept.append(i)
            alive &= np.linalg.norm((centers - centers[i]) / unit, axis=1) > bandwidth / unit
    return centers[kept]


def _unit(bandwidth: float, dtype) -> float:
    """The power of two at or below ``bandwidth`` within ``dtype``'s normal numbers (1 for 0):
    distances divided by it are the same comparisons, and neither overflow nor underflow."""
    info = np.finfo(dtype)
    if not bandwidth > 0:
        return 1.0
    return float(2.0 ** np.clip(np.floor(np.log2(bandwidth)), info.minexp, info.maxexp - 1))


def _zero_bandwidth(X, seeds):
    """scikit-learn with a zero bandwidth: a seed's only neighbours are the points equal to it."""
    unique, counts = np.unique(X, axis=0, return_counts=True)
    lookup = {tuple(row): c for row, c in zip(unique, counts, strict=True)}
    found = [(tuple(s), lookup[tuple(s)]) for s in np.asarray(seeds, X.dtype) if tuple(s) in lookup]
    if not found:
        raise _no_point_in_reach(0.0)
    modes = np.array([f[0] for f in found], X.dtype)
    return modes, np.array([f[1] for f in found], float), 0, np.ones(len(found), bool)
