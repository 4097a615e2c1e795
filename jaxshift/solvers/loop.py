"""The one loop driver: every iterative solver (mean shift, blurring, grid, bandwidth selection,
mode merging) is a ``step(state) -> (state, info)`` run here under one ``lax.while_loop``.

Stopping and progress live in this one place:

- the loop stops when ``done(state)`` holds or after ``max_iter`` steps, and returns the final
  state, the last step's info and the number of steps taken;
- progress is reported from inside compiled code by :func:`jax.debug.callback`. The callback is
  not part of the compiled program: it is registered on the host (:func:`progress_token`) and
  the program carries an integer token, a traced argument. A new callable therefore never
  recompiles anything; calling with or without progress are two programs.

Example:
  >>> import jax.numpy as jnp
  >>> from jaxshift.solvers import loop
  >>> state, info, n_iter = loop.run(lambda x: (x / 2, x), jnp.float32(8.0), max_iter=10, done=lambda x: x < 1)
  >>> float(state), int(n_iter)
  (0.5, 4)
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

_MAX_CALLBACKS = 256
_callbacks: OrderedDict[int, Callable] = OrderedDict()
_tokens = itertools.count(1)


def progress_token(callback: Callable | None) -> Array | None:
    """An int32 token standing for ``callback(iteration, value)`` in compiled code (None for None).

    The same callable gets the same token. The registry keeps the last 256 callables: a program
    run with an older token reports nothing.
    """
    if callback is None:
        return None
    if not callable(callback):
        raise ValueError(f"progress: expected a callable progress(iteration, value), got {callback!r}")
    for token, known in _callbacks.items():
        if known is callback:
            _callbacks.move_to_end(token)
            return jnp.asarray(token, jnp.int32)
    token = next(_tokens)
    _callbacks[token] = callback
    while len(_callbacks) > _MAX_CALLBACKS:
        _callbacks.popitem(last=False)
    return jnp.asarray(token, jnp.int32)


def _dispatch(token, iteration, value) -> None:
    callback = _callbacks.get(int(np.asarray(token)))
    if callback is not None:
        callback(np.asarray(iteration), np.asarray(value))


def report(progress: Array | None, iteration: Array, value: Array) -> None:
    """Call the callback behind the ``progress`` token (if any) with ``(iteration, value)``."""
    if progress is not None:
        jax.debug.callback(_dispatch, progress, iteration, value)


def _zeros_like_shapes(tree: Any) -> Any:
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), tree)


def run(
    step: Callable[[Any], tuple[Any, Any]],
    state: Any,
    *,
    max_iter: int | Array,
    done: Callable[[Any], Array],
    progress: Array | None = None,
    report_value: Callable[[Any, Any], Array] | None = None,
) -> tuple[Any, Any, Array]:
    """``state, info = step(state)`` until ``done(state)`` or ``max_iter`` steps.

    Args:
      step: one iteration, ``state -> (state, info)``; pure.
      state: the initial state (a pytree of arrays).
      max_iter: the most steps (may be traced).
      done: ``state -> bool`` scalar; checked before every step (so a state already done takes none).
      progress: a token from :func:`progress_token`, or None.
      report_value: ``(state, info) -> scalar`` passed to the progress callback after every step.

    Returns:
      ``(state, info, n_iter)``: the final state, the last step's info (zeros if no step ran) and
      the number of steps, an int32 scalar.
    """
    info = _zeros_like_shapes(jax.eval_shape(step, state)[1])

    def cond(carry):
        n, st, _ = carry
        return (n < max_iter) & ~done(st)

    def body(carry):
        n, st, _ = carry
        st, info = step(st)
        n = n + 1
        if progress is not None:
            report(progress, n, report_value(st, info) if report_value is not None else n)
        return n, st, info

    n_iter, state, info = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), state, info))
    return state, info, n_iter
