"""Choosing the bandwidth: rules of thumb, and likelihood cross-validation by autodiff.

``select_bandwidth`` maximises a cross-validated log-likelihood of the kernel density estimate
over an unconstrained parametrisation (``log h``; for a full matrix, a Cholesky factor with a
log diagonal), differentiating it with ``jax.grad`` and running any Optax optimiser (L-BFGS by
default) inside one ``lax.while_loop``: it is jittable and ``vmap``-able over data sets.

Example:
  >>> import numpy as np, jaxshift
  >>> X = np.random.default_rng(0).normal(size=(400, 2))
  >>> result = jaxshift.select_bandwidth(X, form="diagonal")
  >>> bool(result.converged), result.bandwidth.shape
  (True, (2,))
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxshift import _validation as v
from jaxshift import sharding
from jaxshift.kde import FORMS, _kfold, _log_density, _loo
from jaxshift.kernels import get_kernel

Array = jax.Array

RULES = ("scott", "silverman", "normal_gradient")
OBJECTIVES = ("loo", "kfold", "minibatch")


class BandwidthResult(NamedTuple):
    """What :func:`select_bandwidth` returns."""

    bandwidth: Array  # shape=(), (d,) or (d, d)
    objective: Array  # shape=(): the cross-validated mean log-likelihood at ``bandwidth``
    n_steps: Array  # shape=(), int32: optimiser steps taken
    converged: Array  # shape=(), bool: the gradient (in the log parametrisation) fell below tol


# ---------------------------------------------------------------------------- rules of thumb


def _moments(data: Array, weights: Array | None):
    """Weighted covariance (unbiased, as numpy's ``aweights``) and the effective sample size."""
    n = data.shape[0]
    w = jnp.full((n,), 1.0 / n, data.dtype) if weights is None else weights / jnp.sum(weights)
    mean = w @ data
    centred = data - mean
    n_eff = 1.0 / jnp.sum(w * w)
    cov = (centred * w[:, None]).T @ centred / (1.0 - jnp.sum(w * w))
    return cov, n_eff


def _rule_factor(rule: str, n_eff: Array, dim: int) -> Array:
    """The multiplier of the data's scale: Scott and Silverman as scipy, and the normal-scale
    rule for the density gradient (R ks ``Hns(deriv.order=1)``), which shrinks as n^(-1/(d+6))."""
    if rule == "scott":
        return n_eff ** (-1.0 / (dim + 4))
    if rule == "silverman":
        return (n_eff * (dim + 2) / 4.0) ** (-1.0 / (dim + 4))
    return (4.0 / (n_eff * (dim + 4))) ** (1.0 / (dim + 6))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def rule_of_thumb(data, rule: str = "scott", *, form: str = "scalar", weights=None) -> Array:
    """A normal-reference bandwidth.

    ``full`` is ``factor² · covariance`` (scipy's ``gaussian_kde``), ``diagonal`` is
    ``factor · std`` per dimension and ``scalar`` is ``factor · sqrt(mean variance)``.

    Args:
      data: (n, d) points.
      rule: ``"scott"``, ``"silverman"`` or ``"normal_gradient"``.
      form: ``"scalar"``, ``"diagonal"`` or ``"full"``.
      weights: optional (n,) weights (the effective sample size replaces n, as in scipy).
    """
    v.check_choice(rule, "rule", RULES)
    v.check_choice(form, "form", FORMS)
    data = v.as_points(data, "data")
    weights = v.as_weights(weights, data.shape[0], data.dtype)
    if data.shape[0] < 2:
        raise ValueError(f"data: needs at least 2 points, got {data.shape[0]}")
    bandwidth = _rule(data, weights, rule, form)
    if v._is_concrete(bandwidth):
        _check_spread(np.asarray(bandwidth), form)
    return bandwidth


def _check_spread(bandwidth: np.ndarray, form: str) -> None:
    """A rule's bandwidth is zero where the data do not vary: say so, rather than return it."""
    scales = np.diagonal(bandwidth) if bandwidth.ndim == 2 else np.atleast_1d(bandwidth)
    if bandwidth.ndim == 2 and np.all(scales > 0):
        eig = np.linalg.eigvalsh(bandwidth)
        if eig[0] <= 1e-12 * eig[-1]:
            raise ValueError(
                "data: is rank-deficient (collinear columns), so the full rule's matrix is singular; "
                "use form='diagonal' or drop the dependent columns"
            )
    if np.any(scales <= 0):
        which = "every column" if form == "scalar" else f"column {int(np.argmin(scales > 0))}"
        raise ValueError(
            f"data: {which} is constant (zero spread), so a rule of thumb gives a zero bandwidth; "
            "pass a positive bandwidth"
        )


def _rule(data, weights, rule, form):
    cov, n_eff = _moments(data, weights)
    factor = _rule_factor(rule, n_eff, data.shape[1])
    if form == "full":
        return factor**2 * cov
    if form == "diagonal":
        return factor * jnp.sqrt(jnp.diagonal(cov))
    return factor * jnp.sqrt(jnp.mean(jnp.diagonal(cov)))


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def quantile_bandwidth(data, quantile: float = 0.3) -> Array:
    """scikit-learn's ``estimate_bandwidth``: the mean distance of each point to its k-th nearest
    neighbour (itself included), ``k = int(n · quantile)``."""
    data = v.as_points(data, "data")
    n = data.shape[0]
    v.check_fraction(quantile, "quantile")
    k = max(1, int(n * quantile))
    return _quantile_bandwidth(data, k=k)


@partial(jax.jit, static_argnames=("k",))
def _quantile_bandwidth(data, *, k):
    def kth(row):
        d2 = jnp.sum(jnp.square(data - row), axis=1)
        return jnp.sqrt(-jax.lax.top_k(-d2, k)[0][-1])

    return jnp.mean(jax.lax.map(kth, data, batch_size=256))


# ---------------------------------------------------------------------- parametrisation


def to_params(bandwidth: Array) -> Array:
    """Unconstrained parameters: ``log h``; for a matrix, its Cholesky factor with a log diagonal."""
    if jnp.ndim(bandwidth) < 2:
        return jnp.log(bandwidth)
    chol = jnp.linalg.cholesky(bandwidth)
    return jnp.tril(chol, -1) + jnp.diag(jnp.log(jnp.diagonal(chol)))


def from_params(params: Array) -> Array:
    """The inverse of :func:`to_params`."""
    if jnp.ndim(params) < 2:
        return jnp.exp(params)
    chol = jnp.tril(params, -1) + jnp.diag(jnp.exp(jnp.diagonal(params)))
    return chol @ chol.T


# ---------------------------------------------------------------------------- selection


def _check_selectable(data: np.ndarray, weights, form: str) -> None:
    """Data on which the likelihood has no maximum get an error, not a degenerate answer."""
    n, dim = data.shape
    if n < 2:
        raise ValueError(f"data: needs at least 2 points to cross-validate, got {n}")
    if weights is None:
        _, first, counts = np.unique(data, axis=0, return_index=True, return_counts=True)
        if np.any(counts > 1):
            row = int(first[np.argmax(counts > 1)])
            raise ValueError(
                f"data: has exact duplicates (row {row} occurs {int(counts.max())} times); the leave-one-out "
                "likelihood grows without bound as the bandwidth shrinks. Pass the unique rows with their counts "
                "as weights: np.unique(data, axis=0, return_counts=True)"
            )
    spread = np.ptp(data, axis=0)
    if np.any(spread == 0):
        raise ValueError(f"data: column {int(np.argmin(spread))} is constant; no bandwidth fits it")
    if form == "full" and dim > 1:
        eig = np.linalg.eigvalsh(np.cov(data, rowvar=False))
        if eig[0] <= 1e-12 * eig[-1]:
            raise ValueError(
                "data: is rank-deficient (collinear columns); a full bandwidth matrix has no "
                "likelihood maximum there. Use form='diagonal' or drop the dependent columns"
            )


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def select_bandwidth(
    data,
    *,
    form: str = "scalar",
    objective: str = "loo",
    weights=None,
    optimizer: optax.GradientTransformation | None = None,
    init="scott",
    max_steps: int = 100,
    tol: float = 1e-5,
    n_folds: int = 5,
    batch_size: int = 2048,
    key: Array | None = None,
    progress=None,
) -> BandwidthResult:
    """Maximise a cross-validated log-likelihood of the Gaussian KDE over the bandwidth.

    Args:
      data: (n, d) points.
      form: ``"scalar"`` h, ``"diagonal"`` (one h per dimension) or ``"full"`` (an SPD matrix).
      objective: ``"loo"`` (leave-one-out), ``"kfold"`` (``n_folds`` folds), or ``"minibatch"``:
        the leave-one-out likelihood of ``batch_size`` random points fixed by ``key`` (a sample
        average approximation, O(batch_size · n) per step, for large n).
      weights: optional (n,) weights; a weighted point is left out whole.
      optimizer: any Optax ``GradientTransformation``; default ``optax.lbfgs()``.
      init: a rule name (see :data:`RULES`) or an initial bandwidth of the chosen form.
      max_steps: optimiser steps at most.
      tol: converged when every component of the gradient of the mean log-likelihood with
        respect to the parameters is at most ``tol``.
      n_folds, batch_size, key: for the ``kfold`` and ``minibatch`` objectives.
      progress: optional ``progress(step, objective)``, called from inside the loop after every
        step (``jax.debug.callback``).

    Returns:
      A :class:`BandwidthResult`.
    """
    v.check_choice(form, "form", FORMS)
    v.check_choice(objective, "objective", OBJECTIVES)
    data = v.as_points(data, "data")
    n, dim = data.shape
    weights = v.as_weights(weights, n, data.dtype)
    v.check_positive_int(max_steps, "max_steps")
    v.check_non_negative(tol, "tol")
    v.check_positive_int(n_folds, "n_folds", minimum=2)
    v.check_positive_int(batch_size, "batch_size")
    if v._is_concrete(data):
        _check_selectable(np.asarray(data), None if weights is None else np.asarray(weights), form)
    if isinstance(init, str):
        v.check_choice(init, "init", RULES)
        start = _rule(data, weights, init, form)
    else:
        start = v.as_bandwidth(init, dim, data.dtype, allow_matrix=True)
        if FORMS[start.ndim] != form:
            raise ValueError(f"init: has the {FORMS[start.ndim]} form but form={form!r}")
    if key is None:
        key = jax.random.key(0)
    v.check_key(key)
    return _select(
        data,
        weights,
        start,
        tol,
        max_steps,
        key,
        objective=objective,
        optimizer=optimizer,
        n_folds=n_folds,
        batch_size=min(batch_size, n),
        progress=progress,
    )


def _objective_fn(data, weights, key, objective, n_folds, batch_size):
    """The mean log-likelihood as a function of the bandwidth."""
    gaussian = get_kernel("gaussian")
    if objective == "loo":
        return lambda h: _loo(data, h, weights, kernel=gaussian)
    if objective == "kfold":
        return lambda h: _kfold(data, h, weights, key, kernel=gaussian, n_folds=n_folds)
    n = data.shape[0]
    if weights is None:
        index = jax.random.choice(key, n, (batch_size,), replace=False)
    else:
        index = jax.random.choice(key, n, (batch_size,), replace=False, p=weights / jnp.sum(weights))
    groups = jnp.arange(n)
    return lambda h: jnp.mean(_log_density(data[index], data, h, gaussian, weights, index, groups))


@partial(jax.jit, static_argnames=("objective", "optimizer", "n_folds", "batch_size", "progress"))
def _select(data, weights, start, tol, max_steps, key, *, objective, optimizer, n_folds, batch_size, progress=None):
    mean_log_likelihood = _objective_fn(data, weights, key, objective, n_folds, batch_size)

    def loss(params):
        return -mean_log_likelihood(from_params(params))

    if optimizer is None:
        opt = optax.lbfgs()
        value_and_grad = optax.value_and_grad_from_state(loss)
    else:
        opt = optax.with_extra_args_support(optimizer)

        def value_and_grad(params, state):
            return jax.value_and_grad(loss)(params)

    params = to_params(start)

    def cond(carry):
        _, _, step, done = carry
        return (step < max_steps) & ~done

    def body(carry):
        params, state, step, _ = carry
        value, grad = value_and_grad(params, state=state)
        done = jnp.max(jnp.abs(grad)) <= tol
        if progress is not None:
            jax.debug.callback(progress, step + 1, -value)
        updates, new_state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
        new_params = optax.apply_updates(params, updates)
        keep = partial(jnp.where, done)
        return (
            jax.tree.map(keep, params, new_params),
            jax.tree.map(keep, state, new_state),
            step + jnp.where(done, 0, 1),
            done,
        )

    init = (params, opt.init(params), jnp.zeros((), jnp.int32), jnp.zeros((), bool))
    params, _, n_steps, _ = jax.lax.while_loop(cond, body, init)
    value, grad = jax.value_and_grad(loss)(params)
    converged = jnp.max(jnp.abs(grad)) <= tol
    return BandwidthResult(from_params(params), -value, n_steps, converged)


# ------------------------------------------------------------------ sweeps and clustering


class SweepResult(NamedTuple):
    """A grid of bandwidths with what each gives, ready to plot."""

    bandwidths: Array  # shape=(K,)
    loo_log_likelihood: Array  # shape=(K,)
    n_clusters: Array  # shape=(K,), int32: all clusters mean shift finds
    n_large_clusters: Array  # shape=(K,), int32: clusters holding at least min_cluster_size points


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def bandwidth_sweep(
    data,
    bandwidths,
    *,
    kernel: str = "gaussian",
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


@partial(jax.jit, static_argnames=("kernel", "chunk_size", "min_cluster_size", "clusters"))
def _sweep(data, bandwidths, *, kernel, chunk_size, min_cluster_size, clusters=True):
    from jaxshift.mean_shift import _mean_shift  # mean shift sits above this module; see mean_shift(bandwidth="auto")

    def one(h):
        loo = _loo(data, h, None, kernel=kernel)
        if not clusters:
            return loo, jnp.int32(-1), jnp.int32(-1)
        result = _mean_shift(
            data,
            h,
            None,
            None,
            300,
            1e-3,
            1.0,
            kernel=kernel,
            labels="basin",
            cluster_all=True,
            max_clusters=data.shape[0],
            query_block=1024,
            data_block=1024,
        )
        large = jnp.sum(result.cluster_sizes >= min_cluster_size, dtype=jnp.int32)
        return loo, result.n_clusters, large

    loo, counts, large = jax.lax.map(one, bandwidths, batch_size=chunk_size)
    return SweepResult(bandwidths, loo, counts, large)


def _stable_plateau(bandwidths: Array, counts: Array, keep: float = 0.75) -> Array:
    """Pick a run of bandwidths over which the cluster count stays the same.

    Runs with at least two clusters that are at least ``keep`` times as long as the longest such
    run are eligible; among them the one with the most clusters wins (then the longer one). Its
    geometric middle is returned; the largest bandwidth when no run has two or more clusters.
    """
    k = counts.shape[0]
    index = jnp.arange(k)
    starts = jnp.concatenate([jnp.ones((1,), bool), counts[1:] != counts[:-1]])
    run = jnp.cumsum(starts) - 1
    length = jax.ops.segment_sum(jnp.ones((k,), jnp.int32), run, num_segments=k)[run]
    first = jax.ops.segment_min(index, run, num_segments=k)[run]
    longest = jnp.max(jnp.where(counts >= 2, length, 0))
    eligible = (counts >= 2) & (length >= keep * longest)
    best = jnp.argmax(jnp.where(eligible, counts * (k + 1) + length, -1))
    low, high = bandwidths[first[best]], bandwidths[first[best] + length[best] - 1]
    return jnp.where(longest > 0, jnp.sqrt(low * high), bandwidths[-1])


AUTO_METHODS = ("stability", "normal_gradient", "loo")


@v.keeps_half_precision("data")
@sharding.follow_data("data", split=False)
def clustering_bandwidth(
    data, *, method: str = "stability", n_candidates: int = 24, max_points: int = 2000, key: Array | None = None
) -> Array:
    """A scalar Gaussian bandwidth chosen for clustering (what ``bandwidth="auto"`` uses).

    Methods:
      ``"stability"``: sweep ``n_candidates`` bandwidths from half the Silverman rule to twice the
        data's scale, count the clusters holding at least 5% of the points at each, and take the
        middle of a range over which that count stays the same: among the ranges with two or more
        clusters that are at least 3/4 as long as the longest, the one with the most clusters.
        Above ``max_points`` points a random subsample is swept, and the bandwidth rescaled to
        the full sample size by the normal-scale gradient rule's rate n^(-1/(d+6)).
      ``"normal_gradient"``: the normal-scale rule for the density gradient (R ks ``Hns``,
        derivative order 1), the kind of bandwidth Chacón & Duong (2013) recommend for mean shift.
      ``"loo"``: the leave-one-out likelihood maximiser (density-optimal, small for clustering).

    See ``docs/bandwidth.md`` for the evidence behind the default.
    """
    v.check_choice(method, "method", AUTO_METHODS)
    data = v.as_points(data, "data")
    if data.shape[0] < 2:
        raise ValueError(f"data: needs at least 2 points, got {data.shape[0]}")
    v.check_positive_int(n_candidates, "n_candidates", minimum=2)
    v.check_positive_int(max_points, "max_points", minimum=2)
    if key is not None:
        v.check_key(key)
    if v._is_concrete(data) and np.all(np.ptp(np.asarray(data), axis=0) == 0):
        _check_spread(np.zeros(()), "scalar")
    if method == "normal_gradient":
        return _rule(data, None, "normal_gradient", "scalar")
    if method == "loo":
        if not v._is_concrete(data):
            return select_bandwidth(data).bandwidth
        # duplicates would make the likelihood unbounded: each distinct point once, weighted by its count
        unique, counts = np.unique(np.asarray(data), axis=0, return_counts=True)
        return select_bandwidth(unique, weights=counts).bandwidth
    key = jax.random.key(0) if key is None else key
    return _stability(data, key, n_candidates=n_candidates, max_points=max_points)


@partial(jax.jit, static_argnames=("n_candidates", "max_points"))
def _stability(data, key, *, n_candidates, max_points):
    n, dim = data.shape
    sample = data if n <= max_points else data[jax.random.choice(key, n, (max_points,), replace=False)]
    m = sample.shape[0]
    scale = jnp.sqrt(jnp.mean(jnp.var(sample, axis=0)))
    # identical points (only reachable under jit, which cannot raise) would give h = 0 and 0/0
    low = jnp.where(scale > 0, 0.5 * _rule(sample, None, "silverman", "scalar"), 1.0)
    bandwidths = jnp.geomspace(low, jnp.maximum(2.0 * scale, 2.0 * low), n_candidates)
    sweep = _sweep(sample, bandwidths, kernel=get_kernel("gaussian"), chunk_size=8, min_cluster_size=max(2, m // 20))
    chosen = _stable_plateau(bandwidths, sweep.n_large_clusters)
    return chosen * (n / m) ** (-1.0 / (dim + 6))
