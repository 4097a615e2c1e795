"""The unbiased cross-validation criterion for the density gradient against a float64 brute force."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxshift
from jaxshift.density.gradient_cv import gradient_ucv

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)) * [1.0, 2.0, 0.5] + 5.0
COUNTS = RNG.integers(1, 4, 40).astype(float)
FULL = np.array([[0.3, 0.1, 0.0], [0.1, 0.5, 0.05], [0.0, 0.05, 0.2]])
BANDWIDTHS = {"scalar": 0.4, "diagonal": np.array([0.3, 0.6, 0.2]), "full": FULL}


def laplacian_of_normal(x, cov):
    """Δφ_Σ(x) = φ_Σ(x) (|Σ⁻¹x|² - tr Σ⁻¹)."""
    precision = np.linalg.inv(cov)
    quad = np.einsum("...i,ij,...j->...", x, precision, x)
    phi = np.exp(-quad / 2) / np.sqrt((2 * np.pi) ** len(cov) * np.linalg.det(cov))
    a = x @ precision
    return phi * (np.sum(a * a, axis=-1) - np.trace(precision))


def brute_force(X, cov, w):
    """Chacón & Duong's UCV₁ with weighted points left out whole, in units of the data's spread."""
    d = X.shape[1]
    diff = X[:, None, :] - X[None, :, :]
    whole, left_out = laplacian_of_normal(diff, 2 * cov), laplacian_of_normal(diff, cov)
    np.fill_diagonal(left_out, 0.0)
    W = w.sum()
    spread = np.sqrt(w @ np.sum((X - w @ X / W) ** 2, axis=1) / (W * d))
    return (-(w @ whole @ w) / W**2 + 2 * (w @ left_out @ w) / (W**2 - np.sum(w * w))) * spread ** (d + 2)


def covariance(h):
    return np.diag(np.broadcast_to(np.square(h), (3,))) if np.ndim(h) < 2 else h


@pytest.mark.parametrize(("form", "weighted"), [("scalar", False), ("diagonal", True), ("full", False)])
def test_matches_the_brute_force_criterion(form, weighted):
    h = BANDWIDTHS[form]
    w = COUNTS if weighted else np.ones(40)
    value = gradient_ucv(jnp.asarray(X), jnp.asarray(h), jnp.asarray(w) if weighted else None)
    np.testing.assert_allclose(value, brute_force(X, covariance(h), w), rtol=1e-11)


def test_gradient_matches_central_differences():
    grad = jax.grad(lambda h: gradient_ucv(jnp.asarray(X), h))(jnp.asarray(BANDWIDTHS["diagonal"]))
    eps = 1e-6
    for k in range(3):
        step = np.zeros(3)
        step[k] = eps
        up = brute_force(X, covariance(BANDWIDTHS["diagonal"] + step), np.ones(40))
        down = brute_force(X, covariance(BANDWIDTHS["diagonal"] - step), np.ones(40))
        np.testing.assert_allclose(grad[k], (up - down) / (2 * eps), rtol=1e-6)


def test_selection_by_the_gradient_criterion_finds_a_minimum():
    data = RNG.normal(size=(60, 2))
    # Adam rather than the default L-BFGS: its line search would inline the criterion several times
    chosen = jaxshift.select_bandwidth(
        data, objective="gradient_ucv", optimizer=optax.adam(0.02), max_iter=2000, tol=1e-6
    )
    h = float(chosen.bandwidth)
    assert bool(chosen.converged)
    np.testing.assert_allclose(-float(chosen.objective), float(gradient_ucv(jnp.asarray(data), h)), rtol=1e-9)
    for step in (0.97, 1.03):
        assert float(gradient_ucv(jnp.asarray(data), h * step)) > -float(chosen.objective)
