"""Gradients of mean-shift modes at the fixed point (implicit differentiation), against central
finite differences in float64; jit, vmap, degenerate points, compact kernels, memory."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxshift
from jaxshift.kernels import get_kernel
from jaxshift.solvers import implicit

RNG = np.random.default_rng(0)
X = np.vstack([RNG.normal(0, 1, (40, 2)), RNG.normal(5, 1, (40, 2))])
W = RNG.uniform(0.5, 2.0, 80)
TIGHT = dict(tol=1e-13, max_iter=5000)  # modes converged far below the finite differences' step


def loss(X, h, w, kernel="gaussian"):
    result = jaxshift.mean_shift(X, h, weights=w, kernel=kernel, **TIGHT)
    return jnp.sum(result.modes**2) + jnp.sum(result.centers[:2] ** 3)


def central_difference(fn, x, eps=1e-3):
    x = np.asarray(x, float)
    out = np.zeros(x.size)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        out[i] = (fn(x + step.reshape(x.shape)) - fn(x - step.reshape(x.shape))) / (2 * eps)
    return out.reshape(x.shape)


GRAD = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))


@pytest.mark.parametrize("h", [1.5, np.array([1.2, 1.8])], ids=["scalar", "diagonal"])
def test_gradients_match_central_differences(h):
    g_data, g_h, g_w = GRAD(X, h, W)
    np.testing.assert_allclose(g_h, central_difference(lambda v: loss(X, v, W), h), rtol=1e-4)
    if np.ndim(h):
        return  # the data's and weights' derivatives take the same path for both forms
    numeric = central_difference(lambda v: loss(np.r_[X[:3], v[:1], X[4:50], v[1:], X[51:]], h, W), X[[3, 50]])
    np.testing.assert_allclose(np.asarray(g_data)[[3, 50]], numeric, rtol=1e-4)
    numeric = central_difference(lambda v: loss(X, h, np.r_[W[:7], v[:1], W[8:60], v[1:], W[61:]]), W[[7, 60]])
    np.testing.assert_allclose(np.asarray(g_w)[[7, 60]], numeric, rtol=1e-4)


def test_eager_equals_jit_and_vmap_equals_a_loop():
    eager = jax.grad(loss, argnums=1)(X, 1.5, W)
    np.testing.assert_allclose(eager, GRAD(X, 1.5, W)[1], rtol=1e-12)
    hs = np.array([1.3, 1.5, 2.0])
    swept = jax.vmap(lambda h: jax.grad(loss, argnums=1)(X, h, W))(hs)
    np.testing.assert_allclose(swept, [GRAD(X, h, W)[1] for h in hs], rtol=1e-10)
    forward = jax.jacfwd(loss, argnums=1)(X, 1.5, W)  # forward mode goes through the fixed point too
    np.testing.assert_allclose(forward, eager, rtol=1e-10)


def test_seeds_get_zero_gradient():
    grad = jax.grad(lambda s: jnp.sum(jaxshift.mean_shift(X, 1.5, seeds=s, **TIGHT).modes))(X[::8])
    np.testing.assert_array_equal(grad, 0.0)


def test_a_degenerate_mode_gets_a_finite_zero_gradient_and_is_flagged():
    # two points at ±1 with h = 1: the density's only mode, at 0, is flat to second order (∂F/∂m = 0)
    two = np.array([[-1.0], [1.0]])
    start = np.zeros((1, 1))
    grad = jax.grad(lambda h: jaxshift.mean_shift(two, h, seeds=start).modes[0, 0] ** 2 + h)(1.0)
    assert grad == 1.0  # finite: the mode's degenerate part is zeroed, the rest is kept
    gaussian = get_kernel("gaussian")
    assert float(implicit.curvature(jnp.asarray(start), jnp.asarray(two), 1.0, kernel=gaussian)[0]) < 1e-12
    sharp = implicit.curvature(jaxshift.mean_shift(X, 1.5).modes[:3], jnp.asarray(X), 1.5, kernel=gaussian)
    assert np.all((np.asarray(sharp) > 0.1) & (np.asarray(sharp) <= 1.0))


def test_flat_kernel_modes_move_with_the_points_in_their_window():
    # the flat step is the plain mean of the points within h: a.e. dm/dx_i = 1/count for them
    grad = jax.grad(lambda data: jaxshift.mean_shift(data, 2.0, kernel="flat").modes[0, 0])(X)
    numeric = central_difference(
        lambda v: float(jaxshift.mean_shift(np.r_[v, X[1:]], 2.0, kernel="flat").modes[0, 0]), X[:1], eps=1e-7
    )
    np.testing.assert_allclose(np.asarray(grad)[:1], numeric, atol=1e-8)
    inside = np.asarray(grad)[:, 0] > 0
    np.testing.assert_allclose(np.asarray(grad)[inside, 0], 1.0 / inside.sum())
    assert np.all(np.asarray(grad)[:, 1] == 0)


def test_the_backward_pass_is_memory_bounded():
    # n = 20k, 500 seeds: compiled, never run; XLA's own accounting of the temporary buffers
    n, m = 20_000, 500
    data = jax.ShapeDtypeStruct((n, 2), jnp.float32)
    seeds = jax.ShapeDtypeStruct((m, 2), jnp.float32)

    def fn(data, seeds, h):
        return jnp.sum(jaxshift.mean_shift(data, h, seeds=seeds).modes)

    compiled = jax.jit(jax.grad(fn, argnums=(0, 2))).lower(data, seeds, jnp.float32(1.0)).compile()
    temp = compiled.memory_analysis().temp_size_in_bytes
    assert temp < 1.5 * 2**30, f"{temp / 2**20:.0f} MiB of temporaries"


@pytest.mark.parametrize("form", ["diagonal"])  # the scalar and full forms take the same path
def test_the_selected_bandwidth_is_differentiable_in_the_data_and_weights(form):
    def total(data, weights):
        return jnp.sum(jaxshift.select_bandwidth(data, form=form, weights=weights, tol=1e-11, max_iter=500).bandwidth)

    data, weights = X[::2] * np.array([1.0, 2.0]), W[::2]
    g_data, g_w = jax.grad(total, argnums=(0, 1))(data, weights)
    numeric = central_difference(lambda v: total(np.r_[data[:5], v[None], data[6:]], weights), data[5], eps=1e-4)
    np.testing.assert_allclose(np.asarray(g_data)[5], numeric, rtol=1e-6)
    numeric = central_difference(lambda v: total(data, np.r_[weights[:9], v, weights[10:]]), weights[9:10], eps=1e-4)
    np.testing.assert_allclose(np.asarray(g_w)[9:10], numeric, rtol=1e-6)


def test_full_bandwidth_matrices_cluster_in_their_metric_and_differentiate():
    isotropic = jaxshift.mean_shift(X, 1.5)
    matrix = jaxshift.mean_shift(X, 2.25 * np.eye(2))
    np.testing.assert_allclose(matrix.modes, isotropic.modes, atol=1e-12)
    np.testing.assert_array_equal(matrix.labels, isotropic.labels)
    H = np.array([[2.0, 0.4], [0.4, 1.5]])
    reference = jaxshift.mean_shift(X @ np.linalg.inv(np.linalg.cholesky(H)).T, 1.0)  # whitened by hand
    np.testing.assert_array_equal(jaxshift.mean_shift(X, H).labels, reference.labels)
    grad = jax.grad(lambda H: loss(X, H, W))(jnp.asarray(H))
    step = np.array([[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(
        grad[0, 0], central_difference(lambda t: loss(X, H + t[0] * step, W), np.zeros(1))[0], rtol=1e-4
    )
