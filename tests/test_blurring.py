import numpy as np

import jaxshift


def numpy_blurring_steps(X, h, steps):
    points = np.array(X, np.float64)
    for _ in range(steps):
        r = np.sum(((points[:, None, :] - points[None, :, :]) / h) ** 2, axis=-1)
        w = np.exp(-0.5 * r)
        points = w @ points / w.sum(1, keepdims=True)
    return points


def test_tutorial_example_stops_with_two_clusters(tutorial_data):
    result = jaxshift.blurring_mean_shift(tutorial_data, 2.0)
    assert bool(result.stopped_by_entropy)
    assert int(result.n_clusters) == 2
    np.testing.assert_array_equal(np.sort(np.asarray(result.cluster_sizes[:2])), [100, 100])
    truth = np.repeat([0, 1], 100)
    labels = np.asarray(result.labels)
    assert np.all(labels == truth) or np.all(labels == 1 - truth)


def test_running_to_collapse_gives_the_tutorials_single_cluster(tutorial_data):
    # With the structure rule off this is the tutorial's loop, and it collapses to one point.
    result = jaxshift.blurring_mean_shift(tutorial_data, 2.0, entropy_tol=0.0, max_iter=300)
    assert not bool(result.stopped_by_entropy)
    assert int(result.n_clusters) == 1


def test_points_follow_the_float64_reference(tutorial_data):
    result = jaxshift.blurring_mean_shift(tutorial_data, 2.0, max_iter=3, entropy_tol=0.0)
    assert int(result.n_iter) == 3
    np.testing.assert_allclose(np.asarray(result.modes), numpy_blurring_steps(tutorial_data, 2.0, 3), atol=1e-10)
