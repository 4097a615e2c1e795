"""The plug-in bandwidth for the density gradient: a scalar Gaussian bandwidth that minimises the
asymptotic mean integrated squared error (AMISE) of the KDE's gradient, with the unknown density
functional estimated from the data (Chacón & Duong 2013, whose unconstrained-matrix version is R
ks ``Hpi(deriv.order = 1)``, the default of ``ks::kms``; Wand & Jones 1994 for the pilots). Pure
and unvalidated: :func:`jaxshift.clustering_bandwidth` is the checked entry point. See
``docs/bandwidth.md``.

With ``H = h² I`` and a Gaussian kernel, the gradient estimator's AMISE is

    AMISE(h) = R / (n h^(d+2)) + (h⁴/4) T₃,   R = ∫‖∇φ‖² = d / (2^(d+1) π^(d/2)),

where ``T_m = (-1)^m ∫ f Δ^m f`` (``Δ`` the Laplacian; ``T₃ = ∫‖∇Δf‖²``), so
``h = ((d+2) R / (n T₃))^(1/(d+6))``. ``T₃`` is estimated by
``T̂_m(g) = (-1)^m n⁻² Σ_ij Δ^m φ_g(X_i - X_j)`` (diagonal included), whose pilot ``g`` cancels
the leading bias terms: ``(-1)^m Δ^m φ_g(0) / n = (g²/2) T_{m+1}``, with ``T_{m+1}`` itself
estimated the same way; after ``stages`` such steps the last functional is the normal
distribution's. Everything is in units of the data's spread (its root mean variance), where the
normal reference has unit variance.
"""

from __future__ import annotations

import math
from functools import cache

import jax
import jax.numpy as jnp
from numpy.polynomial import Polynomial

from jaxshift.density import rules

Array = jax.Array

DEFAULT_STAGES = 2  # as R ks's plug-in selectors (nstage = 2)


@cache
def laplacian_polynomial(power: int, dim: int) -> tuple[float, ...]:
    """Coefficients (lowest first) of ``p`` with ``Δ^power exp(-u/2) = exp(-u/2) p(u)``, ``u = |x|²``
    in ``dim`` dimensions. For a radial ``F(u)``, ``ΔF = 4u F'' + 2d F'`` (derivatives in ``u``)."""
    p = Polynomial([1.0])
    for _ in range(power):
        first = p.deriv() - p / 2  # F' / exp(-u/2)
        second = p.deriv(2) - p.deriv() + p / 4  # F'' / exp(-u/2)
        p = 4 * Polynomial([0.0, 1.0]) * second + 2 * dim * first
    return tuple(float(c) for c in p.coef)


def laplacian_power_gaussian(power: int, dim: int, sq_distance: Array, scale: Array) -> Array:
    """``Δ^power φ_scale`` at points at squared distance ``sq_distance`` from the centre, ``φ_scale``
    the normal density with covariance ``scale² I``."""
    u = sq_distance / (scale * scale)
    poly = jnp.polyval(jnp.asarray(laplacian_polynomial(power, dim)[::-1], u.dtype), u)
    norm = (2.0 * math.pi) ** (-dim / 2) * scale ** (-(dim + 2 * power))
    return norm * jnp.exp(-u / 2) * poly


def normal_functional(power: int, dim: int) -> float:
    """``T_power = (-1)^power ∫ f Δ^power f`` for the standard normal ``f``: ``(-1)^power Δ^power
    φ_√2(0)``, as ``∫ φ Δ^m φ = Δ^m (φ * φ)(0)``."""
    c = laplacian_polynomial(power, dim)[0]
    return (-1) ** power * c * (4.0 * math.pi) ** (-dim / 2) * 2.0 ** (-power)


def estimated_functional(power: int, dim: int, sq_distances: Array, weights: Array, pilot: Array) -> Array:
    """``T̂_power(pilot)``: the weighted double sum over all pairs, the diagonal included."""
    kernel = laplacian_power_gaussian(power, dim, sq_distances, pilot)
    return (-1) ** power * (weights @ kernel @ weights) / jnp.sum(weights) ** 2


def bias_cancelling_pilot(power: int, dim: int, n: Array, next_functional: Array) -> Array:
    """The pilot ``g`` for ``T̂_power`` at which its two leading bias terms cancel."""
    at_zero = (-1) ** power * laplacian_polynomial(power, dim)[0] * (2.0 * math.pi) ** (-dim / 2)
    return (2.0 * at_zero / (n * next_functional)) ** (1.0 / (dim + 2 * power + 2))


def plugin_gradient_bandwidth(data: Array, weights: Array | None, key: Array, *, max_points: int, stages: int):
    """The ``stages``-stage plug-in bandwidth for the density gradient (module docstring) of the
    (n, d) ``data``; on a random subsample of ``max_points`` points above that (``key``), rescaled to
    the full sample by the AMISE rate ``(n/m)^(-1/(d+6))``. Data with no spread (only reachable
    under jit) get 1."""
    n, dim = data.shape
    sample = rules.pairwise_sample(data, weights, key, max_points)
    m = sample.data.shape[0]
    w = jnp.ones((m,), data.dtype) if sample.weights is None else sample.weights.astype(data.dtype)
    n_eff = jnp.sum(w) ** 2 / jnp.sum(w * w)  # the effective sample size: m for equal weights
    functional = jnp.asarray(normal_functional(3 + stages, dim), data.dtype)
    for power in range(2 + stages, 2, -1):
        pilot = bias_cancelling_pilot(power, dim, n_eff, functional)
        functional = estimated_functional(power, dim, sample.sq_distances, w, pilot)
    roughness = dim / (2.0 ** (dim + 1) * math.pi ** (dim / 2))
    h = ((dim + 2) * roughness / (n_eff * functional)) ** (1.0 / (dim + 6))
    bandwidth = h * sample.spread * (n / m) ** (-1.0 / (dim + 6))
    return jnp.where(sample.has_spread, bandwidth, 1.0)
