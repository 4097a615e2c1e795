"""Kernel profiles: the density profile ``k``, its shadow ``g = -k'`` and the normaliser.

A radially symmetric kernel is written through its *profile* ``k(r)`` of the scaled squared
distance ``r = |x - y|² / h²``: ``K_h(x - y) = k(r) / (c_{k,d} h^d)``. The mean-shift step with
kernel ``K`` moves each seed to the ``g``-weighted mean of the data, ``g = -k'``; that step climbs
the density estimate built with ``k`` (Comaniciu & Meer 2002, eq. 13-17). See ``docs/math.md``.

``bandwidth`` means the standard deviation for the Gaussian and the support radius for the
compact kernels (as scikit-learn's ``MeanShift`` radius).

A :class:`Kernel` is identified by everything that defines it: two kernels are equal (and share
compiled code) only when their name, profiles and normalisers are the same objects. Users may
define their own (see :class:`Kernel`); :func:`get_kernel` checks their profiles numerically
before anything is computed with them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

Array = jnp.ndarray
Profile = Callable[[Array], Array]


@dataclasses.dataclass(frozen=True)
class Kernel:
    """A kernel, given by profiles of the scaled squared distance ``r``.

    Attributes:
      name: a name for messages and the registry.
      density: the density profile ``k(r) >= 0``.
      shadow: the mean-shift weight profile ``g(r) >= 0``, proportional to ``-k'(r)``.
      compact: whether ``k`` and ``g`` vanish for ``r > 1`` (the bandwidth is the support radius).
      log_density, log_shadow: ``log k`` and ``log g``; needed when the support is unbounded, since
        the reduction then works in the log domain (so far-away points never give 0/0).
      log_normaliser: ``dim -> log ∫ k(|u|²) du`` over ``R^d``; computed by quadrature when None.
      log_canonical_scale: ``dim -> log δ`` (Marron & Nolan's canonical bandwidth), used to carry a
        named bandwidth over from the Gaussian; computed by quadrature when None.

    A user kernel, e.g. the Cauchy-like ``k(r) = 1/(1 + r)²`` with ``g(r) = 1/(1 + r)³``::

        Kernel("cauchy", density=lambda r: (1 + r) ** -2, shadow=lambda r: (1 + r) ** -3, compact=False,
               log_density=lambda r: -2 * jnp.log1p(r), log_shadow=lambda r: -3 * jnp.log1p(r))
    """

    name: str
    density: Profile
    shadow: Profile
    compact: bool
    log_density: Profile | None = None
    log_shadow: Profile | None = None
    log_normaliser: Callable[[int], float] | None = None
    log_canonical_scale: Callable[[int], float] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"kernel: the name must be a non-empty string, got {self.name!r}")
        for field in ("density", "shadow"):
            if not callable(getattr(self, field)):
                raise ValueError(f"kernel {self.name!r}: {field} must be a function of r, got {getattr(self, field)!r}")
        if not self.compact and not (callable(self.log_density) and callable(self.log_shadow)):
            raise ValueError(
                f"kernel {self.name!r}: a kernel with unbounded support needs log_density and log_shadow "
                "(the reduction sums its weights in the log domain)"
            )
        if self.log_normaliser is None:
            normaliser = functools.partial(_quadrature_log_normaliser, self.density, self.compact)
            object.__setattr__(self, "log_normaliser", normaliser)
        if self.log_canonical_scale is None:
            object.__setattr__(self, "log_canonical_scale", functools.partial(_quadrature_canonical_scale, self))

    def profile(self, which: str) -> Profile:
        """The ``"shadow"`` or ``"density"`` profile."""
        return self.shadow if which == "shadow" else self.density

    def log_profile(self, which: str) -> Profile:
        """The log of the ``"shadow"`` or ``"density"`` profile (kernels of unbounded support)."""
        return self.log_shadow if which == "shadow" else self.log_density


def _log_ball_integral(dim: int, p: int) -> float:
    """``log ∫_{|u|<=1} (1 - |u|²)^p du = log(π^{d/2} Γ(p + 1) / Γ(d/2 + p + 1))``."""
    return 0.5 * dim * math.log(math.pi) + math.lgamma(p + 1) - math.lgamma(0.5 * dim + p + 1)


def _gaussian_log_normaliser(dim: int) -> float:
    return 0.5 * dim * math.log(2.0 * math.pi)


def _gaussian_canonical_scale(dim: int) -> float:
    log_r, log_mu2 = -0.5 * dim * math.log(4.0 * math.pi), 0.0
    return (log_r - 2.0 * log_mu2) / (dim + 4)


def _ball_log_normaliser(dim: int, power: int) -> float:
    return _log_ball_integral(dim, power)


def _ball_canonical_scale(dim: int, power: int) -> float:
    """``log δ``, ``δ = (R(K) / μ₂(K)²)^(1/(d+4))``, for ``k(r) = (1 - r)^power`` on the unit ball."""
    p = max(power, 1)  # the flat kernel's step climbs the Epanechnikov density: it takes its scale
    log_r = _log_ball_integral(dim, 2 * p) - 2.0 * _log_ball_integral(dim, p)
    log_mu2 = -math.log(dim + 2 * p + 2)
    return (log_r - 2.0 * log_mu2) / (dim + 4)


# ------------------------------------------------------------- quadrature for user kernels

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(400)


def _radial_integral(fn, dim: int, compact: bool) -> float:
    """``∫_{R^d} fn(|u|²) du = |S^{d-1}| ∫ fn(t²) t^{d-1} dt`` over ``[0, 1]`` (compact) or
    ``[0, ∞)`` (as ``t = s / (1 - s)``, ``s`` in ``[0, 1)``), by 400-point Gauss-Legendre."""
    s = 0.5 * (_NODES + 1.0)
    t, jacobian = (s, np.ones_like(s)) if compact else (s / (1.0 - s), 1.0 / (1.0 - s) ** 2)
    with jax.ensure_compile_time_eval():  # a number, also when asked for while tracing
        values = np.asarray(fn(jnp.asarray(t * t)), np.float64) * t ** (dim - 1) * jacobian
    area = 2.0 * math.pi ** (dim / 2) / math.gamma(dim / 2)
    return area * 0.5 * float(np.sum(_WEIGHTS * values))


def _quadrature_log_normaliser(density: Profile, compact: bool, dim: int) -> float:
    return math.log(_radial_integral(density, dim, compact))


def _quadrature_canonical_scale(kernel: Kernel, dim: int) -> float:
    c = _radial_integral(kernel.density, dim, kernel.compact)
    roughness = _radial_integral(lambda r: kernel.density(r) ** 2, dim, kernel.compact) / c**2
    mu2 = _radial_integral(lambda r: r * kernel.density(r), dim, kernel.compact) / (dim * c)
    return (math.log(roughness) - 2.0 * math.log(mu2)) / (dim + 4)


# ----------------------------------------------------------------------- the built-ins


def _gaussian(r: Array) -> Array:
    return jnp.exp(-0.5 * r)


def _gaussian_log(r: Array) -> Array:
    return -0.5 * r


def _flat(r: Array) -> Array:
    # 1 for r <= 1, 0 beyond, NaN stays NaN. A compare-and-select: with XLA:CPU's YNNPACK fusions
    # (jax 0.10) the flat climb runs 2x faster with it than with max(sign(1⁺ - r), 0), which the
    # older CPU emitters vectorised better (measured then: 2.9e9 pairs/s against 1.9e9 for the select).
    one, zero = jnp.ones((), r.dtype), jnp.zeros((), r.dtype)
    return jnp.where(r <= 1.0, one, jnp.where(r > 1.0, zero, r))


def _epanechnikov(r: Array) -> Array:
    return jnp.maximum(1.0 - r, 0.0)


def _biweight(r: Array) -> Array:
    return jnp.square(jnp.maximum(1.0 - r, 0.0))


def _compact(name: str, density: Profile, shadow: Profile, power: int) -> Kernel:
    return Kernel(
        name,
        density=density,
        shadow=shadow,
        compact=True,
        log_normaliser=functools.partial(_ball_log_normaliser, power=power),
        log_canonical_scale=functools.partial(_ball_canonical_scale, power=power),
    )


GAUSSIAN = Kernel(
    "gaussian",
    density=_gaussian,
    shadow=_gaussian,
    compact=False,
    log_density=_gaussian_log,
    log_shadow=_gaussian_log,
    log_normaliser=_gaussian_log_normaliser,
    log_canonical_scale=_gaussian_canonical_scale,
)

# The flat kernel's step is scikit-learn's: the plain mean of the data within distance h. Its
# density profile is the uniform ball (used by the KDE); the step climbs the Epanechnikov density,
# whose shadow is flat, exactly as ``kernel="epanechnikov"`` does.
_KERNELS = {
    "gaussian": GAUSSIAN,
    "flat": _compact("flat", _flat, _flat, 0),
    "epanechnikov": _compact("epanechnikov", _epanechnikov, _flat, 1),
    "biweight": _compact("biweight", _biweight, _epanechnikov, 2),
}

KERNEL_NAMES = tuple(_KERNELS)


def get_kernel(kernel: str | Kernel) -> Kernel:
    """Look a kernel up by name, or check a user's :class:`Kernel` and pass it through.

    Raises:
      ValueError: for an unknown name (the message lists the valid ones), or a user kernel whose
        profiles are not finite, non-negative functions of ``r`` of the right shape (compact ones
        zero beyond ``r = 1``, log profiles the logs of the profiles).
    """
    if isinstance(kernel, Kernel):
        if _KERNELS.get(kernel.name) is not kernel:
            _check_profiles(kernel)
        return kernel
    try:
        return _KERNELS[kernel]
    except (KeyError, TypeError):
        raise ValueError(f"kernel: unknown kernel {kernel!r}; expected one of {', '.join(KERNEL_NAMES)}") from None


_PROBE = np.array([0.0, 0.25, 0.5, 0.999, 1.0, 1.5, 4.0, 50.0], np.float32)


@functools.lru_cache(maxsize=64)
def _check_profiles(kernel: Kernel) -> None:
    """A user kernel's profiles, evaluated at a few ``r``, must be usable by the reduction."""
    r = jnp.asarray(_PROBE)
    for which in ("density", "shadow"):
        name = f"kernel {kernel.name!r}: {which}"
        try:
            values = np.asarray(kernel.profile(which)(r))
        except Exception as err:  # noqa: BLE001 - any failure of user code is reported the same way
            raise ValueError(f"{name} cannot be evaluated on an array of r ({type(err).__name__}: {err})") from None
        if values.shape != r.shape or values.dtype.kind != "f":
            raise ValueError(f"{name} must map an array of r to floats of its shape, got {values.dtype} {values.shape}")
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{name} must be finite and >= 0, got {values.tolist()} at r = {_PROBE.tolist()}")
        if not values[0] > 0:
            raise ValueError(f"{name} must be positive at r = 0")
        if kernel.compact and np.any(values[_PROBE > 1] != 0):
            raise ValueError(f"{name} must be 0 beyond r = 1 for a compact kernel, got {values.tolist()}")
        if not kernel.compact:
            logs = np.asarray(kernel.log_profile(which)(r))
            seen = values > 1e-30
            if logs.shape != r.shape or not np.allclose(logs[seen], np.log(values[seen]), rtol=1e-4, atol=1e-4):
                raise ValueError(f"kernel {kernel.name!r}: log_{which} is not the log of {which}")
