"""Checks at the public boundary, before tracing.

Shapes are always checked; values only when they are concrete (inside ``jit`` or ``vmap`` they
are tracers, and the results report what happened instead: converged flags, iteration counts).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _float_dtype(dtype) -> np.dtype:
    """The dtype computations run in: float32 or float64 (when x64 is on); integers and
    half-precision floats are computed in the default float / float32."""
    dtype = np.dtype(dtype)
    default = np.dtype(jnp.result_type(float))
    if dtype.kind in "iub":
        return default
    if dtype.kind == "f" or dtype.name == "bfloat16":
        return np.dtype(np.float32) if dtype.itemsize < 4 else np.dtype(min(dtype, default, key=lambda t: t.itemsize))
    raise ValueError(f"must be real numbers, got dtype {dtype}")


def as_points(x, name: str, *, dim: int | None = None):
    """A (n, d) floating array with n >= 1, d >= 1 and, when concrete, only finite values."""
    if _is_concrete(x) and not isinstance(x, jax.Array):
        try:
            x = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"{name}: cannot be read as a 2-D array of numbers ({err})") from None
    try:
        dtype = _float_dtype(x.dtype)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    if x.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (n_points, n_dims), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name}: is empty (shape {tuple(x.shape)}); need at least one point and one dimension")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name}: has {x.shape[1]} columns but the data has {dim}")
    x = jnp.asarray(x, dtype)
    if _is_concrete(x):
        bad = ~np.isfinite(np.asarray(x)).all(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{name}: row {row} is not finite ({np.asarray(x)[row].tolist()}); remove NaN/Inf rows")
    return x


def as_bandwidth(h, dim: int, dtype, *, allow_matrix: bool = False):
    """A scalar or (d,) bandwidth (or, with ``allow_matrix``, a (d, d) SPD matrix); when
    concrete, finite and > 0 (positive-definite)."""
    if isinstance(h, str):
        raise ValueError(f"bandwidth: expected a positive number, one per dimension, or a name, got {h!r}")
    h = jnp.asarray(h, dtype) if _is_concrete(h) else h.astype(dtype)
    if h.ndim == 1 and h.shape[0] == 1:
        h = h[0]
    shapes = "a scalar or shape ({0},)" + (" or ({0}, {0})" if allow_matrix else "")
    if not (h.ndim == 0 or h.shape == (dim,) or (allow_matrix and h.shape == (dim, dim))):
        raise ValueError(f"bandwidth: expected {shapes.format(dim)}, got shape {tuple(h.shape)}")
    if _is_concrete(h):
        values = np.asarray(h)
        if values.ndim == 2:
            if not np.all(np.isfinite(values)):
                raise ValueError("bandwidth: the matrix must be finite")
            if not np.allclose(values, values.T, rtol=1e-10, atol=0):
                raise ValueError("bandwidth: the matrix must be symmetric")
            if np.linalg.eigvalsh(values).min() <= 0:
                raise ValueError("bandwidth: the matrix must be positive-definite")
        elif not np.all(np.isfinite(values)) or not np.all(values > 0):
            raise ValueError(f"bandwidth: must be finite and > 0, got {values.tolist()}")
    return h


def as_weights(w, n: int, dtype):
    """None, or an (n,) array of finite, non-negative weights with a positive sum."""
    if w is None:
        return None
    w = jnp.asarray(w, dtype) if _is_concrete(w) else w.astype(dtype)
    if w.shape != (n,):
        raise ValueError(f"weights: expected shape ({n},), one per data point, got {tuple(w.shape)}")
    if _is_concrete(w):
        values = np.asarray(w)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"weights: entry {int(np.argmax(~np.isfinite(values)))} is not finite")
        if np.any(values < 0):
            raise ValueError(f"weights: entry {int(np.argmax(values < 0))} is negative")
        if not values.sum() > 0:
            raise ValueError("weights: all zero; at least one point needs a positive weight")
    return w


def check_positive_int(value, name: str, minimum: int = 1) -> None:
    if _is_concrete(value):
        if isinstance(value, bool) or int(value) != value or value < minimum:
            raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")


def check_non_negative(value, name: str) -> None:
    if _is_concrete(value):
        v = np.asarray(value)
        if v.shape != () or not np.isfinite(v) or v < 0:
            raise ValueError(f"{name}: must be a finite number >= 0, got {value!r}")


def check_choice(value, name: str, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
