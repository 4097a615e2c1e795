"""Choosing the bandwidth by likelihood cross-validation: ``jax.grad`` and any Optax optimiser.

The cross-validated log-likelihood of the Gaussian KDE is maximised over an unconstrained
parametrisation (``log h``; for a full matrix, a Cholesky factor with a log diagonal) on the loop
driver, so it is jittable and ``vmap``-able over data sets, and the optimum is differentiable in the
data and weights (implicit differentiation of its stationarity condition, by
:func:`jax.lax.custom_root`: the optimiser's loop is never unrolled). Pure and unvalidated:
:func:`jaxshift.select_bandwidth` is the checked entry point.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxshift.density import gradient_cv, kde
from jaxshift.kernels import GAUSSIAN, Kernel
from jaxshift.solvers import loop

Array = jax.Array

OBJECTIVES = ("loo", "kfold", "minibatch", "gradient_ucv")


class BandwidthResult(NamedTuple):
    """What :func:`jaxshift.select_bandwidth` returns."""

    bandwidth: Array  # shape=(), (d,) or (d, d)
    objective: Array  # shape=(): the criterion at ``bandwidth`` (mean log-likelihood, or -UCV₁ for the gradient)
    n_iter: Array  # shape=(), int32: gradient evaluations (the last finds the gradient below tol)
    converged: Array  # shape=(), bool: the gradient (in the log parametrisation) fell below tol


class SelectionState(NamedTuple):
    params: Array  # the unconstrained parameters
    opt_state: optax.OptState
    done: Array  # shape=(), bool: the gradient is below tol, or the last step changed nothing


class SelectionInfo(NamedTuple):
    objective: Array  # shape=(): the mean log-likelihood at the step's start
    gradient_norm: Array  # shape=(): largest gradient component there


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


def objective_fn(
    data, weights, key, *, objective, n_folds: int, batch_size: int, kernel: Kernel = GAUSSIAN, data_axis=None
):
    """The mean cross-validated log-likelihood of the KDE as a function of the bandwidth; or, for a
    callable ``objective``, ``h -> objective(data, h, weights)``."""
    if callable(objective):
        return lambda h: objective(data, h, weights)
    if objective == "gradient_ucv":  # minimised: its negative is maximised
        return lambda h: -gradient_cv.gradient_ucv(data, h, weights, data_axis=data_axis)
    options = dict(kernel=kernel, data_axis=data_axis)
    if objective == "loo":
        return lambda h: kde.loo_log_likelihood(data, h, weights, **options)
    if objective == "kfold":
        return lambda h: kde.kfold_log_likelihood(data, h, weights, key, n_folds=n_folds, **options)
    # a sample average approximation: the same random points at every step
    index = kde.minibatch_index(key, data.shape[0], batch_size, weights, replace=False)
    return lambda h: kde.batch_loo_log_likelihood(data, h, weights, index, **options)


def select(
    data,
    weights,
    start,
    tol,
    max_iter,
    key,
    *,
    objective="loo",
    optimizer: optax.GradientTransformation | None = None,
    n_folds: int = 5,
    batch_size: int = 2048,
    kernel: Kernel = GAUSSIAN,
    progress: Array | None = None,
    data_axis=None,
) -> BandwidthResult:
    """Maximise the cross-validated likelihood from the bandwidth ``start`` (L-BFGS by default)."""
    options = dict(objective=objective, n_folds=n_folds, batch_size=batch_size, kernel=kernel, data_axis=data_axis)
    # The optimiser's loop runs on constants; the optimum's derivative in the data and weights
    # comes from its stationarity condition (implicit differentiation, below).
    constant = jax.lax.stop_gradient
    mean_log_likelihood = objective_fn(constant(data), None if weights is None else constant(weights), key, **options)

    def loss(params):
        return -mean_log_likelihood(from_params(params))

    if optimizer is None:
        opt = optax.lbfgs()
        value_and_grad = optax.value_and_grad_from_state(loss)
    else:
        opt = optax.with_extra_args_support(optimizer)

        def value_and_grad(params, state):
            return jax.value_and_grad(loss)(params)

    def step(st: SelectionState):
        value, grad = value_and_grad(st.params, state=st.opt_state)
        converged = jnp.max(jnp.abs(grad)) <= tol
        updates, new_opt_state = opt.update(grad, st.opt_state, st.params, value=value, grad=grad, value_fn=loss)
        keep = partial(jnp.where, converged)
        params = jax.tree.map(keep, st.params, optax.apply_updates(st.params, updates))
        # a step that changes nothing (a line search that cannot resolve the criterion's last
        # digits, e.g. in float32) ends the loop too: the result then reports converged=False
        stalled = jnp.all(params == st.params)
        new = SelectionState(params, jax.tree.map(keep, st.opt_state, new_opt_state), converged | stalled)
        return new, SelectionInfo(-value, jnp.max(jnp.abs(grad)))

    params = to_params(start)
    state = SelectionState(params, opt.init(params), jnp.zeros((), bool))
    state, _, n_iter = loop.run(
        step,
        state,
        max_iter=max_iter,
        done=lambda st: st.done,
        progress=progress,
        report_value=lambda st, info: info.objective,
    )
    live_log_likelihood = objective_fn(data, weights, key, **options)

    def live_loss(params):
        return -live_log_likelihood(from_params(params))

    params = jax.lax.custom_root(jax.grad(live_loss), constant(state.params), lambda _, found: found, _hessian_solve)
    value, grad = jax.value_and_grad(live_loss)(params)
    converged = jnp.max(jnp.abs(grad)) <= tol
    return BandwidthResult(from_params(params), -value, n_iter, converged)


def _hessian_solve(linear, rhs):
    """Solve the (small) linearised stationarity system by the pseudo-inverse of its matrix: the
    upper triangle of a full bandwidth's parameters does not enter the likelihood, so its rows are
    zero and get zero (and a degenerate optimum gets a finite answer, not NaN)."""
    flat = rhs.reshape(-1)
    basis = jnp.eye(flat.size, dtype=rhs.dtype)
    matrix = jax.lax.stop_gradient(jax.vmap(lambda e: linear(e.reshape(rhs.shape)).reshape(-1), out_axes=1)(basis))
    return (jnp.linalg.pinv(matrix, hermitian=True) @ flat).reshape(rhs.shape)
