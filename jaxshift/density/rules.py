"""Normal-reference bandwidths (rules of thumb) and scikit-learn's nearest-neighbour quantile.

Pure, unvalidated functions; :func:`jaxshift.rule_of_thumb` and :func:`jaxshift.quantile_bandwidth`
are the checked entry points.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array

RULES = ("scott", "silverman", "normal_gradient")


def moments(data: Array, weights: Array | None, *, scaled: bool = False):
    """Weighted covariance (unbiased, as numpy's ``aweights``) and the effective sample size.

    The data are taken relative to their first point and in units of their largest deviation from
    it, per column: a constant column then has a variance of exactly 0 (not the rounding of its
    mean), and the squares never overflow. With ``scaled``, the covariance is returned in those
    units, with the units: ``(cov, n_eff, scale)``, ``cov * scale ⊗ scale`` the covariance."""
    n = data.shape[0]
    w = jnp.full((n,), 1.0 / n, data.dtype) if weights is None else weights / jnp.sum(weights)
    shifted = data - data[0]
    scale = jnp.max(jnp.abs(shifted), axis=0)
    scale = jnp.where(scale > 0, scale, 1.0)
    unit = shifted / scale
    mean = w @ unit
    centred = unit - mean
    n_eff = 1.0 / jnp.sum(w * w)
    cov = (centred * w[:, None]).T @ centred / (1.0 - jnp.sum(w * w))
    if scaled:
        return cov, n_eff, scale
    return cov * scale[:, None] * scale[None, :], n_eff


def rule_factor(rule: str, n_eff: Array, dim: int) -> Array:
    """The multiplier of the data's scale: Scott and Silverman as scipy, and the normal-scale
    rule for the density gradient (R ks ``Hns(deriv.order=1)``), which shrinks as n^(-1/(d+6))."""
    if rule == "scott":
        return n_eff ** (-1.0 / (dim + 4))
    if rule == "silverman":
        return (n_eff * (dim + 2) / 4.0) ** (-1.0 / (dim + 4))
    return (4.0 / (n_eff * (dim + 4))) ** (1.0 / (dim + 6))


def rule_of_thumb(data: Array, weights: Array | None, rule: str, form: str) -> Array:
    """``full``: ``factor² · covariance`` (scipy's ``gaussian_kde``); ``diagonal``: ``factor · std``
    per dimension; ``scalar``: ``factor · sqrt(mean variance)``."""
    cov, n_eff, scale = moments(data, weights, scaled=True)
    factor = rule_factor(rule, n_eff, data.shape[1])
    if form == "full":
        return factor**2 * cov * scale[:, None] * scale[None, :]
    std = jnp.sqrt(jnp.diagonal(cov)) * scale
    if form == "diagonal":
        return factor * std
    # sqrt(mean variance), with the largest standard deviation factored out (no overflow)
    largest = jnp.max(std)
    ratio = std / jnp.where(largest > 0, largest, 1.0)
    return factor * largest * jnp.sqrt(jnp.mean(jnp.square(ratio)))


def neighbour_distances(data: Array, k: int) -> Array:
    """(n,) distance of each point to its k-th nearest neighbour (itself included: k = 2 is the
    nearest other point)."""

    def kth(row):
        d2 = jnp.sum(jnp.square(data - row), axis=1)
        return jnp.sqrt(-jax.lax.top_k(-d2, k)[0][-1])

    return jax.lax.map(kth, data, batch_size=256)


def quantile_bandwidth(data: Array, k: int) -> Array:
    """The mean distance of each point to its k-th nearest neighbour (itself included)."""
    return jnp.mean(neighbour_distances(data, k))


class PairwiseSample(NamedTuple):
    """At most ``max_points`` of the data (a random subsample above that) with their pairwise squared
    distances in units of the sample's spread (its weighted root mean variance)."""

    data: Array  # shape=(m, d): the sample
    weights: Array | None  # shape=(m,): its weights (None: equal)
    sq_distances: Array  # shape=(m, m): in units of ``spread``
    spread: Array  # shape=(): 1 where the sample has none
    has_spread: Array  # shape=(), bool


def pairwise_sample(data: Array, weights: Array | None, key: Array, max_points: int) -> PairwiseSample:
    """The sample the scalar bandwidth selectors of ``"auto"`` work on (the gradient criterion and
    the plug-in): every pairwise distance computed once, then every evaluation is elementwise.
    Data with no spread (only reachable under jit: eagerly it is an error) get a spread of 1, so
    the selectors give a bandwidth of 1, as the other rules do, not 0/0."""
    n, dim = data.shape
    if n > max_points:
        index = jax.random.choice(key, n, (max_points,), replace=False)
        data = data[index]
        weights = None if weights is None else weights[index]
    w = jnp.ones((data.shape[0],), data.dtype) if weights is None else weights
    mass = jnp.sum(w)
    # first in units of the largest deviation from the first point, as `moments` does: at scales
    # like 1e-20 or 1e20 the squares would underflow or overflow float32
    shifted = data - data[0]
    largest = jnp.max(jnp.abs(shifted))
    largest = jnp.where(largest > 0, largest, 1.0)
    unit = shifted / largest
    centred = unit - w @ unit / mass
    spread = jnp.sqrt(w @ jnp.sum(jnp.square(centred), axis=1) / (mass * dim))
    has_spread = spread > 0
    spread = jnp.where(has_spread, spread, 1.0)
    x = centred / spread
    spread = spread * largest
    sq = jnp.sum(x * x, axis=1)
    sq_distances = jnp.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    return PairwiseSample(data, weights, sq_distances, spread, has_spread)
