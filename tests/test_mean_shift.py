import jax
import jax.numpy as jnp
import numpy as np
import pytest
from references import NUMPY_SHADOWS, reference_mean_shift
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.datasets import make_blobs

import jaxshift
from jaxshift.reduce import prepare_data


def blobs(seed, n=300, centers=3, dim=2, std=1.0):
    X, _ = make_blobs(n_samples=n, centers=centers, n_features=dim, random_state=seed, cluster_std=std)
    return X


@pytest.mark.parametrize("kernel", jaxshift.KERNEL_NAMES)
@pytest.mark.parametrize("bandwidth", [2.5, np.array([2.0, 3.0])])
def test_modes_match_float64_numpy_reference(kernel, bandwidth):
    X = blobs(0, n=120)
    result = jaxshift.mean_shift(X, bandwidth, kernel=kernel, query_block=32, data_block=50)
    expected = reference_mean_shift(X, X, bandwidth, NUMPY_SHADOWS[kernel])
    np.testing.assert_allclose(np.asarray(result.modes), expected, atol=1e-6)
    assert bool(result.all_converged)


@pytest.mark.parametrize(
    "X",
    [blobs(0), blobs(1, centers=4), blobs(2, centers=6, std=0.7), blobs(3, n=250, centers=3, dim=3)],
    ids=["blobs3", "blobs4", "blobs6", "blobs3d"],
)
@pytest.mark.parametrize("cluster_all", [True, False])
def test_flat_kernel_reproduces_scikit_learn(X, cluster_all):
    h = estimate_bandwidth(X, quantile=0.2)
    sk = MeanShift(bandwidth=h, cluster_all=cluster_all).fit(X)
    ours = jaxshift.mean_shift(X, h, kernel="flat", labels="nearest", cluster_all=cluster_all)
    k = int(ours.n_clusters)
    assert k == len(sk.cluster_centers_)
    np.testing.assert_allclose(np.asarray(ours.centers[:k]), sk.cluster_centers_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(np.asarray(ours.labels), sk.labels_)


def test_flat_kernel_with_explicit_seeds_matches_scikit_learn():
    X = blobs(4, n=300, centers=4)
    seeds = X[::7] + 0.3
    sk = MeanShift(bandwidth=2.0, seeds=seeds).fit(X)
    ours = jaxshift.mean_shift(X, 2.0, kernel="flat", seeds=seeds)
    k = int(ours.n_clusters)
    np.testing.assert_allclose(np.asarray(ours.centers[:k]), sk.cluster_centers_, atol=1e-10)
    np.testing.assert_array_equal(np.asarray(ours.labels), sk.labels_)


def test_tutorial_example_gives_its_two_clusters(tutorial_data):
    result = jaxshift.mean_shift(tutorial_data, 2.0)
    assert int(result.n_clusters) == 2
    centers = np.asarray(result.centers[:2])
    centers = centers[np.argsort(centers[:, 0])]
    np.testing.assert_allclose(centers, [[2.9, 3.0], [8.1, 8.0]], atol=0.06)
    np.testing.assert_array_equal(np.asarray(result.cluster_sizes[:2]), [100, 100])
    assert np.all(np.asarray(result.centers[2:]) == 0)


def test_basin_and_nearest_labels_agree_on_separated_blobs(tutorial_data):
    basin = jaxshift.mean_shift(tutorial_data, 2.0, labels="basin")
    nearest = jaxshift.mean_shift(tutorial_data, 2.0, labels="nearest")
    np.testing.assert_array_equal(np.asarray(basin.labels), np.asarray(nearest.labels))
    np.testing.assert_array_equal(np.asarray(basin.labels), np.asarray(basin.mode_labels))


def test_orphans_are_points_beyond_one_bandwidth():
    X = np.vstack([np.zeros((20, 2)) + np.linspace(0, 0.5, 20)[:, None], [[10.0, 10.0]]])
    seeds = X[:20]
    result = jaxshift.mean_shift(X, 1.0, kernel="flat", seeds=seeds, cluster_all=False)
    assert int(result.n_clusters) == 1
    assert np.asarray(result.labels)[-1] == -1
    assert np.all(np.asarray(result.labels)[:20] == 0)


def test_seeds_with_no_data_in_reach_are_dropped():
    X = blobs(5, n=100)
    seeds = np.vstack([X[:5], [[1e3, 1e3]]])
    result = jaxshift.mean_shift(X, 2.0, kernel="flat", seeds=seeds)
    np.testing.assert_array_equal(np.asarray(result.dropped), [False] * 5 + [True])
    assert np.asarray(result.mode_labels)[-1] == -1
    assert bool(result.all_converged)


def test_jit_equals_eager():
    X = blobs(6, n=200)
    eager = jaxshift.mean_shift(X, 1.5, kernel="epanechnikov")
    jitted = jax.jit(lambda X, h: jaxshift.mean_shift(X, h, kernel="epanechnikov"))(X, 1.5)
    for a, b in zip(eager, jitted, strict=True):
        if a is None:  # the "auto" report, for named bandwidths only
            assert b is None
            continue
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


def test_vmap_over_bandwidths_equals_a_python_loop(tutorial_data):
    hs = np.array([0.4, 1.0, 2.0, 3.5, 6.0])
    swept = jax.vmap(lambda h: jaxshift.mean_shift(tutorial_data, h))(hs)
    for i, h in enumerate(hs):
        single = jaxshift.mean_shift(tutorial_data, h)
        assert int(swept.n_clusters[i]) == int(single.n_clusters)
        np.testing.assert_allclose(np.asarray(swept.modes[i]), np.asarray(single.modes), atol=1e-10)
        np.testing.assert_array_equal(np.asarray(swept.labels[i]), np.asarray(single.labels))
    assert int(swept.n_clusters[0]) > 2 and int(swept.n_clusters[2]) == 2 and int(swept.n_clusters[-1]) == 1


def test_vmap_over_a_batch_of_data_sets():
    batch = np.stack([blobs(s, n=150) for s in range(3)])
    out = jax.vmap(lambda X: jaxshift.mean_shift(X, 2.0, kernel="flat"))(batch)
    for i in range(3):
        single = jaxshift.mean_shift(batch[i], 2.0, kernel="flat")
        assert int(out.n_clusters[i]) == int(single.n_clusters)
        np.testing.assert_allclose(np.asarray(out.centers[i]), np.asarray(single.centers), atol=1e-10)


def test_no_recompilation_when_only_the_bandwidth_changes():
    traces = []

    @jax.jit
    def count(X, h):
        traces.append(1)
        return jaxshift.mean_shift(X, h).n_clusters

    X = blobs(7, n=100)
    results = [int(count(X, h)) for h in (0.5, 1.0, 3.0, 50.0)]
    assert len(traces) == 1
    assert results[0] > results[-1] == 1


def test_max_iter_is_respected_and_non_convergence_reported():
    X = blobs(8, n=200)
    result = jaxshift.mean_shift(X, 3.0, max_iter=2)
    assert int(result.n_iter) == 2
    assert not bool(result.all_converged)
    assert not np.all(np.asarray(result.converged))
    data = prepare_data(jnp.asarray(X), 3.0, None, 64)
    state, info, n_iter = jaxshift.run(
        jaxshift.init(jnp.asarray(X), data), data, kernel=jaxshift.get_kernel("gaussian"), max_iter=2
    )
    assert int(n_iter) == 2 and int(state.seed_steps.max()) == 2
    assert int(info.moving) == int(np.sum(~np.asarray(state.converged)))


def test_converged_seeds_are_frozen():
    X = blobs(9, n=150)
    kernel = jaxshift.get_kernel("gaussian")
    data = prepare_data(jnp.asarray(X), 2.0, None, 64)
    state = jaxshift.init(jnp.asarray(X), data)
    for _ in range(6):
        before = state
        state, _ = jaxshift.step(state, data, kernel=kernel, query_block=16)
        frozen = np.asarray(before.converged)
        np.testing.assert_array_equal(np.asarray(state.position)[frozen], np.asarray(before.position)[frozen])
        np.testing.assert_array_equal(np.asarray(state.seed_steps)[frozen], np.asarray(before.seed_steps)[frozen])
    assert np.asarray(state.converged).any()


def test_repeated_runs_are_identical():
    X = blobs(10, n=300, centers=5).astype(np.float32)
    first = jaxshift.mean_shift(X, 1.2)
    for _ in range(2):
        again = jaxshift.mean_shift(X, 1.2)
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_integer_weights_equal_duplicated_points():
    X = blobs(11, n=60)
    counts = np.random.default_rng(0).integers(1, 4, size=60)
    weighted = jaxshift.mean_shift(X, 1.5, weights=counts)
    repeated = jaxshift.mean_shift(np.repeat(X, counts, axis=0), 1.5, seeds=X)
    np.testing.assert_allclose(np.asarray(weighted.modes), np.asarray(repeated.modes), atol=1e-9)
    assert int(weighted.n_clusters) == int(repeated.n_clusters)


def test_float32_stays_float32_and_agrees_with_float64(tutorial_data):
    r32 = jaxshift.mean_shift(tutorial_data.astype(np.float32), 2.0)
    r64 = jaxshift.mean_shift(tutorial_data, 2.0)
    assert r32.modes.dtype == np.float32 and r32.centers.dtype == np.float32
    np.testing.assert_allclose(np.asarray(r32.centers[:2]), np.asarray(r64.centers[:2]), atol=1e-3 * 2.0 * 5)


def test_data_far_from_the_origin_in_float32():
    X = blobs(12, n=200).astype(np.float32)
    near = jaxshift.mean_shift(X, 1.5)
    far = jaxshift.mean_shift(X + np.float32(1e4), 1.5)
    assert int(near.n_clusters) == int(far.n_clusters)
    np.testing.assert_array_equal(np.asarray(near.labels), np.asarray(far.labels))


@pytest.mark.parametrize("labels", ["basin", "nearest"])
def test_too_few_centre_rows_are_reported_and_labels_stay_consistent(labels):
    blobs = np.vstack([np.random.default_rng(k).normal(8.0 * k, 0.5, (40, 2)) for k in range(5)])
    full = jaxshift.mean_shift(blobs, 1.0, labels=labels)
    cut = jaxshift.mean_shift(blobs, 1.0, labels=labels, max_clusters=3)
    assert int(full.n_clusters) == int(cut.n_clusters) == 5
    assert not bool(full.truncated) and bool(cut.truncated)
    labelled = np.asarray(cut.labels)
    assert labelled.max() < 3 and np.array_equal(np.bincount(labelled[labelled >= 0], minlength=3), cut.cluster_sizes)
    assert np.asarray(cut.mode_labels).max() < 3
    if labels == "basin":
        assert np.sum(labelled == -1) == 80  # the two clusters without a row


def test_accelerated_climb_reaches_the_same_modes_in_fewer_steps():
    # a small bandwidth against the blobs' spread: the plain step contracts by ~0.92 a step near a mode
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(10, 1, (300, 2))])
    h = 0.35
    seeds = jaxshift.bin_seeds(X, 1.0)
    plain = jaxshift.mean_shift(X, h, seeds=seeds)
    fast = jaxshift.mean_shift(X, h, seeds=seeds, accelerate=True)
    assert bool(plain.all_converged) and bool(fast.all_converged)
    assert int(fast.n_iter) * 3 <= int(plain.n_iter)  # a cycle is three steps: fewer steps in all
    # every mode is a fixed point of the float64 step to tol, and both climbs find the same ones
    modes = np.asarray(fast.modes)
    one_step = reference_mean_shift(X, modes, h, NUMPY_SHADOWS["gaussian"], max_iter=1)
    assert np.max(np.sqrt(np.sum(((one_step - modes) / h) ** 2, axis=1))) <= 1e-3
    tight = reference_mean_shift(X, modes, h, NUMPY_SHADOWS["gaussian"], tol=1e-12, max_iter=5000)
    assert np.max(np.abs(modes - tight)) / h < 2e-2
    k = int(plain.n_clusters)
    assert int(fast.n_clusters) == k
    order = np.lexsort(np.asarray(plain.centers[:k]).T)
    fast_order = np.lexsort(np.asarray(fast.centers[:k]).T)
    np.testing.assert_allclose(
        np.asarray(fast.centers[:k])[fast_order], np.asarray(plain.centers[:k])[order], atol=0.05 * h
    )


def test_accelerate_needs_the_gaussian_kernel_and_the_blockwise_path():
    X = blobs(0, n=50)
    with pytest.raises(ValueError, match="accelerate: needs the Gaussian kernel"):
        jaxshift.mean_shift(X, 1.0, kernel="flat", accelerate=True)
    with pytest.raises(ValueError, match="accelerate: runs on the blockwise path"):
        jaxshift.mean_shift(X, 1.0, backend="attention", accelerate=True)
    with pytest.raises(ValueError, match="accelerate: expected True or False"):
        jaxshift.mean_shift(X, 1.0, accelerate="yes")
