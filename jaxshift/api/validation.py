"""Checks at the public boundary, before tracing.

Shapes are always checked; values only when they are concrete (inside ``jit`` or ``vmap`` they
are tracers, and the results report what happened instead: converged flags, iteration counts).
The rules on bandwidths and weights are written once (:func:`bandwidth_rules`,
:func:`weight_rules`) and serve both the eager checks here and the traced ones of
:mod:`jaxshift.checking`.
"""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np

HALF_DTYPES = ("float16", "bfloat16")


def is_concrete(x) -> bool:
    """Whether ``x`` is a value (not a tracer inside ``jit``, ``vmap`` or ``grad``)."""
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


def _is_real_dtype(dtype) -> bool:
    dtype = np.dtype(dtype)
    return dtype.kind in "iuf" or dtype.name == "bfloat16"


def _concrete_array(x, name: str, what: str) -> np.ndarray:
    """``np.asarray(x)`` with a named error for what numpy cannot read (ragged lists, None)."""
    if x is None:
        raise ValueError(f"{name}: expected {what}, got None")
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise ValueError(f"{name}: cannot be read as {what} ({err})") from None


def half_precision(x) -> np.dtype | None:
    """The dtype of ``x`` if it is float16 or bfloat16 (computed in float32, returned in it), else None."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or isinstance(x, (str, bytes)):
        return None
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return None
    return dtype if dtype.name in HALF_DTYPES else None


def to_half(result, dtype):
    """Cast the floating arrays of ``result`` (any pytree) to ``dtype``; ``result`` unchanged if None."""
    if dtype is None:
        return result

    def cast(a):
        return a.astype(dtype) if jnp.issubdtype(jnp.result_type(a), jnp.floating) else a

    return jax.tree.map(cast, result)


def keeps_half_precision(argument: str):
    """Decorator: when ``argument`` is float16 or bfloat16, return the floating results in that dtype
    (they are computed in float32)."""

    def wrap(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs)
            return to_half(fn(*args, **kwargs), half_precision(bound.arguments.get(argument)))

        return wrapped

    return wrap


def as_points(x, name: str, *, dim: int | None = None):
    """A (n, d) floating array with n >= 1, d >= 1 and, when concrete, only finite values."""
    if is_concrete(x) and not isinstance(x, jax.Array):
        x = _concrete_array(x, name, "a 2-D array of numbers")
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
    original = x
    x = jnp.asarray(x, dtype)
    if is_concrete(x):
        host = np.asarray(x)
        bad = ~np.isfinite(host).all(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{name}: row {row} is not finite ({host[row].tolist()}); remove NaN/Inf rows")
        _check_the_cast_kept_every_spread(original, host, name)
    return x


def _check_the_cast_kept_every_spread(original, cast: np.ndarray, name: str) -> None:
    """Data cast to a narrower float (float64 to float32 while JAX's 64-bit mode is off) can lose a
    column's whole spread: values at 1e8 that differ by less than 4 fall on one float32. The
    computation would then see a constant column; say what caused it instead."""
    if not isinstance(original, np.ndarray) or original.dtype.itemsize <= cast.dtype.itemsize:
        return
    wide = np.ptp(original, axis=0)
    narrow = np.ptp(cast, axis=0)
    lost = (wide > 0) & (narrow == 0)
    if lost.any():
        j = int(np.argmax(lost))
        narrow_name = cast.dtype.name
        raise ValueError(
            f"{name}: column {j} varies in {original.dtype} (spread {float(wide[j]):.3g} at "
            f"{float(original[0, j]):.6g}) but is constant once cast to {narrow_name}, JAX's default "
            "precision; subtract each column's mean first, or enable 64-bit floats: "
            "jax.config.update('jax_enable_x64', True)"
        )


def bandwidth_rules(h, xp, name: str = "bandwidth"):
    """The value rules of a bandwidth as ``(holds, message, fields)``: ``holds`` a boolean of
    ``xp`` (numpy or jax.numpy), ``message`` a template whose ``{fields}`` describe a violation."""
    if h.ndim == 2:
        finite = xp.all(xp.isfinite(h))
        safe = xp.where(finite, h, xp.eye(h.shape[0], dtype=h.dtype))
        smallest = xp.min(xp.linalg.eigvalsh(0.5 * (safe + safe.T)))
        return [
            (finite, f"{name}: the matrix must be finite", {}),
            (xp.allclose(safe, safe.T, rtol=1e-10, atol=0), f"{name}: the matrix must be symmetric", {}),
            (
                smallest > 0,
                f"{name}: the matrix must be positive-definite (smallest eigenvalue {{smallest}})",
                {"smallest": smallest},
            ),
        ]
    smallest = xp.min(h)
    ok = xp.all(xp.isfinite(h)) & (smallest > 0)
    dtype = np.dtype(h.dtype) if np.dtype(h.dtype).kind == "f" else np.dtype(np.float64)
    tiny = float(np.finfo(dtype).tiny)
    return [
        (ok, f"{name}: must be finite and > 0 (smallest entry {{smallest}})", {"smallest": smallest}),
        (
            ~ok | (smallest >= tiny),
            f"{name}: {{smallest}} is below the smallest normal {dtype.name} ({tiny:.3g}), where 1/{name} "
            f"overflows; rescale the data (and the bandwidth) or compute in float64",
            {"smallest": smallest},
        ),
    ]


def weight_rules(w, xp):
    """The value rules of weights, as :func:`bandwidth_rules`."""
    return [
        (xp.all(xp.isfinite(w)), "weights: entry {entry} is not finite", {"entry": xp.argmax(~xp.isfinite(w))}),
        (xp.all(w >= 0), "weights: entry {entry} is negative", {"entry": xp.argmax(w < 0)}),
        (xp.sum(w) > 0, "weights: all zero; at least one point needs a positive weight", {}),
    ]


def _enforce(rules) -> None:
    """Raise a ValueError for the first of numpy-evaluated ``rules`` that does not hold."""
    for holds, message, fields in rules:
        if not bool(holds):
            raise ValueError(message.format(**{k: np.asarray(f).item() for k, f in fields.items()}))


def as_bandwidth(h, dim: int, dtype, *, allow_matrix: bool = False, name: str = "bandwidth"):
    """A scalar or (d,) bandwidth (or, with ``allow_matrix``, a (d, d) SPD matrix); when
    concrete, finite and > 0 (positive-definite)."""
    if isinstance(h, str) or h is None:
        raise ValueError(f"{name}: expected a positive number, one per dimension, or a name, got {h!r}")
    raw = _concrete_array(h, name, "an array of numbers") if is_concrete(h) else h
    if not _is_real_dtype(raw.dtype):
        raise ValueError(f"{name}: must be real numbers, got dtype {raw.dtype}")
    h = jnp.asarray(raw, dtype) if is_concrete(h) else h.astype(dtype)
    if h.ndim == 1 and h.shape[0] == 1:
        h = h[0]
    shapes = "a scalar or shape ({0},)" + (" or ({0}, {0})" if allow_matrix else "")
    if not (h.ndim == 0 or h.shape == (dim,) or (allow_matrix and h.shape == (dim, dim))):
        raise ValueError(f"{name}: expected {shapes.format(dim)}, got shape {tuple(h.shape)}")
    if is_concrete(h):
        _enforce(bandwidth_rules(np.asarray(h), np, name))
    return h


def as_weights(w, n: int, dtype, *, scale_free: bool = True):
    """None, or an (n,) array of finite, non-negative weights with a positive sum.

    With ``scale_free`` (for computations that depend only on the weights' ratios), concrete
    weights whose largest is below the smallest normal float are multiplied by a power of two
    (exactly) to bring it to about 1: the device would flush them to zero."""
    if w is None:
        return None
    raw = _concrete_array(w, "weights", "an array of numbers") if is_concrete(w) else w
    if not (_is_real_dtype(raw.dtype) or raw.dtype.kind == "b"):
        raise ValueError(f"weights: must be real numbers, got dtype {raw.dtype}")
    w = jnp.asarray(raw, dtype) if is_concrete(w) else w.astype(dtype)
    if w.shape != (n,):
        raise ValueError(f"weights: expected shape ({n},), one per data point, got {tuple(w.shape)}")
    if is_concrete(w):
        values = np.asarray(raw, dtype)
        _enforce(weight_rules(values, np))
        if scale_free and np.max(values) < np.finfo(dtype).tiny:
            _, exponent = np.frexp(np.max(values))
            w = jnp.asarray(np.ldexp(values, -exponent).astype(dtype))
    return w


def _as_scalar(value) -> np.ndarray | None:
    """``value`` as a numpy array, or None for what cannot be a number (None, strings)."""
    return None if value is None or isinstance(value, (str, bytes)) else np.asarray(value)


def check_positive_int(value, name: str, minimum: int = 1) -> None:
    """An integer (Python or numpy, not bool) >= ``minimum``; not checked when traced."""
    if not is_concrete(value):
        return
    v = _as_scalar(value)
    ok = (
        v is not None
        and not isinstance(value, bool)
        and v.shape == ()
        and v.dtype.kind in "iuf"
        and np.isfinite(v)
        and int(v) == v
        and v >= minimum
    )
    if not ok:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")


def check_non_negative(value, name: str) -> None:
    """A finite real number >= 0; not checked when traced."""
    if not is_concrete(value):
        return
    v = _as_scalar(value)
    if v is None or v.dtype.kind not in "iuf" or v.shape != () or not np.isfinite(v) or v < 0:
        raise ValueError(f"{name}: must be a finite number >= 0, got {value!r}")


def check_fraction(value, name: str) -> None:
    """A real number in (0, 1]."""
    v = _as_scalar(value)
    if v is None or v.dtype.kind not in "iuf" or v.shape != () or not 0 < v <= 1:
        raise ValueError(f"{name}: must be a number in (0, 1], got {value!r}")


def check_key(key, name: str = "key") -> None:
    """A JAX PRNG key: ``jax.random.key(seed)`` or a legacy ``jax.random.PRNGKey(seed)``."""
    dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
    if dtype is None:
        ok = False
    elif jnp.issubdtype(dtype, jax.dtypes.prng_key):
        ok = shape == ()
    else:
        ok = np.dtype(dtype) == np.uint32 and shape == (2,)
    if not ok:
        raise ValueError(f"{name}: expected a JAX random key (jax.random.key(seed)), got {key!r}")


def check_groups(groups, name: str, n: int):
    """An (n,) integer array of group numbers."""
    raw = _concrete_array(groups, name, "an integer array") if is_concrete(groups) else groups
    if raw.dtype.kind not in "iu" or raw.shape != (n,):
        raise ValueError(f"{name}: expected an integer array of shape ({n},), got {raw.dtype} {tuple(raw.shape)}")
    return jnp.asarray(raw, jnp.int32)


def check_choice(value, name: str, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")


def check_blocks(query_block, data_block) -> None:
    """Tile sizes: positive integers (static)."""
    check_positive_int(query_block, "query_block")
    check_positive_int(data_block, "data_block")


def as_bandwidth_grid(bandwidths, dtype):
    """A non-empty (K,) array of scalar bandwidths, each finite and > 0 when concrete."""
    raw = _concrete_array(bandwidths, "bandwidths", "a 1-D array of numbers") if is_concrete(bandwidths) else bandwidths
    if not _is_real_dtype(raw.dtype):
        raise ValueError(f"bandwidths: must be real numbers, got dtype {raw.dtype}")
    if raw.ndim != 1 or raw.shape[0] == 0:
        raise ValueError(f"bandwidths: expected a non-empty 1-D array, got shape {tuple(raw.shape)}")
    if not is_concrete(bandwidths):
        return bandwidths.astype(dtype)
    values = raw.astype(np.float64)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"bandwidths: must all be finite and > 0, got {values.tolist()}")
    return jnp.asarray(raw, dtype)


def check_spread(bandwidth: np.ndarray, form: str) -> None:
    """A rule of thumb's bandwidth is zero where the data do not vary: say so, rather than return it."""
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


def check_selectable(data: np.ndarray, weighted: bool, form: str) -> None:
    """Data on which the cross-validated likelihood has no maximum get an error, not a degenerate
    answer (duplicates are allowed when weighted: they should come as one point with its count)."""
    n, dim = data.shape
    if n < 2:
        raise ValueError(f"data: needs at least 2 points to cross-validate, got {n}")
    if not weighted:
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
