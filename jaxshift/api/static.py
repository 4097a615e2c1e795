"""Static arguments compared by what they do, not by which object they are.

``jax.jit`` keys its cache on static arguments by ``==`` and ``hash``. For a function made by a
factory (an Optax optimiser: ``optax.adam(0.05)`` returns new closures on every call) that is the
object's identity, so two equal optimisers would compile twice. :class:`ByBehaviour` compares
instead the code of every function reached and the values it closes over: two objects built by
the same code from equal numbers, strings, ``None``, tuples or small arrays are equal; anything else
(an object of another kind, a mutable container) is compared by identity, so different behaviour
never shares a compilation.
"""

from __future__ import annotations

import functools
import types

import numpy as np

_MAX_ARRAY_BYTES = 1 << 16


def fingerprint(obj, _active: frozenset = frozenset()):
    """A hashable description of ``obj``: equal for objects that behave the same (see the module)."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return (type(obj).__name__, obj)
    if id(obj) in _active:  # a function reaching itself through its closure
        return ("cycle", id(obj))
    active = _active | {id(obj)}
    if type(obj) is tuple or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        return (type(obj), tuple(fingerprint(x, active) for x in obj))
    if isinstance(obj, types.FunctionType):
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(fingerprint(cell.cell_contents, active))
            except ValueError:  # an empty cell
                cells.append(("empty",))
        return (
            "function",
            id(obj.__code__),
            id(obj.__globals__),
            fingerprint(obj.__defaults__, active),
            fingerprint(tuple(sorted((obj.__kwdefaults__ or {}).items())), active),
            tuple(cells),
        )
    if isinstance(obj, functools.partial):
        keywords = tuple(sorted(obj.keywords.items()))
        return ("partial", fingerprint(obj.func, active), fingerprint(obj.args, active), fingerprint(keywords, active))
    if isinstance(obj, (np.ndarray, np.generic)) and obj.nbytes <= _MAX_ARRAY_BYTES and obj.dtype.kind in "biufc":
        return ("array", obj.dtype.str, obj.shape, obj.tobytes())
    return ("object", id(obj))


class ByBehaviour:
    """A static argument for ``jax.jit`` that hashes and compares by :func:`fingerprint`.

    It keeps ``value`` alive, so the identities in its fingerprint stay unique.
    """

    __slots__ = ("value", "_key")

    def __init__(self, value):
        self.value = value
        self._key = fingerprint(value)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, ByBehaviour) and self._key == other._key

    def __repr__(self) -> str:
        return f"ByBehaviour({self.value!r})"
