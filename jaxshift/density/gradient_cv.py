"""Unbiased cross-validation for the density *gradient* (Chacón & Duong 2013), the criterion for
the bandwidth mean shift follows.

Mean shift climbs ``∇f̂``, so the bandwidth to choose is the one that estimates the gradient best:
the minimiser of the integrated squared error ``∫ |∇f̂_H - ∇f|²``. Expanding it and replacing the
unknown cross term by its leave-one-out estimate gives, for the Gaussian kernel and a bandwidth
matrix ``H`` (scalar ``h²I``, diagonal or full),

    UCV₁(H) = -n⁻² Σ_{i,j} Δφ_{2H}(X_i - X_j) + 2 [n(n-1)]⁻¹ Σ_{i≠j} Δφ_H(X_i - X_j),

with ``Δφ_Σ(x) = φ_Σ(x) (|Σ⁻¹x|² - tr Σ⁻¹)`` the Laplacian of the normal density (R ks
``Hucv(deriv.order = 1)``; Chacón & Duong 2013, eq. 4 with r = 1). Every term is a sum of the
blockwise reduction's Gaussian kernel sums: with ``a = Σ⁻¹x`` and the weights ``φ_ij`` of the
whitened data,

    Σ_j φ_ij |a_i - a_j|² = T_i |a_i|² - 2 a_i · M_i + Σ_k Q_ik,

``T`` the kernel sum, ``M`` its first moment (of ``a``) and ``Q_k`` the kernel sums weighted by
``a_jk²``: d + 1 reductions per term, memory O(block), sharded like the other objectives.
The data are centred and measured in units of their spread ``s`` (root mean square over the
coordinates) first, so the criterion is scale-free; :func:`gradient_ucv` returns it in those units
(``UCV₁ · s^{d+2}``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxshift.kernels import GAUSSIAN
from jaxshift.reduce import kernel_sums

Array = jax.Array


def as_matrix(bandwidth: Array, dim: int) -> Array:
    """A scalar (standard deviation), (d,) or (d, d) bandwidth as the kernel's covariance matrix."""
    if jnp.ndim(bandwidth) == 2:
        return bandwidth
    return jnp.diag(jnp.broadcast_to(jnp.square(bandwidth), (dim,)))


def laplacian_sums(
    points: Array, data: Array, covariance: Array, weights: Array | None = None, *, leave_one_out: bool, data_axis=None
) -> Array:
    """(m,) ``Σ_j w_j Δφ_Σ(points_i - data_j)`` (``j ≠ i`` with ``leave_one_out``, points = data)."""
    n, dim = data.shape
    chol = jnp.linalg.cholesky(covariance)

    def whiten(x):
        return jax.scipy.linalg.solve_triangular(chol, x.T, lower=True).T

    def precision(z):  # a = Σ⁻¹x = L⁻ᵀ z for z = L⁻¹x
        return jax.scipy.linalg.solve_triangular(chol.T, z.T, lower=False).T

    zq, zd = whiten(points), whiten(data)
    aq, ad = precision(zq), precision(zd)
    groups = jnp.arange(n) if leave_one_out else None
    w = jnp.ones((n,), data.dtype) if weights is None else weights
    options = dict(kernel=GAUSSIAN, profile="density", data_axis=data_axis)
    if leave_one_out:
        options.update(query_groups=groups, data_groups=groups)
    base = kernel_sums(zq, zd, 1.0, weights=weights, **options)
    moment = precision(base.moment)  # Σ_j φ_ij a_j
    total = base.total
    plain = total * (jnp.sum(aq * aq, axis=1) - jnp.trace(jnp.linalg.inv(covariance))) - 2.0 * jnp.sum(aq * moment, 1)
    sums = jnp.exp(base.log_scale) * plain
    for k in range(dim):
        squared = kernel_sums(zq, zd, 1.0, weights=w * jnp.square(ad[:, k]), with_moment=False, **options)
        sums = sums + jnp.exp(squared.log_scale) * squared.total
    log_norm = 0.5 * dim * math.log(2.0 * math.pi) + jnp.sum(jnp.log(jnp.diagonal(chol)))
    return sums * jnp.exp(-log_norm)


def gradient_ucv(data: Array, bandwidth: Array, weights: Array | None = None, *, data_axis=None) -> Array:
    """``UCV₁`` of the Gaussian KDE's gradient at ``bandwidth`` (scalar, (d,) or (d, d) covariance
    form as :mod:`jaxshift.kde`), in units of the data's spread: minimise it.

    With weights (e.g. the counts of repeated rows) the sums are weighted and a weighted point is
    left out whole: ``Σ_{u≠v} w_u w_v Δφ_H / (W² - Σ w_u²)``, as the likelihood's leave-one-out does.
    """
    n, dim = data.shape
    w = jnp.ones((n,), data.dtype) if weights is None else weights
    mass = jnp.sum(w)
    mean = w @ data / mass
    centred = data - mean
    spread = jnp.sqrt(w @ jnp.sum(jnp.square(centred), axis=1) / (mass * dim))
    x = centred / spread
    covariance = as_matrix(bandwidth, dim) / jnp.square(spread)
    whole = laplacian_sums(x, x, 2.0 * covariance, weights, leave_one_out=False, data_axis=data_axis)
    left_out = laplacian_sums(x, x, covariance, weights, leave_one_out=True, data_axis=data_axis)
    return -(w @ whole) / mass**2 + 2.0 * (w @ left_out) / (mass**2 - jnp.sum(w * w))


def scalar_gradient_ucv(sq_distances: Array, sigma: Array, weights: Array | None, dim: int) -> Array:
    """:func:`gradient_ucv` of a scalar bandwidth ``σ`` (the kernel's standard deviation) from the
    (n, n) squared distances of the data (in whatever units ``σ`` is): ``Δφ_{s²I}(x) =
    φ_{s²I}(x) (|x|²/s⁴ - d/s²)`` on every pair, no reduction over coordinates. O(n²) memory,
    for a sample small enough (``bandwidth="auto"`` selects on at most 2000 points), and each
    evaluation is elementwise: the distances are computed once, outside the optimiser."""
    n = sq_distances.shape[0]
    w = jnp.ones((n,), sq_distances.dtype) if weights is None else weights
    mass = jnp.sum(w)
    pair = w[:, None] * w[None, :]

    def laplacian(s2):
        log_phi = -0.5 * dim * jnp.log(2.0 * math.pi * s2) - sq_distances / (2.0 * s2)
        return jnp.exp(log_phi) * (sq_distances / jnp.square(s2) - dim / s2)

    s2 = jnp.square(sigma)
    whole = jnp.sum(pair * laplacian(2.0 * s2))
    left_out = jnp.sum(jnp.where(jnp.eye(n, dtype=bool), 0.0, pair * laplacian(s2)))
    return -whole / mass**2 + 2.0 * left_out / (mass**2 - jnp.sum(w * w))
