"""Errors from traced values: an opt-in checked mode on ``jax.experimental.checkify``.

Outside ``jit`` the entry points raise ``ValueError`` for bad values. Inside ``jit`` (or
``vmap``) the values are tracers and cannot raise, so the results report what happened instead
(``converged``, ``n_iter``, ``dropped``). For errors from traced values, call the functions of this
module: each returns ``(error, result)`` under ``jax.jit`` and ``jax.vmap``, and ``error.throw()``
(outside ``jit``) raises ``jax.experimental.checkify.JaxRuntimeError`` with a message naming the
argument and the problem, as the eager checks would. Called eagerly with bad concrete values they
raise the plain ``ValueError`` (the boundary checks still run); the result checks (non-finite
output, ``require_convergence``) come back in ``error`` there too. The computation itself runs
outside ``checkify``, so checking costs only the checks.

Checked: non-finite data, points or seeds (the first bad row is named), bandwidths that are not
finite and positive (not positive-definite, for a matrix; below the smallest normal float),
negative or all-zero weights, ``tol``, ``merge_radius`` and ``max_iter`` out of range, a compact
kernel that drops every seed, and non-finite results; optionally, seeds that did not converge.

Example:
  >>> import jax, numpy as np
  >>> from jaxshift import checking
  >>> X = np.random.default_rng(0).normal(size=(20, 2))
  >>> error, result = jax.jit(checking.mean_shift)(X, 1.0)
  >>> error.get() is None
  True
  >>> error, result = jax.jit(checking.mean_shift)(X, -1.0)
  >>> print(error.get().splitlines()[0])
  bandwidth: must be finite and > 0 (smallest entry -1.0)...
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.experimental import checkify

from jaxshift.api import kde as _kde
from jaxshift.api import validation as v
from jaxshift.api.bandwidth import select_bandwidth as _plain_select_bandwidth
from jaxshift.api.clustering import mean_shift as _plain_mean_shift
from jaxshift.kernels import get_kernel

Array = jax.Array


def check_points(x, name: str) -> None:
    """A checkify error when a row of ``x`` is not finite, naming the first such row."""
    x = jnp.asarray(x)
    bad = ~jnp.all(jnp.isfinite(x), axis=1)
    checkify.check(~jnp.any(bad), f"{name}: row {{row}} is not finite; remove NaN/Inf rows", row=jnp.argmax(bad))


def check_bandwidth(h, name: str = "bandwidth") -> None:
    """A checkify error when a scalar or (d,) bandwidth is not finite and > 0, or a (d, d) one is
    not symmetric positive-definite (the rules of :func:`jaxshift.api.validation.bandwidth_rules`)."""
    for holds, message, fields in v.bandwidth_rules(jnp.asarray(h), jnp, name):
        checkify.check(holds, message, **fields)


def check_weights(w) -> None:
    """A checkify error for non-finite, negative or all-zero weights."""
    if w is None:
        return
    for holds, message, fields in v.weight_rules(jnp.asarray(w), jnp):
        checkify.check(holds, message, **fields)


def check_options(options: dict) -> None:
    """Checkify errors for the numeric options (``tol``, ``merge_radius``, ``entropy_tol``:
    finite and >= 0; ``max_iter``: >= 1) among ``options``, as the eager checks name them."""
    for name in ("tol", "merge_radius", "entropy_tol"):
        if name in options:
            value = jnp.asarray(options[name])
            checkify.check(
                jnp.all(jnp.isfinite(value) & (value >= 0)),
                f"{name}: must be a finite number >= 0, got {{value}}",
                value=value,
            )
    if "max_iter" in options:
        value = jnp.asarray(options["max_iter"])
        ok = value >= 1
        if jnp.issubdtype(value.dtype, jnp.floating):
            ok = ok & (value == jnp.floor(value))
        checkify.check(jnp.all(ok), "max_iter: must be an integer >= 1, got {value}", value=value)


def check_finite(tree, name: str, *, allow_minus_inf: bool = False) -> None:
    """A checkify error when a floating leaf of ``tree`` holds NaN or an infinity (``-inf``
    allowed with ``allow_minus_inf``: a compact kernel's log-density outside its support)."""
    for leaf in jax.tree.leaves(tree):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            ok = ~jnp.isnan(leaf) & (leaf != jnp.inf) if allow_minus_inf else jnp.isfinite(leaf)
            checkify.check(jnp.all(ok), f"{name}: the result is not finite (NaN or Inf); please report this")


def _checked(check_inputs, compute, check_result, args):
    """``(error, compute(*args))``: the inputs' checks, then the result's. The computation itself
    runs outside ``checkify`` (its loops need no functionalising), so this also works under ``vmap``."""
    input_error, _ = checkify.checkify(check_inputs)(*args)
    result = compute(*args)
    result_error, _ = checkify.checkify(check_result)(result)

    def first_error():
        checkify.check_error(input_error)
        checkify.check_error(result_error)

    error, _ = checkify.checkify(first_error)()
    return error, result


def mean_shift(data, bandwidth, *, seeds=None, weights=None, require_convergence: bool = False, **options):
    """:func:`jaxshift.mean_shift` with its values checked; returns ``(error, result)``.

    Args:
      data, bandwidth, seeds, weights: as :func:`jaxshift.mean_shift` (a named bandwidth is
        chosen, then checked).
      require_convergence: also an error when a seed that was not dropped stopped at ``max_iter``.
      **options: the other arguments of :func:`jaxshift.mean_shift` (``kernel``, ``labels``,
        ``max_iter``, ...).
    """
    named = bandwidth if isinstance(bandwidth, str) else None

    def check_inputs(data, bandwidth, seeds, weights):
        check_points(data, "data")
        if seeds is not None:
            check_points(seeds, "seeds")
        if named is None:
            check_bandwidth(bandwidth)
        check_weights(weights)
        check_options(options)

    def compute(data, bandwidth, seeds, weights):
        return _plain_mean_shift(data, named or bandwidth, seeds=seeds, weights=weights, **options)

    def check_result(result):
        if named is not None:
            check_bandwidth(result.bandwidth)
        check_finite((result.modes, result.centers), "mean_shift")
        checkify.check(
            ~jnp.all(result.dropped),
            "bandwidth: no seed has a data point within the kernel's reach (every seed was dropped); "
            "use a larger bandwidth or seeds nearer the data",
        )
        if require_convergence:
            moving = jnp.sum(~(result.converged | result.dropped))
            checkify.check(moving == 0, "max_iter: {k} seeds did not converge; increase max_iter", k=moving)

    return _checked(check_inputs, compute, check_result, (data, None if named else bandwidth, seeds, weights))


def log_density(points, data, bandwidth, *, weights=None, kernel="gaussian", **options):
    """:func:`jaxshift.kde.log_density` with its values checked; returns ``(error, result)``.

    Compact kernels give ``-inf`` outside their support; that is not an error, NaN is."""
    compact = get_kernel(kernel).compact

    def check_inputs(points, data, bandwidth, weights):
        check_points(points, "points")
        check_points(data, "data")
        check_bandwidth(bandwidth)
        check_weights(weights)

    def compute(points, data, bandwidth, weights):
        return _kde.log_density(points, data, bandwidth, weights=weights, kernel=kernel, **options)

    def check_result(result):
        check_finite(result, "log_density", allow_minus_inf=compact)

    return _checked(check_inputs, compute, check_result, (points, data, bandwidth, weights))


def select_bandwidth(data, *, weights=None, require_convergence: bool = False, **options):
    """:func:`jaxshift.select_bandwidth` with its values checked; returns ``(error, result)``.

    ``require_convergence`` also makes an optimiser that stopped at ``max_iter`` an error.
    Exact duplicates (which make the likelihood unbounded) are only detected outside ``jit``."""

    def check_inputs(data, weights):
        check_points(data, "data")
        check_weights(weights)
        check_options(options)

    def compute(data, weights):
        return _plain_select_bandwidth(data, weights=weights, **options)

    def check_result(result):
        check_finite((result.bandwidth, result.objective), "select_bandwidth")
        check_bandwidth(result.bandwidth, "select_bandwidth: the chosen bandwidth")
        if require_convergence:
            checkify.check(result.converged, "max_iter: the optimiser did not converge in {n} steps", n=result.n_iter)

    return _checked(check_inputs, compute, check_result, (data, weights))
