import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import cluster
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_estimator

from jaxshift import sklearn as js
from jaxshift.kernels import get_kernel


def blobs(seed, n=300, centers=4, dim=2, std=1.0):
    return make_blobs(n_samples=n, centers=centers, n_features=dim, cluster_std=std, random_state=seed)[0]


DATA = {
    "blobs": blobs(0),
    "blobs-3d": blobs(1, n=250, dim=3),
    "tight": blobs(2, n=400, centers=6, std=0.6),
}


@pytest.mark.parametrize("name", list(DATA))
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"bin_seeding": True},
        {"cluster_all": False, "bandwidth": 1.2},
        {"bin_seeding": True, "min_bin_freq": 5},
        {"max_iter": 3},
    ],
    ids=["default", "bin-seeding", "orphans", "min-bin-freq", "max-iter-3"],
)
def test_same_centres_labels_and_iterations_as_scikit_learn(name, params, monkeypatch):
    monkeypatch.setattr(js, "MIXED_MIN_PAIRS", 0)  # float32 climbs finished in float64, as on large data
    X = DATA[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = js.MeanShift(**params).fit(X)
    theirs = cluster.MeanShift(**params).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(ours.predict(X[:50] + 0.1), theirs.predict(X[:50] + 0.1))


def test_float64_climbs_in_float32_and_finishes_on_the_float64_modes():
    # the parity tests above take this path; here every seed, not only the merged centres: the same
    # mode, step count and neighbour count as climbing in float64 all the way
    X = DATA["tight"]
    assert js._climbs_in_float32(X, X, 1.0)
    with jax.enable_x64(True):
        args = (jnp.asarray(X), jnp.asarray(X), jnp.asarray(1.0), 301)
        whole = js._climb(*args, kernel=get_kernel("flat"))
        mixed = js._climb_mixed(*args, kernel=get_kernel("flat"))
    assert mixed[0].dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(mixed[0]), np.asarray(whole[0]), rtol=0, atol=1e-12)
    for a, b in zip(mixed[1:], whole[1:], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_data_float32_would_misjudge_climb_in_float64_and_scales_do_not_overflow(monkeypatch):
    monkeypatch.setattr(js, "MIXED_MIN_PAIRS", 0)
    lattice = np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2)
    assert not js._climbs_in_float32(lattice, lattice, 1.0)  # points at exactly one bandwidth
    ours, theirs = js.MeanShift(bandwidth=1.0).fit(lattice), cluster.MeanShift(bandwidth=1.0).fit(lattice)
    np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    X = DATA["blobs"]
    assert not js._climbs_in_float32(np.vstack([X, [[1e4, 0.0]]]), X, 1.0)  # too wide for float32's rounding
    reference = js.MeanShift(bandwidth=1.5).fit(X)
    for scale in (2.0**600, 2.0**-600):  # beyond float32's range both ways: centred and scaled first
        scaled = js.MeanShift(bandwidth=1.5 * scale).fit(X * scale)
        np.testing.assert_allclose(scaled.cluster_centers_ / scale, reference.cluster_centers_, rtol=1e-12)
        np.testing.assert_array_equal(scaled.labels_, reference.labels_)


def test_functions_match_scikit_learn():
    X = DATA["blobs"]
    for q in (0.1, 0.3):
        assert js.estimate_bandwidth(X, quantile=q) == pytest.approx(
            cluster.estimate_bandwidth(X, quantile=q), rel=1e-12
        )
    assert js.estimate_bandwidth(X, n_samples=100, random_state=3) == pytest.approx(
        cluster.estimate_bandwidth(X, n_samples=100, random_state=3), rel=1e-12
    )
    np.testing.assert_array_equal(js.get_bin_seeds(X, 1.5, 2), cluster.get_bin_seeds(X, 1.5, 2))
    centers, labels = js.mean_shift(X, bandwidth=2.0)
    ref_centers, ref_labels = cluster.mean_shift(X, bandwidth=2.0)
    np.testing.assert_allclose(centers, ref_centers, atol=1e-10)
    np.testing.assert_array_equal(labels, ref_labels)


def test_float32_stays_float32():
    X = DATA["blobs"].astype(np.float32)
    ours = js.MeanShift(bandwidth=2.0).fit(X)
    theirs = cluster.MeanShift(bandwidth=2.0).fit(X)
    assert ours.cluster_centers_.dtype == np.float32 == theirs.cluster_centers_.dtype
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, atol=1e-4)


def test_no_point_within_bandwidth_is_scikit_learns_error():
    X = DATA["blobs"]
    with pytest.raises(ValueError, match="No point was within bandwidth=1.000000 of any seed"):
        js.MeanShift(bandwidth=1.0, seeds=X[:3] + 100.0).fit(X)


def test_zero_estimated_bandwidth_as_scikit_learn():
    X = np.array([[1.0, 1.0]] * 5 + [[4.0, 4.0]] * 5)  # every point has int(0.3 n) = 3 copies: bandwidth 0
    assert cluster.estimate_bandwidth(X) == 0
    ours = js.MeanShift().fit(X)
    theirs = cluster.MeanShift().fit(X)
    np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)


def test_convergence_warning_when_seeds_hit_max_iter():
    with pytest.warns(ConvergenceWarning, match="did not converge within max_iter=1"):
        js.MeanShift(bandwidth=3.0, max_iter=1).fit(DATA["blobs"])


def test_extras_kernel_auto_bandwidth_and_basin_labels(tutorial_data):
    model = js.MeanShift(kernel="gaussian", bandwidth="auto", labels="basin").fit(tutorial_data)
    assert len(model.cluster_centers_) == 2
    assert sorted(np.bincount(model.labels_)) == [100, 100]
    assert model.bandwidth_ > 0
    with pytest.raises(ValueError, match="kernel: unknown kernel"):
        js.MeanShift(kernel="cosine").fit(tutorial_data)
    with pytest.raises(ValueError, match='labels: "basin" needs every point as a seed'):
        js.MeanShift(labels="basin", bin_seeding=True).fit(tutorial_data)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_passes_scikit_learns_estimator_checks():
    check_estimator(js.MeanShift(), on_skip=None)
