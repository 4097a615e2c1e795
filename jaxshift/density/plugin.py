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
normal reference has unit variance, and in logs (the functionals scale as ``c^d``: in float32 they
leave its range from about d = 64). An estimate that is not positive takes the normal reference.
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


def log_normal_functional(power: int, dim: int) -> float:
    """``log T_power`` for the standard normal ``f``: ``T_m = (-1)^m ∫ f Δ^m f = (-1)^m Δ^m φ_√2(0)``,
    as ``∫ φ Δ^m φ = Δ^m (φ * φ)(0)``. In logs: the factors ``(4π)^(-d/2)`` underflow, and the
    polynomial's constant term overflows, in float32 from about d = 64."""
    c = (-1) ** power * laplacian_polynomial(power, dim)[0]  # d (d + 2) ... (d + 2m - 2) > 0
    return math.log(c) - 0.5 * dim * math.log(4.0 * math.pi) - power * math.log(2.0)


def normal_functional(power: int, dim: int) -> float:
    """``T_power`` for the standard normal (:func:`log_normal_functional`)."""
    return math.exp(log_normal_functional(power, dim))


def log_estimated_functional(power: int, dim: int, sq_distances: Array, weights: Array, pilot: Array):
    """``(log T̂_power(pilot), whether the estimate is positive)``: the weighted double sum over
    all pairs, the diagonal included, its normalising factor ``(2π)^(-d/2) g^(-(d+2m))`` in logs."""
    u = sq_distances / (pilot * pilot)
    poly = jnp.polyval(jnp.asarray(laplacian_polynomial(power, dim)[::-1], u.dtype), u)
    total = (-1) ** power * (weights @ (jnp.exp(-u / 2) * poly) @ weights) / jnp.sum(weights) ** 2
    log_norm = -0.5 * dim * math.log(2.0 * math.pi) - (dim + 2 * power) * jnp.log(pilot)
    positive = total > 0
    return log_norm + jnp.log(jnp.where(positive, total, 1.0)), positive


def log_bias_cancelling_pilot(power: int, dim: int, n: Array, log_next_functional: Array) -> Array:
    """``log g`` for ``T̂_power`` at the pilot ``g`` where its two leading bias terms cancel:
    ``(-1)^m Δ^m φ_g(0) / n = (g²/2) T_{m+1}``."""
    c = (-1) ** power * laplacian_polynomial(power, dim)[0]
    log_at_zero = math.log(c) - 0.5 * dim * math.log(2.0 * math.pi)
    return (math.log(2.0) + log_at_zero - jnp.log(n) - log_next_functional) / (dim + 2 * power + 2)


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
    log_functional = jnp.asarray(log_normal_functional(3 + stages, dim), data.dtype)
    for power in range(2 + stages, 2, -1):
        pilot = jnp.exp(log_bias_cancelling_pilot(power, dim, n_eff, log_functional))
        estimate, positive = log_estimated_functional(power, dim, sample.sq_distances, w, pilot)
        # an estimate of a positive functional that comes out <= 0 (a small or odd sample) takes the
        # normal reference instead: one stage fewer, not the log of a negative number
        log_functional = jnp.where(positive, estimate, log_normal_functional(power, dim))
    log_roughness = math.log(dim) - (dim + 1) * math.log(2.0) - 0.5 * dim * math.log(math.pi)  # R = ∫‖∇φ‖²
    h = jnp.exp((math.log(dim + 2) + log_roughness - jnp.log(n_eff) - log_functional) / (dim + 6))
    bandwidth = h * sample.spread * (n / m) ** (-1.0 / (dim + 6))
    return jnp.where(sample.has_spread, bandwidth, 1.0)
