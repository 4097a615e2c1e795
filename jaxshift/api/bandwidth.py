"""The bandwidth entry points: selection by cross-validated likelihood, rules of thumb,
scikit-learn's quantile rule, the clustering bandwidth behind ``"auto"`` and bandwidth sweeps.

Each validates once, then calls the jitted pure function of :mod:`jaxshift.density`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxshift.api import validation as v
from jaxshift.api.static import ByBehaviour
from jaxshift.density import clustering, plugin, rules, selection
from jaxshift.density.clustering import AUTO_METHODS, SweepResult
from jaxshift.density.kde import FORMS
from jaxshift.density.rules import RULES
from jaxshift.density.selection import OBJECTIVES, BandwidthResult
from jaxshift.kernels import GAUSSIAN, Kernel, get_kernel
from jaxshift.reduce import sharding
from jaxshift.solvers import loop

Array = jax.Array

_rule_of_thumb = jax.jit(rules.rule_of_thumb, static_argnames=("rule", "form"))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def rule_of_thumb(data, rule: str = "scott", *, form: str = "scalar", weights=None) -> Array:
    """A normal-reference bandwidth.

    ``full`` is ``factor² · covariance`` (scipy's ``gaussian_kde``), ``diagonal`` is
    ``factor · std`` per dimension and ``scalar`` is ``factor · sqrt(mean variance)``.

    Args:
      data: (n, d) points.
      rule: ``"scott"``, ``"silverman"`` or ``"normal_gradient"`` (the normal-scale rule for the
        density gradient, R ks ``Hns(deriv.order=1)``).
      form: ``"scalar"``, ``"diagonal"`` or ``"full"``.
      weights: optional (n,) weights (the effective sample size replaces n, as in scipy).
    """
    v.check_choice(rule, "rule", RULES)
    v.check_choice(form, "form", FORMS)
    data = v.as_points(data, "data")
    weights = v.as_weights(weights, data.shape[0], data.dtype)
    if data.shape[0] < 2:
        raise ValueError(f"data: needs at least 2 points, got {data.shape[0]}")
    bandwidth = _rule_of_thumb(data, weights, rule=rule, form=form)
    if v.is_concrete(bandwidth):
        v.check_spread(np.asarray(bandwidth), form)
    return bandwidth


_quantile_bandwidth = jax.jit(rules.quantile_bandwidth, static_argnames=("k",))
_neighbour_distances = jax.jit(rules.neighbour_distances, static_argnames=("k",))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def quantile_bandwidth(data, quantile: float = 0.3) -> Array:
    """scikit-learn's ``estimate_bandwidth``: the mean distance of each point to its k-th nearest
    neighbour (itself included), ``k = int(n · quantile)``."""
    data = v.as_points(data, "data")
    v.check_fraction(quantile, "quantile")
    return _quantile_bandwidth(data, k=max(1, int(data.shape[0] * quantile)))


def _select(
    data, weights, start, tol, max_iter, key, progress, *, objective, optimizer, n_folds, batch_size, kernel, data_axis
):
    # In the data's own units: divided by the power of two nearest their spread (exactly), the
    # selection is the same whether the data are measured in metres or in 1e-20 metres (float32
    # would otherwise under- or overflow), then scaled back. A callable objective sees the data as given.
    dim = data.shape[1]
    if isinstance(objective, ByBehaviour):
        unit = jnp.ones((), data.dtype)
    else:
        spread = jnp.max(jnp.abs(data - data[0]))
        _, exponent = jnp.frexp(jax.lax.stop_gradient(jnp.where(spread > 0, spread, 1.0)))
        unit = jax.lax.stop_gradient(jnp.ldexp(jnp.ones((), data.dtype), exponent))
    power = 2 if jnp.ndim(start) == 2 else 1
    result = selection.select(
        data / unit,
        weights,
        start / unit**power,
        tol,
        max_iter,
        key,
        objective=objective.value if isinstance(objective, ByBehaviour) else objective,
        optimizer=None if optimizer is None else optimizer.value,
        n_folds=n_folds,
        batch_size=batch_size,
        kernel=kernel,
        progress=progress,
        data_axis=data_axis,
    )
    # a log-likelihood shifts by -d log(unit); the gradient criterion is already in units of the data's spread
    if objective == "gradient_ucv" or isinstance(objective, ByBehaviour):
        value = result.objective
    else:
        value = result.objective - dim * jnp.log(unit)
    return result._replace(bandwidth=result.bandwidth * unit**power, objective=value)


_select_jit = jax.jit(
    _select, static_argnames=("objective", "optimizer", "n_folds", "batch_size", "kernel", "data_axis")
)


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def select_bandwidth(
    data,
    *,
    form: str = "scalar",
    objective="loo",
    weights=None,
    kernel: str | Kernel = "gaussian",
    optimizer: optax.GradientTransformation | None = None,
    init=None,
    max_iter: int = 100,
    tol: float = 1e-5,
    n_folds: int = 5,
    batch_size: int = 2048,
    key: Array | None = None,
    progress=None,
) -> BandwidthResult:
    """Maximise a cross-validated log-likelihood of the Gaussian KDE over the bandwidth, with
    ``jax.grad`` and an Optax optimiser, over ``log h`` (for a full matrix, a Cholesky factor with a
    log diagonal).

    Args:
      data: (n, d) points.
      form: ``"scalar"`` h, ``"diagonal"`` (one h per dimension) or ``"full"`` (an SPD matrix).
      objective: ``"loo"`` (leave-one-out), ``"kfold"`` (``n_folds`` folds), ``"minibatch"``:
        the leave-one-out likelihood of ``batch_size`` random points fixed by ``key`` (a sample
        average approximation, O(batch_size · n) per step, for large n); ``"gradient_ucv"``: the
        unbiased cross-validation of the density *gradient* (Chacón & Duong 2013, R ks
        ``Hucv(deriv.order=1)``; Gaussian kernel; see :mod:`jaxshift.density.gradient_cv`), the
        bandwidth mean shift follows; or a function
        ``objective(data, bandwidth, weights) -> scalar`` to maximise, e.g. built from
        :mod:`jaxshift.kde` (compared like ``optimizer`` for recompilation).
      weights: optional (n,) weights; a weighted point is left out whole.
      kernel: the KDE's kernel. A compact kernel's likelihood is ``-inf`` (with a zero gradient)
        while some point has no other within the bandwidth: the start is raised to the largest
        nearest-neighbour distance when it is smaller.
      optimizer: any Optax ``GradientTransformation``; default ``optax.lbfgs()``. Optimisers built
        by the same code from equal hyper-parameters (two ``optax.adam(0.05)``) share one
        compilation; see :mod:`jaxshift.api.static`.
      init: a rule name (see :func:`rule_of_thumb`) or an initial bandwidth of the chosen form;
        default ``"normal_gradient"`` for ``"gradient_ucv"``, else ``"scott"``.
      max_iter: gradient evaluations at most.
      tol: converged when every component of the gradient of the mean log-likelihood with
        respect to the parameters is at most ``tol``.
      n_folds, batch_size, key: for the ``kfold`` and ``minibatch`` objectives.
      progress: optional ``progress(iteration, objective)``, called from inside the loop after every
        step (a new callable does not recompile).

    Returns:
      A :class:`BandwidthResult`.

    Example:
      >>> import numpy as np, jaxshift
      >>> X = np.random.default_rng(0).normal(size=(400, 2))
      >>> result = jaxshift.select_bandwidth(X, form="diagonal")
      >>> bool(result.converged), result.bandwidth.shape
      (True, (2,))
    """
    v.check_choice(form, "form", FORMS)
    if not callable(objective):
        v.check_choice(objective, "objective", OBJECTIVES)
    kernel = get_kernel(kernel)
    if objective == "gradient_ucv" and kernel != GAUSSIAN:
        raise ValueError(f'kernel: the "gradient_ucv" objective is for the Gaussian kernel, got {kernel.name!r}')
    if init is None:
        init = "normal_gradient" if objective == "gradient_ucv" else "scott"
    data = v.as_points(data, "data")
    n, dim = data.shape
    weights = v.as_weights(weights, n, data.dtype)
    v.check_positive_int(max_iter, "max_iter")
    v.check_non_negative(tol, "tol")
    v.check_positive_int(n_folds, "n_folds", minimum=2)
    v.check_positive_int(batch_size, "batch_size")
    if optimizer is not None and not isinstance(optimizer, optax.GradientTransformation):
        raise ValueError(f"optimizer: expected an optax.GradientTransformation, got {optimizer!r}")
    if v.is_concrete(data):
        v.check_selectable(np.asarray(data), weights is not None, form)
    if isinstance(init, str):
        v.check_choice(init, "init", RULES)
        start = rules.rule_of_thumb(data, weights, init, form)
    else:
        start = v.as_bandwidth(init, dim, data.dtype, allow_matrix=True, name="init")
        if FORMS[start.ndim] != form:
            raise ValueError(f"init: has the {FORMS[start.ndim]} form but form={form!r}")
    if kernel.compact and isinstance(init, str):
        start = _reaching_start(data, start, form)
    if key is None:
        key = jax.random.key(0)
    v.check_key(key)
    return _select_jit(
        data,
        weights,
        start,
        tol,
        max_iter,
        key,
        loop.progress_token(progress),
        objective=ByBehaviour(objective) if callable(objective) else objective,
        optimizer=None if optimizer is None else ByBehaviour(optimizer),
        n_folds=n_folds,
        batch_size=min(batch_size, n),
        kernel=kernel,
        data_axis=sharding.current(),
    )


def _reaching_start(data, start, form):
    """A compact kernel's start at least the largest nearest-neighbour distance (per dimension:
    in the start's own metric), so that every point reaches another and the likelihood is finite."""
    h = start if start.ndim < 2 else jnp.sqrt(jnp.diagonal(start))
    scaled = data / h
    farthest = jnp.max(_neighbour_distances(scaled, k=2)) * 1.01
    factor = jnp.maximum(farthest, 1.0)
    return start * (factor**2 if start.ndim == 2 else factor)


_sweep = jax.jit(clustering.sweep, static_argnames=("kernel", "chunk_size", "min_cluster_size", "clusters"))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def bandwidth_sweep(
    data,
    bandwidths,
    *,
    kernel: str | Kernel = "gaussian",
    chunk_size: int = 8,
    min_cluster_size: int | None = None,
    clusters: bool = True,
) -> SweepResult:
    """Leave-one-out likelihood and cluster counts over a grid of scalar bandwidths.

    The grid is evaluated ``chunk_size`` bandwidths at a time, each chunk one ``vmap``-ped call
    (a single 400-wide ``vmap`` would hold 400 copies of every intermediate).

    Args:
      data: (n, d) points.
      bandwidths: (K,) positive bandwidths.
      kernel: the kernel for both the likelihood and mean shift.
      chunk_size: bandwidths per vectorised call.
      min_cluster_size: the size from which a cluster counts as large; default max(2, n/100).
      clusters: whether to run mean shift at each bandwidth (the counts are -1 without it).
    """
    kernel = get_kernel(kernel)
    data = v.as_points(data, "data")
    n = data.shape[0]
    if n < 2:
        raise ValueError(f"data: needs at least 2 points, got {n}")
    bandwidths = v.as_bandwidth_grid(bandwidths, data.dtype)
    v.check_positive_int(chunk_size, "chunk_size")
    if min_cluster_size is not None:
        v.check_positive_int(min_cluster_size, "min_cluster_size")
    size = max(2, n // 100) if min_cluster_size is None else min_cluster_size
    return _sweep(data, bandwidths, kernel=kernel, chunk_size=chunk_size, min_cluster_size=size, clusters=clusters)


_stability = jax.jit(clustering.stability_bandwidth, static_argnames=("n_candidates", "max_points"))
_normal_gradient = jax.jit(lambda data: rules.rule_of_thumb(data, None, "normal_gradient", "scalar"))
_auto_bandwidth = jax.jit(clustering.auto_bandwidth, static_argnames=("max_points",))
_plugin_gradient = jax.jit(plugin.plugin_gradient_bandwidth, static_argnames=("max_points", "stages"))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def clustering_bandwidth(
    data, *, method: str = "auto", n_candidates: int = 24, max_points: int = 2000, key: Array | None = None
) -> Array:
    """A scalar Gaussian bandwidth chosen for clustering.

    Methods:
      ``"auto"``: what ``bandwidth="auto"`` clusters with (:func:`auto_selection`): the minimiser
        of the unbiased cross-validation criterion for the density gradient (Chacón & Duong
        2013) from the normal-scale gradient rule, on at most ``max_points`` points (a random
        subsample, the bandwidth rescaled by n^(-1/(d+6))). Of high variance alone: the spurious
        modes it can give are merged afterwards by their bootstrap significance
        (:func:`jaxshift.mode_significance`), which this function does not do.
      ``"stability"``: sweep ``n_candidates`` bandwidths from half the Silverman rule to twice the
        data's scale, count the clusters holding at least 5% of the points at each, and take the
        middle of a range over which that count stays the same: among the ranges with two or more
        clusters that are at least 3/4 as long as the longest, the one with the most clusters.
        Above ``max_points`` points a random subsample is swept, and the bandwidth rescaled to
        the full sample size by the normal-scale gradient rule's rate n^(-1/(d+6)).
      ``"normal_gradient"``: the normal-scale rule for the density gradient (R ks ``Hns``,
        derivative order 1), the kind of bandwidth Chacón & Duong (2013) recommend for mean shift.
      ``"plugin_gradient"``: the two-stage plug-in bandwidth for the density gradient (the scalar
        form of R ks ``Hpi(deriv.order=1)``, ``ks::kms``'s default): the AMISE-optimal bandwidth
        with the density functional ``∫‖∇Δf‖²`` estimated from the data, its pilots chosen to
        cancel the leading bias (:mod:`jaxshift.density.plugin`); on a random subsample of at most
        ``max_points`` points, rescaled by n^(-1/(d+6)).
      ``"loo"``: the leave-one-out likelihood maximiser (density-optimal, small for clustering).
      ``"gradient_ucv"``: the minimiser of the unbiased cross-validation criterion for the density
        gradient (Chacón & Duong 2013), from the normal-scale gradient rule.

    ``"stability"`` was ``"auto"``'s rule until it was measured to find structure in one population
    (5 to 205 clusters). See ``docs/bandwidth.md`` for the evidence behind the default.
    """
    v.check_choice(method, "method", AUTO_METHODS)
    data = v.as_points(data, "data")
    if data.shape[0] < 2:
        raise ValueError(f"data: needs at least 2 points, got {data.shape[0]}")
    v.check_positive_int(n_candidates, "n_candidates", minimum=2)
    v.check_positive_int(max_points, "max_points", minimum=2)
    if key is not None:
        v.check_key(key)
    if v.is_concrete(data) and np.all(np.ptp(np.asarray(data), axis=0) == 0):
        v.check_spread(np.zeros(()), "scalar")
    if method == "normal_gradient":
        return _normal_gradient(data)
    if method == "auto":
        return auto_selection(data, max_points=max_points, key=key).bandwidth
    if method == "plugin_gradient":
        key = jax.random.key(0) if key is None else key
        return _plugin_gradient(data, None, key, max_points=max_points, stages=plugin.DEFAULT_STAGES)
    if method in ("loo", "gradient_ucv"):
        objective = "loo" if method == "loo" else "gradient_ucv"
        if not v.is_concrete(data):
            return select_bandwidth(data, objective=objective).bandwidth
        # duplicates would make the criterion unbounded: each distinct point once, weighted by its count
        unique, counts = np.unique(np.asarray(data), axis=0, return_counts=True)
        return select_bandwidth(unique, weights=counts, objective=objective).bandwidth
    key = jax.random.key(0) if key is None else key
    return _stability(data, key, n_candidates=n_candidates, max_points=max_points)


def on_a_lattice(data, max_points: int = 2000) -> bool:
    """Whether ``data`` look rounded to the bandwidth selection: concrete, with fewer than m/2
    distinct values in every column of the (at most ``max_points``) points it selects on
    (measurements of limited precision, counts). Judged on that sample, not all n points: a million
    values printed to three decimals tie often, but a sample of 2000 of them hardly ever, and the
    criterion only sees the sample. False under jit, where values are unknown."""
    if not v.is_concrete(data):
        return False
    values = np.asarray(data)
    if values.shape[0] > max_points:
        values = values[np.random.default_rng(0).choice(values.shape[0], max_points, replace=False)]
    return all(len(np.unique(column)) < values.shape[0] / 2 for column in values.T)


def auto_selection(data, *, max_points: int = 2000, key: Array | None = None) -> BandwidthResult:
    """The Gaussian bandwidth behind ``"auto"`` and what its selection did (unvalidated: ``data``
    are (n, d) points with some spread): the scalar minimiser of the gradient criterion
    ``UCV₁`` (as ``select_bandwidth(objective="gradient_ucv")``: L-BFGS from the normal-scale
    gradient rule), each distinct point once, weighted by its count. Above ``max_points`` points it
    is selected on a random subsample (``key``, default ``jax.random.key(0)``) and rescaled to the
    full sample by the rule's rate ``(n/m)^(-1/(d+6))`` (see
    :func:`jaxshift.density.clustering.auto_bandwidth`). The result's ``objective`` is ``-UCV₁``.

    Rounded data (:func:`on_a_lattice`: on the points selected on) get the plug-in bandwidth instead
    (``clustering_bandwidth(method="plugin_gradient")``; objective NaN, no iterations): on a
    lattice the pairwise distances take few values and cross-validation chases the rounding (Chiu
    1991; on iris, rounded to 0.1 cm, the criterion picks h = 0.17 standard deviations and 58
    modes), while the plug-in's double sums at its pilot bandwidths are smooth in the data."""
    key = jax.random.key(0) if key is None else key
    if on_a_lattice(data, max_points):
        h = _plugin_gradient(data, None, key, max_points=max_points, stages=plugin.DEFAULT_STAGES)
        return BandwidthResult(h, jnp.full((), jnp.nan, h.dtype), jnp.zeros((), jnp.int32), jnp.ones((), bool))
    weights = None
    if v.is_concrete(data) and data.shape[0] <= max_points:
        unique, counts = np.unique(np.asarray(data), axis=0, return_counts=True)
        if len(unique) < data.shape[0]:  # duplicates would make the criterion unbounded
            data, weights = jnp.asarray(unique, data.dtype), jnp.asarray(counts, data.dtype)
    return _auto_bandwidth(data, weights, key, max_points=max_points)
