import jax
import numpy as np
import pytest
from references import NUMPY_DENSITIES, NUMPY_SHADOWS

from jaxshift import kernel_sums
from jaxshift.kernels import KERNEL_NAMES, get_kernel
from jaxshift.reduce import spatial_order


def brute_force(Y, X, h, profile, w):
    r = np.sum(((Y[:, None, :] - X[None, :, :]) / h) ** 2, axis=-1)
    p = profile(r) * w[None, :]
    return p.sum(1), p @ X


@pytest.mark.parametrize("name", KERNEL_NAMES)
@pytest.mark.parametrize("profile", ["shadow", "density"])
@pytest.mark.parametrize("bandwidth", [0.7, np.array([0.5, 1.3, 0.9])])
def test_sums_match_brute_force(name, profile, bandwidth):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(157, 3))  # not a multiple of the blocks: exercises the remainder block
    Y = rng.normal(size=(45, 3))
    w = rng.uniform(0.1, 2.0, size=157)
    out = kernel_sums(
        Y, X, bandwidth, kernel=get_kernel(name), weights=w, profile=profile, query_block=16, data_block=32
    )
    table = NUMPY_SHADOWS if profile == "shadow" else NUMPY_DENSITIES
    total, moment = brute_force(Y, X, bandwidth, table[name], w)
    scale = np.exp(np.asarray(out.log_scale))
    np.testing.assert_allclose(np.asarray(out.total) * scale, total, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(np.asarray(out.moment) * scale[:, None], moment, rtol=1e-10, atol=1e-12)


def test_high_dimension_uses_the_matrix_product_path():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(70, 12)), rng.normal(size=(9, 12))
    out = kernel_sums(Y, X, 3.0, kernel=get_kernel("gaussian"), data_block=16)
    total, moment = brute_force(Y, X, 3.0, NUMPY_SHADOWS["gaussian"], np.ones(70))
    scale = np.exp(np.asarray(out.log_scale))
    np.testing.assert_allclose(np.asarray(out.total) * scale, total, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(out.moment) * scale[:, None], moment, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_far_from_all_data_is_finite_and_exact(dtype):
    # Queries hundreds of bandwidths away: every plain exp underflows to 0, and 0/0 would be NaN.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], dtype)
    Y = np.array([[300.0, 0.0], [0.5, 0.0]], dtype)
    out = kernel_sums(Y, X, 1.0, kernel=get_kernel("gaussian"))
    assert np.all(np.isfinite(out.total)) and np.all(np.isfinite(out.moment))
    mean = np.asarray(out.moment) / np.asarray(out.total)[:, None]
    # Far away, the weight is dominated by the nearest point (1, 0).
    np.testing.assert_allclose(mean[0], [1.0, 0.0], atol=1e-6)
    log_total = np.log(np.asarray(out.total, np.float64)) + np.asarray(out.log_scale, np.float64)
    r = np.sum((Y[0].astype(np.float64) - X.astype(np.float64)) ** 2, axis=1)
    exact = np.logaddexp.reduce(-0.5 * r)
    np.testing.assert_allclose(log_total[0], exact, rtol=1e-6)


def test_tiny_bandwidth_gives_the_nearest_point_not_nan():
    X = np.array([[0.0], [1.0], [3.0]])
    out = kernel_sums(np.array([[0.9]]), X, 1e-4, kernel=get_kernel("gaussian"))
    np.testing.assert_allclose(np.asarray(out.moment)[0] / np.asarray(out.total)[0], [1.0])


def test_jit_equals_eager():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 2))
    kernel = get_kernel("biweight")
    eager = kernel_sums(X, X, 1.1, kernel=kernel, data_block=8)
    jitted = jax.jit(lambda X, h: kernel_sums(X, X, h, kernel=kernel, data_block=8))(X, 1.1)
    np.testing.assert_allclose(np.asarray(eager.total), np.asarray(jitted.total), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(eager.moment), np.asarray(jitted.moment), rtol=1e-13)


@pytest.mark.parametrize("name", ["flat", "biweight"])
def test_blocks_out_of_reach_are_skipped_without_changing_the_sums(name):
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(64, 2)), rng.normal(size=(64, 2)) + 50.0])  # two far groups, in order
    Y = np.vstack([rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) + 50.0])
    out = kernel_sums(Y, X, 1.5, kernel=get_kernel(name), query_block=8, data_block=16)
    total, moment = brute_force(Y, X, 1.5, NUMPY_SHADOWS[name], np.ones(len(X)))
    np.testing.assert_allclose(np.asarray(out.total), total, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(out.moment), moment, rtol=1e-10, atol=1e-12)


def test_spatial_order_is_a_permutation_that_groups_neighbours():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 100, size=(4096, 2))
    order = np.asarray(spatial_order(X, 5.0))
    np.testing.assert_array_equal(np.sort(order), np.arange(4096))
    blocks = X[order].reshape(16, 256, 2)
    extent = np.ptp(blocks, axis=1).max(axis=1)
    assert np.median(extent) < 0.5 * 100  # a random block would span nearly the whole square
