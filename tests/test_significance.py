"""Mode significance (the valley bootstrap) and the rebuilt bandwidth="auto": one population gives one
cluster, separated clusters are kept and reported as significant, repeated fits do not recompile."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jaxshift
from jaxshift.density.significance import merge_roots
from jaxshift.sklearn import MeanShift


def one_population(name):
    rng = np.random.default_rng(11)
    if name == "normal, 1-D":
        return rng.normal(size=(300, 1))
    if name == "normal, 5-D":
        return rng.normal(size=(300, 5))
    if name == "correlated normal":
        return rng.multivariate_normal([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], 300)
    if name == "log-normal":
        return np.exp(rng.normal(0.0, 0.5, (300, 2)))
    return stats.t.rvs(3, size=(300, 2), random_state=11)


@pytest.mark.parametrize("name", ["normal, 1-D", "normal, 5-D", "correlated normal", "log-normal", "Student t(3)"])
def test_one_population_gives_one_cluster(name):
    result = jaxshift.mean_shift(one_population(name), "auto")
    assert int(result.n_clusters) == 1
    assert int(result.cluster_sizes[0]) == 300
    report = result.auto
    assert float(report.significance[0]) == 1.0 and int(report.n_modes) >= 1
    assert (
        int(report.n_iter) > 0 and np.isfinite(float(report.criterion)) and float(report.level) == pytest.approx(0.99)
    )
    np.testing.assert_array_equal(np.asarray(report.bandwidth), np.asarray(result.bandwidth))
    assert not bool(report.rounded)


def test_rounded_data_take_the_plug_in_bandwidth():
    X = np.round(np.random.default_rng(12).normal(size=(300, 2)), 1)  # a lattice: ~50 values per column
    result = jaxshift.mean_shift(X, "auto")
    assert int(result.n_clusters) == 1 and bool(result.auto.rounded)
    assert np.isnan(float(result.auto.criterion)) and int(result.auto.n_iter) == 0
    plug_in = float(jaxshift.clustering_bandwidth(X, method="plugin_gradient"))
    np.testing.assert_allclose(float(result.auto.bandwidth), plug_in, rtol=1e-6)
    # the same values with a little noise are not rounded: the criterion decides
    jittered = jaxshift.mean_shift(X + np.random.default_rng(13).uniform(-0.01, 0.01, X.shape), "auto")
    assert not bool(jittered.auto.rounded) and int(jittered.auto.n_iter) > 0
    # many points printed to three decimals tie, but not in the 2000 the selection sees: not rounded
    from jaxshift.api.bandwidth import on_a_lattice

    printed = np.round(np.random.default_rng(14).normal(size=(20000, 2)), 3)
    assert all(len(np.unique(column)) < 10000 for column in printed.T) and not on_a_lattice(printed)


def test_separated_clusters_are_significant_and_noise_modes_merge(tutorial_data):
    # a small bandwidth finds many modes; the valley bootstrap keeps the two blobs only
    small = jaxshift.mean_shift(tutorial_data, 0.35)
    assert int(small.n_clusters) > 2
    found = jaxshift.mode_significance(tutorial_data, small)
    again = jaxshift.mode_significance(tutorial_data, small)
    np.testing.assert_array_equal(np.asarray(found.significance), np.asarray(again.significance))  # fixed key
    merged, significance = jaxshift.merge_insignificant(small, found, 0.99)
    assert int(merged.n_clusters) == 2
    np.testing.assert_array_equal(np.sort(np.asarray(merged.cluster_sizes[:2])), [100, 100])
    np.testing.assert_array_equal(np.asarray(significance[:2]), [1.0, 1.0])
    # points of one blob share a label, and the labels of modes and points agree
    labels = np.asarray(merged.labels)
    assert len(set(labels[:100])) == 1 and len(set(labels[100:])) == 1 and labels[0] != labels[100]
    np.testing.assert_array_equal(np.asarray(merged.mode_labels), labels)


def test_merge_follows_chains_of_insignificant_modes_to_a_significant_one():
    significance = np.array([1.0, 0.5, 0.999, 0.2, 0.3])
    parent = np.array([0, 0, 1, 2, 3])
    np.testing.assert_array_equal(np.asarray(merge_roots(significance, parent, 0.99)), [0, 0, 2, 2, 2])
    np.testing.assert_array_equal(np.asarray(merge_roots(significance, parent, 0.1)), [0, 1, 2, 3, 4])


def test_bad_arguments_are_named(tutorial_data):
    result = jaxshift.mean_shift(tutorial_data, 1.0)
    found = jaxshift.mode_significance(tutorial_data, result, n_boot=8)
    with pytest.raises(ValueError, match="level: must be a number in"):
        jaxshift.merge_insignificant(result, found, 1.5)
    with pytest.raises(ValueError, match="n_boot"):
        jaxshift.mode_significance(tutorial_data, result, n_boot=0)
    with pytest.raises(ValueError, match="result: expected a MeanShiftResult"):
        jaxshift.mode_significance(tutorial_data, result.centers)


def test_drop_in_auto_reports_significance_and_does_not_recompile(tutorial_data):
    model = MeanShift(bandwidth="auto").fit(tutorial_data)
    assert len(model.cluster_centers_) == 2 and sorted(np.bincount(model.labels_)) == [100, 100]
    np.testing.assert_array_equal(model.cluster_significance_, [1.0, 1.0])
    assert model.n_modes_ >= 2 and model.bandwidth_ > 0
    assert bool(model.bandwidth_selection_.converged) and int(model.bandwidth_selection_.n_iter) > 0
    compiles = []

    def listener(event, duration, **_):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(event)

    other = 1.5 * tutorial_data[::-1] + 3.0  # new values, the same shape
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        refit = MeanShift(bandwidth="auto").fit(other)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiles == []
    assert len(refit.cluster_centers_) == 2 and refit.bandwidth_ == pytest.approx(1.5 * model.bandwidth_)
    # data of the same shape with another number of clusters (the centres are padded, not shaped)
    three = tutorial_data + np.repeat([[0.0, 0.0], [12.0, 0.0], [0.0, 12.0], [12.0, 0.0]], 50, axis=0)
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        other_count = MeanShift(bandwidth="auto").fit(three)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert len(other_count.cluster_centers_) == 4 and compiles == []  # each blob split in two, 12 apart


def test_the_pairwise_scalar_criterion_equals_the_blockwise_one():
    from jaxshift.density import gradient_cv

    data = np.random.default_rng(4).normal(size=(80, 3))
    weights = np.random.default_rng(5).uniform(0.5, 2.0, 80)
    centred = data - weights @ data / weights.sum()
    spread = np.sqrt(weights @ np.sum(centred**2, axis=1) / (weights.sum() * 3))
    x = centred / spread
    distances = np.sum((x[:, None] - x[None]) ** 2, axis=-1)
    for h in (0.3, 0.8):
        expected = float(gradient_cv.gradient_ucv(data, h, weights))
        found = float(gradient_cv.scalar_gradient_ucv(distances, h / spread, weights, 3))
        np.testing.assert_allclose(found, expected, rtol=1e-4)


def test_auto_tests_each_mode_against_a_kept_parent():
    # two blobs 8 apart at a small bandwidth: a one-point tail mode of one blob has as its nearest higher
    # mode a spurious three-point mode of the other; the segment between them crosses the blobs' real
    # valley, so the single pass keeps it; against the nearest kept mode (a blob) it has no valley.
    # (The two added points end up in the blobs.)
    from jaxshift.api.significance import auto_merge
    from jaxshift.kernels import get_kernel

    rng = np.random.default_rng(0)
    lone = [[-2.4, 3.0], [-2.1, 4.9]]
    X = np.concatenate([rng.normal([0, 0], 1, (2000, 2)), rng.normal([0, 8], 1, (2000, 2)), lone])
    result = jaxshift.mean_shift(X, 0.33)
    assert int(result.n_clusters) == 4
    found = jaxshift.mode_significance(X, result)
    single, _ = jaxshift.merge_insignificant(result, found, 0.99)
    assert int(single.n_clusters) == 3  # a cluster of one point kept, vouched for by another spurious mode
    assert np.sort(np.asarray(single.cluster_sizes[:3]))[0] == 1
    merged = auto_merge(X, result, None, kernel=get_kernel("gaussian"))
    assert int(merged.n_clusters) == 2
    np.testing.assert_array_equal(np.asarray(merged.cluster_sizes[:2]), [2001, 2001])
    merged_labels = np.asarray(merged.labels)
    assert len(set(merged_labels[:2000])) == 1 and len(set(merged_labels[2000:4000])) == 1
    assert merged_labels[0] != merged_labels[2000]
    assert np.all(np.asarray(merged.auto.significance[:2]) >= 0.99)


def test_drop_in_merges_against_kept_parents():
    # the same data through the drop-in's "auto" merge, at the same bandwidth (its selection bypassed)
    rng = np.random.default_rng(0)
    lone = [[-2.4, 3.0], [-2.1, 4.9]]
    X = np.concatenate([rng.normal([0, 0], 1, (2000, 2)), rng.normal([0, 8], 1, (2000, 2)), lone])
    model = MeanShift(kernel="gaussian", bandwidth=0.33).fit(X)
    assert len(model.cluster_centers_) >= 3
    model._merge_insignificant(X, 0.33)
    assert len(model.cluster_centers_) == 2
    np.testing.assert_array_equal(np.bincount(model.labels_), [2001, 2001])
    assert len(set(model.labels_[:2000])) == 1 and model.labels_[0] != model.labels_[2000]
    assert np.all(model.cluster_significance_ >= 0.99)


def _rounds_by_hand(X, modes, valid, h, key, level, max_rounds):
    """kept_significance written as a plain loop over rounds of mode_significance."""
    from jaxshift.density.significance import mode_significance
    from jaxshift.kernels import get_kernel

    gaussian = get_kernel("gaussian")
    first = mode_significance(X, modes, valid, h, None, key, kernel=gaussian)
    significance, parent = np.asarray(first.significance), np.asarray(first.parent)
    kept = np.asarray(valid) & (significance >= level)
    changed, rounds = bool(np.any(kept != np.asarray(valid))), 1
    while changed and rounds < max_rounds:
        found = mode_significance(X, modes, valid, h, None, key, kernel=gaussian, candidates=jnp.asarray(kept))
        significance = np.where(kept, np.asarray(found.significance), significance)
        parent = np.where(kept, np.asarray(found.parent), parent)
        still = kept & (np.asarray(found.significance) >= level)
        changed, kept, rounds = bool(np.any(still != kept)), still, rounds + 1
    return significance, parent, rounds


@pytest.mark.parametrize("max_rounds", [2, 8])
def test_kept_significance_is_rounds_of_the_single_pass(max_rounds):
    # a Student t(3) sample at a small bandwidth: 91 modes, whose kept set settles after 5 rounds
    from jaxshift.density.significance import kept_significance
    from jaxshift.kernels import get_kernel

    X = jnp.asarray(np.random.default_rng(5).standard_t(3, size=(1000, 2)))
    result = jaxshift.mean_shift(X, 0.2)
    k = int(result.n_clusters)
    modes, valid, h, key = result.centers[:k], jnp.ones(k, bool), jnp.asarray(0.2), jax.random.key(0)
    significance, parent, rounds = _rounds_by_hand(X, modes, valid, h, key, 0.99, max_rounds)
    assert rounds == min(5, max_rounds)
    found = kept_significance(
        X, modes, valid, h, None, key, kernel=get_kernel("gaussian"), level=jnp.asarray(0.99), max_rounds=max_rounds
    )
    np.testing.assert_array_equal(np.asarray(found.significance), significance)
    np.testing.assert_array_equal(np.asarray(found.parent), parent)
