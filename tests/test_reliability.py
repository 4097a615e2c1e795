"""Regression tests of issue 14, by kind: precision and scale, time and memory bombs, checked mode,
scikit-learn parity. (Sharding with a mesh of Auto axes is in sharded_check.py, run by test_sharding.py.)"""

import json
import os
import subprocess
import sys
import warnings

import jax
import numpy as np
import pytest
from scipy.special import logsumexp

import jaxshift
from jaxshift import checking, kde

RNG = np.random.default_rng(14)


def reference_log_density(points, data, h, weights=None):
    """The Gaussian KDE's log density in float64: log Σ w N(y; x, h²I) / Σ w."""
    points, data = np.asarray(points, np.float64), np.asarray(data, np.float64)
    w = np.ones(len(data)) if weights is None else np.asarray(weights, np.float64)
    dim = data.shape[1]
    r = np.sum(np.square((points[:, None, :] - data[None]) / h), axis=-1)
    return logsumexp(-0.5 * r, b=w, axis=1) - np.log(w.sum()) - dim / 2 * np.log(2 * np.pi) - dim * np.log(h)


# ---- precision and scale ------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [9, 16])
def test_float32_density_in_high_dimensions_is_accurate_far_from_the_bandwidth(dim):
    # spread / h = 1000: through a matrix product, float32 distances were off by units (2 nats at d = 9)
    X = RNG.normal(size=(64, dim)) * 1000.0
    P = X[:8] + RNG.normal(size=(8, dim))
    got = kde.log_density(P.astype(np.float32), X.astype(np.float32), np.float32(1.0))
    # float32 rounds the inputs themselves (1000 h spread, 6e-5 h steps): a few 1e-3 nats
    np.testing.assert_allclose(np.asarray(got, np.float64), reference_log_density(P, X, 1.0), atol=0.02)


def test_float32_mean_shift_converges_on_tight_clusters_in_16_dimensions():
    centres = RNG.normal(size=(5, 16)) * 100.0
    X = np.vstack([c + 0.01 * RNG.normal(size=(16, 16)) for c in centres])
    one = jaxshift.mean_shift(X.astype(np.float32), 0.1)
    double = jaxshift.mean_shift(X, 0.1)
    assert bool(one.all_converged) and int(one.n_iter) <= int(double.n_iter) + 2, int(one.n_iter)
    assert int(one.n_clusters) == int(double.n_clusters) == 5
    np.testing.assert_array_equal(one.labels, double.labels)


@pytest.mark.parametrize("h", [1e-38, 1e-40, 1e-45])
def test_subnormal_float32_bandwidths_are_refused_by_name(h):
    X = RNG.normal(size=(20, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="bandwidth: .* below the smallest normal float32"):
        jaxshift.mean_shift(X, np.float32(h), kernel="flat")


@pytest.mark.parametrize("h", [3e38, 1e38])
def test_bandwidths_near_the_largest_float32_give_one_cluster_not_nan(h):
    X = RNG.normal(size=(20, 2)).astype(np.float32)
    result = jaxshift.mean_shift(X, np.float32(h))
    assert np.all(np.isfinite(result.modes)) and int(result.n_clusters) == 1
    np.testing.assert_allclose(result.centers[0], X.mean(axis=0), atol=1e-5)
    assert np.all(np.isfinite(jaxshift.blurring_mean_shift(X, np.float32(h)).modes))
    assert np.all(np.isfinite(kde.log_density(X[:3], X, np.float32(h))))


def test_float32_data_of_scale_1e37_never_nan():
    X = (RNG.normal(size=(20, 2)) * 1e37).astype(np.float32)
    assert np.all(np.isfinite(jaxshift.mean_shift(X, np.float32(1e37)).modes))
    assert np.all(np.isfinite(jaxshift.rule_of_thumb(X)))
    assert np.all(np.isfinite(jaxshift.mean_shift(X, "scott").modes))


@pytest.mark.parametrize("scale", [1e-20, 1e20])
def test_select_bandwidth_is_scale_equivariant_in_float32(scale):
    X = RNG.normal(size=(60, 2))
    base = jaxshift.select_bandwidth(X.astype(np.float32))
    scaled = jaxshift.select_bandwidth((X * scale).astype(np.float32))
    assert bool(scaled.converged)
    np.testing.assert_allclose(float(scaled.bandwidth) / scale, float(base.bandwidth), rtol=1e-4)
    # the likelihood of a density in other units: shifted by -d log(scale)
    np.testing.assert_allclose(float(scaled.objective), float(base.objective) - 2 * np.log(scale), rtol=1e-5)


_TINY_BANDWIDTHS = """
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
from jaxshift import kde
X = np.random.default_rng(14).normal(size=(50, 3))
out = []
for h in (1e-8, 1e-30):
    out.append([float(kde.log_density(X[:1], X, h)[0]),
                float(kde.log_density(X[:1].astype(np.float32), X.astype(np.float32), np.float32(h))[0])])
print(json.dumps(out))
"""


def test_density_at_a_data_point_with_a_tiny_bandwidth():
    # Only the point's own kernel counts: log(1 / (n (2π)^(d/2) h^d)), in float64 and float32. Run with
    # XLA's default optimisation (the suite compiles with less): that is where x/h - y/h fused into a
    # multiply-add put a point 1e13 bandwidths from itself (-1.7e27 for +200.6 at h = 1e-30).
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", _TINY_BANDWIDTHS], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for h, (double, single) in zip((1e-8, 1e-30), json.loads(done.stdout.splitlines()[-1]), strict=True):
        true = -np.log(50) - 1.5 * np.log(2 * np.pi) - 3 * np.log(h)
        np.testing.assert_allclose(double, true, rtol=1e-12)
        np.testing.assert_allclose(single, true, rtol=1e-6)


@pytest.mark.parametrize("n", [2, 3, 7, 50, 1000])
def test_rule_of_thumb_on_constant_data_always_raises(n):
    for dtype in (np.float32, np.float64):
        with pytest.raises(ValueError, match="constant"):
            jaxshift.rule_of_thumb(np.full((n, 2), 0.1, dtype))


def test_a_weight_below_the_smallest_normal_float32_is_a_weight():
    X = RNG.normal(size=(20, 2)).astype(np.float32)
    w = np.zeros(20, np.float32)
    w[3] = 1e-45
    result = jaxshift.mean_shift(X, np.float32(0.5), weights=w)
    assert np.all(np.isfinite(result.modes)) and int(result.n_clusters) == 1
    np.testing.assert_allclose(result.centers[0], X[3], rtol=1e-6)
    np.testing.assert_allclose(
        kde.log_density(X[:3], X, np.float32(0.5), weights=w), reference_log_density(X[:3], X[3:4], 0.5), rtol=1e-5
    )


def test_scikit_learn_estimator_with_a_huge_bandwidth_gives_one_finite_centre():
    from jaxshift.sklearn import MeanShift

    X = RNG.normal(size=(30, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            model = MeanShift(bandwidth=1e300, bin_seeding=True).fit(X.astype(dtype))
            assert model.cluster_centers_.shape == (1, 2) and np.all(np.isfinite(model.cluster_centers_))


# ---- time and memory bombs ----------------------------------------------------------------------


def test_merging_wide_modes_compiles_quickly():
    # a sort on every one of 2000 columns took 45 s to compile: the program must not grow with d
    # (checked on its text, not by a clock, which a busy machine makes meaningless)
    def program(d):
        X = RNG.normal(size=(5, d))
        return jax.jit(lambda X: jaxshift.mean_shift(X, 1.0).n_clusters).lower(X).as_text()

    narrow, wide = program(2), program(2000)
    assert wide.count("stablehlo.sort") == narrow.count("stablehlo.sort")
    assert len(wide) < 2 * len(narrow)
    result = jaxshift.mean_shift(RNG.normal(size=(5, 2000)), 1.0)
    assert int(result.n_clusters) == 5


def test_grid_mean_shift_in_6_dimensions_compiles_quickly():
    # 3^5 neighbour offsets unrolled took a minute and 4 GB to compile: the program must not grow like 3^d
    def program(d):
        return jax.jit(lambda X: jaxshift.grid_mean_shift(X, 0.5).n_clusters).lower(RNG.normal(size=(100, d))).as_text()

    assert len(program(6)) < 2 * len(program(2))
    X = RNG.normal(size=(100, 6))
    result = jaxshift.grid_mean_shift(X, 0.5)
    assert 1 <= int(result.n_clusters) <= 100 and np.all(result.labels >= 0)


# ---- checked mode -------------------------------------------------------------------------------

_checked_mean_shift = jax.jit(lambda X, options: checking.mean_shift(X, 1.0, **options))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(tol=-1.0), "tol: must be a finite number >= 0"),
        (dict(tol=np.nan), "tol: must be a finite number >= 0"),
        (dict(max_iter=-5), "max_iter: must be an integer >= 1"),
        (dict(merge_radius=np.nan), "merge_radius: must be a finite number >= 0"),
    ],
)
def test_checked_mode_names_traced_options(options, message):
    X = RNG.normal(size=(12, 2))
    error, _ = _checked_mean_shift(X, options)
    assert error.get() is not None and error.get().startswith(message), error.get()


def test_checked_mode_reports_a_flat_kernel_that_drops_every_seed():
    X = RNG.normal(size=(12, 2))
    run = jax.jit(lambda X, seeds: checking.mean_shift(X, 0.5, seeds=seeds, kernel="flat"))
    error, _ = run(X, X[:3] + 100.0)
    assert error.get() is not None and "every seed was dropped" in error.get()
    error, _ = run(X, X[:3])
    assert error.get() is None


# ---- scikit-learn parity ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimate_bandwidth_returns_a_numpy_float_of_the_data_dtype(dtype):
    from jaxshift.sklearn import estimate_bandwidth

    bandwidth = estimate_bandwidth(RNG.normal(size=(20, 2)).astype(dtype))
    assert isinstance(bandwidth, np.floating) and bandwidth.dtype == dtype
