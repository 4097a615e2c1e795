"""Finite outputs for finite inputs: tiny bandwidths, data far from the origin, far-apart points,
duplicates, constant and collinear data. Compact kernels give ``-inf`` log-densities (never NaN)
where their density is truly zero; everything else is finite."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxshift
from jaxshift import kde

KERNELS = ("gaussian", "flat", "epanechnikov", "biweight")
rng = np.random.default_rng(3)
BLOBS = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(10, 1, (20, 2))])


def all_finite(tree) -> bool:
    return all(np.all(np.isfinite(np.asarray(a))) for a in jax.tree.leaves(tree) if np.asarray(a).dtype.kind == "f")


def no_nan(tree) -> bool:
    return not any(np.any(np.isnan(np.asarray(a))) for a in jax.tree.leaves(tree) if np.asarray(a).dtype.kind == "f")


@pytest.mark.parametrize("kernel", KERNELS)
def test_bandwidth_a_millionth_of_the_spread(kernel):
    X = BLOBS.astype(np.float32)
    h = 1e-6 * float(np.ptp(BLOBS))
    result = jaxshift.mean_shift(X, h, kernel=kernel)
    assert all_finite(result)
    # every point is its own cluster: no other point is within reach
    assert int(result.n_clusters) == len(X)
    np.testing.assert_allclose(result.modes, X, rtol=0, atol=10 * h)
    at_data = kde.log_density(X, X, h, kernel=kernel)
    assert all_finite(at_data)
    loo = kde.loo_log_likelihood(X, h, kernel=kernel)
    if kernel == "gaussian":
        assert all_finite(loo)
    else:  # no other point in reach: the leave-one-out density is exactly zero
        assert float(loo) == -np.inf


@pytest.mark.parametrize(("dtype", "offset"), [(np.float32, 1e4), (np.float64, 1e15)])
@pytest.mark.parametrize("kernel", KERNELS)
def test_data_far_from_the_origin(kernel, dtype, offset):
    far = (BLOBS + offset).astype(dtype)
    # the data as stored, moved back exactly (Sterbenz): rounding at the offset is the input's, not ours
    X = far - dtype(offset)
    near, moved = jaxshift.mean_shift(X, 2.0, kernel=kernel), jaxshift.mean_shift(far, 2.0, kernel=kernel)
    assert all_finite(moved)
    assert int(moved.n_clusters) == int(near.n_clusters)
    np.testing.assert_array_equal(moved.labels, near.labels)
    spacing = float(np.spacing(dtype(offset)))
    k = int(near.n_clusters)
    np.testing.assert_allclose(
        np.asarray(moved.centers[:k], np.float64) - offset, near.centers[:k], atol=max(1e-3, 4 * spacing)
    )


@pytest.mark.parametrize(("dtype", "offset", "tol"), [(np.float32, 1e4, 1e-2), (np.float64, 1e15, 0.2)])
def test_density_of_data_far_from_the_origin(dtype, offset, tol):
    far = (BLOBS + offset).astype(dtype)
    X = far - dtype(offset)
    for h in (1.0, np.array([1.0, 2.0]), np.array([[1.0, 0.3], [0.3, 2.0]])):
        near = kde.log_density(X[:5], X, h)
        moved = kde.log_density(far[:5], far, h)
        assert all_finite(moved)
        np.testing.assert_allclose(moved, near, atol=tol)
    near, moved = kde.loo_log_likelihood(X, 1.0), kde.loo_log_likelihood(far, 1.0)
    np.testing.assert_allclose(moved, near, atol=tol)


def test_points_farther_apart_than_exp_can_represent():
    dtype = np.float32
    # two tight groups of 20 points, 1e4 bandwidths apart: exp(-r/2) = exp(-5e7) is 0 in any float
    X = np.r_[np.zeros((20, 2)), np.full((20, 2), 1e4)].astype(dtype) + np.tile([[0.0], [0.5]], (20, 2)).astype(dtype)
    result = jaxshift.mean_shift(X, 1.0)
    assert all_finite(result) and int(result.n_clusters) == 2
    # a seed 1e4 bandwidths from every point still moves (Gaussian), to the nearest mode
    seeds = np.array([[-1e4, 0.25], [0.0, 0.0]], dtype)
    lonely = jaxshift.mean_shift(X, 1.0, seeds=seeds)
    assert all_finite(lonely)
    np.testing.assert_allclose(lonely.modes[0], [0.25, 0.25], atol=1e-3)
    log_f = kde.log_density(seeds, X, 1.0)
    assert all_finite(log_f)
    # the log does not underflow: the nearest half of the data, all 1e4 away, gives all of it
    # (the next points are 1e4 + 1/2 away, exp(-5000) times smaller): log(exp(-1e8/2) / (4 · 2π))
    r = 1e8 + 0.25**2
    np.testing.assert_allclose(float(log_f[0]), -0.5 * r - np.log(4) - np.log(2 * np.pi), rtol=1e-6)
    assert all_finite(kde.loo_log_likelihood(X, 1.0))
    for kernel in KERNELS[1:]:
        compact = jaxshift.mean_shift(X, 1.0, kernel=kernel, seeds=seeds)
        assert all_finite(compact)
        assert bool(compact.dropped[0]) and not bool(compact.dropped[1])
        assert no_nan(kde.log_density(seeds, X, 1.0, kernel=kernel))


@pytest.mark.parametrize("kernel", ("gaussian", "flat", "biweight"))  # epanechnikov steps as flat does
def test_exact_duplicates(kernel):
    X = np.repeat(BLOBS[:20], 2, axis=0)
    result = jaxshift.mean_shift(X, 1.5, kernel=kernel)
    assert all_finite(result)
    # copies of a point climb to the same mode
    np.testing.assert_array_equal(result.labels[0::2], result.labels[1::2])
    assert all_finite(kde.loo_log_likelihood(X, 0.5, kernel=kernel))
    assert all_finite(kde.log_density(X, X, 0.5, kernel=kernel))
    assert all_finite(jaxshift.blurring_mean_shift(X, 1.5, kernel=kernel))


def test_leave_one_out_on_duplicates_stays_finite_as_the_bandwidth_shrinks():
    X = np.repeat(BLOBS[:20], 2, axis=0)
    values = [float(kde.loo_log_likelihood(X, h)) for h in (1.0, 1e-3, 1e-6, 1e-9)]
    assert np.all(np.isfinite(values))
    # a copy's twin is at distance 0, so the likelihood grows like -d log h: unbounded, hence select_bandwidth's error
    assert values[-1] > values[0]
    with pytest.raises(ValueError, match="data: has exact duplicates"):
        jaxshift.select_bandwidth(X)
    unique, counts = np.unique(X, axis=0, return_counts=True)
    assert all_finite(jaxshift.select_bandwidth(unique, weights=counts, max_iter=5))


@pytest.mark.parametrize("kernel", ("gaussian", "flat", "biweight"))  # epanechnikov steps as flat does
def test_constant_data(kernel):
    X = np.full((40, 2), 7.0)
    result = jaxshift.mean_shift(X, 1.0, kernel=kernel)
    assert all_finite(result)
    assert int(result.n_clusters) == 1
    np.testing.assert_array_equal(result.centers[0], [7.0, 7.0])
    assert all_finite(kde.log_density(X, X, 1.0, kernel=kernel))
    assert all_finite(kde.loo_log_likelihood(X, 1.0, kernel=kernel))
    blurred = jaxshift.blurring_mean_shift(X, 1.0, kernel=kernel)
    assert all_finite(blurred) and int(blurred.n_clusters) == 1
    assert all_finite(jaxshift.quantile_bandwidth(X))  # zero, as scikit-learn's


def test_constant_data_under_jit_does_not_hang_or_give_nan():
    # values cannot raise under jit: the automatic bandwidth falls back to a finite one
    X = np.full((12, 2), 3.0)
    h = jax.jit(jaxshift.clustering_bandwidth)(X)
    assert np.isfinite(float(h)) and float(h) > 0


def test_merging_modes_ends_even_with_nan():
    from jaxshift.solvers.clusters import merge_modes

    modes = jnp.array([[np.nan, 0.0], [0.0, 0.0], [5.0, 5.0]])
    clusters = merge_modes(modes, jnp.zeros(3), jnp.ones(3, bool), 1.0, max_clusters=3)
    assert 1 <= int(clusters.n_clusters) <= 3


def test_collinear_data_with_a_full_bandwidth_matrix():
    t = rng.normal(size=40)
    X = np.c_[t, 2 * t, -t + 1]  # rank 1
    H = np.diag([0.3, 0.5, 0.2])
    assert all_finite(kde.log_density(X, X, H))
    assert all_finite(kde.loo_log_likelihood(X, H))
    # a nearly singular but positive-definite H still gives finite values
    nearly = np.cov(X, rowvar=False) + 1e-9 * np.eye(3)
    assert all_finite(kde.log_density(X[:5], X, nearly))
    with pytest.raises(ValueError, match="data: is rank-deficient"):
        jaxshift.select_bandwidth(X, form="full")
    with pytest.raises(ValueError, match="data: is rank-deficient"):
        jaxshift.rule_of_thumb(X, form="full")
    assert all_finite(jaxshift.rule_of_thumb(X, form="diagonal"))


@pytest.mark.parametrize("kernel", KERNELS)
def test_huge_bandwidth(kernel):
    result = jaxshift.mean_shift(BLOBS, 1e6 * float(np.ptp(BLOBS)), kernel=kernel)
    assert all_finite(result) and int(result.n_clusters) == 1
    assert all_finite(kde.log_density(BLOBS, BLOBS, 1e6, kernel=kernel))


def test_density_far_from_the_origin_in_many_dimensions_float32():
    # above 8 dimensions distances go through a matrix product, |y|² + |x|² - 2 y·x, which cancels
    # catastrophically at 1e4 in float32 unless the data are centred first
    Z = rng.normal(size=(30, 10))
    far = (Z + 1e4).astype(np.float32)
    near = kde.log_density(Z[:5], Z, 1.5)
    moved = kde.log_density(far[:5], far, 1.5)
    np.testing.assert_allclose(moved, near, atol=1e-2)
