"""The plug-in bandwidth for the density gradient (``clustering_bandwidth(method="plugin_gradient")``)
against float64 references written from Hermite polynomials, independently of the library's
Laplacian recursion."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermeval

import jaxshift
from jaxshift.density import plugin


def gaussian_derivative(order: int, x, g):
    """The ``order``-th derivative of the 1-D normal density with standard deviation ``g``."""
    coef = np.zeros(order + 1)
    coef[-1] = 1.0
    z = x / g
    return (-1) ** order * hermeval(z, coef) * np.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * g ** (order + 1))


def laplacian_power(m: int, diff: np.ndarray, g: float) -> np.ndarray:
    """``Δ^m φ_g`` at the (..., d) differences, d = 1 or 2, by the multinomial expansion of ``Δ^m``
    over the product density."""
    if diff.shape[-1] == 1:
        return gaussian_derivative(2 * m, diff[..., 0], g)
    x, y = diff[..., 0], diff[..., 1]
    terms = (
        math.comb(m, k) * gaussian_derivative(2 * k, x, g) * gaussian_derivative(2 * (m - k), y, g)
        for k in range(m + 1)
    )
    return sum(terms)


def reference_plugin(X: np.ndarray, stages: int = 2) -> float:
    n, d = X.shape
    centred = X - X.mean(axis=0)
    spread = math.sqrt(np.mean(np.sum(centred**2, axis=1)) / d)
    x = centred / spread
    diff = x[:, None, :] - x[None, :, :]
    zero = np.zeros((1, d))
    top = 3 + stages
    functional = (-1) ** top * laplacian_power(top, zero, math.sqrt(2.0))[0]  # the normal's
    for m in range(top - 1, 2, -1):
        at_zero = (-1) ** m * laplacian_power(m, zero, 1.0)[0]
        g = (2 * at_zero / (n * functional)) ** (1 / (d + 2 * m + 2))
        functional = (-1) ** m * laplacian_power(m, diff, g).sum() / n**2
    roughness = d / (2 ** (d + 1) * math.pi ** (d / 2))
    return spread * ((d + 2) * roughness / (n * functional)) ** (1 / (d + 6))


@pytest.mark.parametrize("dim", [1, 2])
def test_plugin_equals_a_hermite_reference(dim):
    X = np.random.default_rng(dim).gamma(2.0, size=(300, dim)) * 3.0 + 10.0
    got = float(jaxshift.clustering_bandwidth(X, method="plugin_gradient"))
    np.testing.assert_allclose(got, reference_plugin(X), rtol=1e-10)


def test_laplacian_recursion_matches_the_product_expansion():
    diff = np.random.default_rng(0).normal(size=(50, 2)) * 2.0
    for m in range(1, 6):
        got = plugin.laplacian_power_gaussian(m, 2, np.sum(diff**2, axis=1), np.float64(0.7))
        np.testing.assert_allclose(np.asarray(got), laplacian_power(m, diff, 0.7), rtol=1e-9, atol=1e-12)
        normal = (-1) ** m * laplacian_power(m, np.zeros((1, 2)), 2**0.5)[0]
        assert plugin.normal_functional(m, 2) == pytest.approx(normal)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_plugin_on_normal_data_is_near_the_normal_scale_rule(dim):
    X = np.random.default_rng(10 + dim).normal(size=(2000, dim))
    got = float(jaxshift.clustering_bandwidth(X, method="plugin_gradient"))
    rule = float(jaxshift.clustering_bandwidth(X, method="normal_gradient"))
    assert abs(got / rule - 1) < 0.15  # the plug-in estimates what the rule assumes; its relative error at n = 2000


def test_plugin_is_scale_equivariant_and_subsamples_large_data():
    X = np.random.default_rng(4).laplace(size=(600, 2))
    h = float(jaxshift.clustering_bandwidth(X, method="plugin_gradient"))
    small = float(jaxshift.clustering_bandwidth(X * 1e-6, method="plugin_gradient"))
    np.testing.assert_allclose(small, h * 1e-6, rtol=1e-9)
    sub = float(jaxshift.clustering_bandwidth(X, method="plugin_gradient", max_points=300))
    assert 0.8 < sub / h < 1.25
    # float32 at extreme scales (squares of 1e-20 underflow, of 1e20 overflow) and in 128 dimensions
    unit = float(jaxshift.clustering_bandwidth(X.astype(np.float32), method="plugin_gradient"))
    auto = float(jaxshift.clustering_bandwidth(X.astype(np.float32)))  # the same sample feeds "auto"'s criterion
    for scale in (1e-20, 1e20):
        scaled = (X * scale).astype(np.float32)
        assert float(jaxshift.clustering_bandwidth(scaled)) == pytest.approx(auto * scale, rel=1e-4)
        assert float(jaxshift.clustering_bandwidth(scaled, method="plugin_gradient")) == pytest.approx(
            unit * scale, rel=1e-4
        )
    wide = np.random.default_rng(5).normal(size=(300, 128)).astype(np.float32)
    assert np.isfinite(float(jaxshift.clustering_bandwidth(wide, method="plugin_gradient")))
