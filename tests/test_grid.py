import itertools
from collections import defaultdict

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import jaxshift
from jaxshift.solvers import grid


def separated_blobs(seed, n=400, dim=2, std=1.0, spacing=12.0):
    rng = np.random.default_rng(seed)
    corners = np.array(list(itertools.product((0.0, spacing), repeat=dim)))
    centers = corners[rng.choice(len(corners), size=min(4, len(corners)), replace=False)]
    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=std, random_state=seed)
    return X, y


def reference_grid_mean_shift(X, h, max_iter=100, tol=1e-3):
    """MeanShift++ written plainly, with dictionaries for the cells (float64)."""
    lower = X.min(axis=0)
    Z = (X - lower) / h
    dim = X.shape[1]
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        cells = [tuple(c) for c in np.floor(Z).astype(int)]
        count, total = defaultdict(int), defaultdict(lambda: np.zeros(dim))
        for c, z in zip(cells, Z, strict=True):
            count[c] += 1
            total[c] += z
        new = np.empty_like(Z)
        for i, c in enumerate(cells):
            near = [tuple(np.add(c, o)) for o in itertools.product((-1, 0, 1), repeat=dim)]
            near = [k for k in near if k in count]
            new[i] = sum(total[k] for k in near) / sum(count[k] for k in near)
        done = np.all(np.sum(np.square(new - Z), axis=1) <= tol**2)
        Z = new
        if done:
            break
    _, labels = np.unique(np.floor(Z).astype(int), axis=0, return_inverse=True)
    return Z * h + lower, labels.reshape(-1), iteration


@pytest.mark.parametrize("dim, h", [(1, 0.7), (2, 1.0), (3, 1.3)])
def test_matches_a_plain_reference(dim, h):
    X, _ = separated_blobs(dim, n=400, dim=dim)
    modes, labels, n_iter = reference_grid_mean_shift(X, h)
    result = jaxshift.grid_mean_shift(X, h)
    np.testing.assert_allclose(np.asarray(result.modes), modes, atol=1e-9)
    assert int(result.n_iter) == n_iter
    assert bool(result.all_converged)
    assert adjusted_rand_score(labels, np.asarray(result.labels)) == 1.0
    assert int(result.n_clusters) == len(np.unique(labels))


def test_under_jit_every_point_is_a_row_and_the_answer_is_the_same():
    X, _ = separated_blobs(5, n=400)
    fn = jax.jit(lambda data, h: jaxshift.grid_mean_shift(data, h))
    for h in (1.0, 1.5):  # the bandwidth is traced: one compilation
        eager = jaxshift.grid_mean_shift(X, h)
        jitted = fn(X, h)
        np.testing.assert_allclose(np.asarray(jitted.modes), np.asarray(eager.modes), atol=1e-9)
        np.testing.assert_array_equal(np.asarray(jitted.labels), np.asarray(eager.labels))
        np.testing.assert_allclose(np.asarray(jitted.centers), np.asarray(eager.centers), atol=1e-9)
        assert int(jitted.n_iter) == int(eager.n_iter)


def test_agrees_with_exact_mean_shift_on_separated_blobs():
    X, truth = separated_blobs(12, n=400)
    exact = jaxshift.mean_shift(X, 1.0)
    approx = jaxshift.grid_mean_shift(X, 1.0)
    k = len(np.unique(truth))
    assert int(exact.n_clusters) == k
    assert adjusted_rand_score(np.asarray(exact.labels), np.asarray(approx.labels)) >= 0.99
    # isolated points in the tails (no neighbour in their 3^d cells) stay put, as singletons;
    # the k largest clusters hold nearly everything and their centres agree to a fraction of a cell
    assert int(approx.n_clusters) >= k
    assert int(approx.cluster_sizes[:k].sum()) >= 0.99 * len(X)
    exact_centers = np.asarray(exact.centers[:k])
    approx_centers = np.asarray(approx.centers[:k])
    gaps = np.linalg.norm(exact_centers[:, None] - approx_centers[None], axis=-1).min(axis=1)
    assert np.all(gaps < 0.3)


def test_float32_data_give_float32_results_that_agree():
    X, _ = separated_blobs(7, n=400)
    r64 = jaxshift.grid_mean_shift(X, 1.0)
    r32 = jaxshift.grid_mean_shift(X.astype(np.float32), 1.0)
    assert r32.modes.dtype == jnp.float32 and r32.centers.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(r32.modes), np.asarray(r64.modes), atol=1e-4)
    assert adjusted_rand_score(np.asarray(r64.labels), np.asarray(r32.labels)) == 1.0


def test_permuting_the_points_permutes_the_answer():
    X, _ = separated_blobs(8, n=400)
    perm = np.random.default_rng(0).permutation(len(X))
    a = jaxshift.grid_mean_shift(X, 1.0)
    b = jaxshift.grid_mean_shift(X[perm], 1.0)
    np.testing.assert_allclose(np.asarray(b.modes), np.asarray(a.modes)[perm], atol=1e-9)
    np.testing.assert_array_equal(np.asarray(b.labels), np.asarray(a.labels)[perm])
    np.testing.assert_allclose(np.asarray(b.centers), np.asarray(a.centers), atol=1e-9)


def test_result_is_finite_and_consistent():
    X, _ = separated_blobs(9, n=400, std=2.0)
    result = jaxshift.grid_mean_shift(X, 0.8)
    k = int(result.n_clusters)
    labels = np.asarray(result.labels)
    assert np.all(np.isfinite(np.asarray(result.modes)))
    assert np.all(np.isfinite(np.asarray(result.centers)))
    assert labels.min() == 0 and labels.max() == k - 1
    sizes = np.asarray(result.cluster_sizes)
    np.testing.assert_array_equal(sizes[:k], np.bincount(labels, minlength=k))
    assert sizes[k:].sum() == 0 and np.all(np.asarray(result.centers[k:]) == 0)
    # clusters are ordered by size, the largest first
    assert np.all(np.diff(sizes[:k]) <= 0)
    # every point ends on its cluster's centre
    np.testing.assert_allclose(np.asarray(result.modes), np.asarray(result.centers)[labels], atol=1e-9)


def test_per_dimension_cell_sides_equal_rescaling():
    X, _ = separated_blobs(11, n=400)
    scale = np.array([1.0, 5.0])
    a = jaxshift.grid_mean_shift(X * scale, scale)
    b = jaxshift.grid_mean_shift(X, 1.0)
    np.testing.assert_allclose(np.asarray(a.modes) / scale, np.asarray(b.modes), atol=1e-9)
    np.testing.assert_array_equal(np.asarray(a.labels), np.asarray(b.labels))


def test_stopping_early_reports_unconverged_points():
    X, _ = separated_blobs(13, n=400)
    result = jaxshift.grid_mean_shift(X, 1.0, max_iter=1)
    assert int(result.n_iter) == 1
    assert not bool(result.all_converged)
    assert np.all(np.asarray(result.labels) >= 0)


def test_max_clusters_truncates_centres_but_counts_them_all():
    X, _ = separated_blobs(14, n=400)
    full = jaxshift.grid_mean_shift(X, 1.0)
    short = jaxshift.grid_mean_shift(X, 1.0, max_clusters=2)
    assert short.centers.shape == (2, 2)
    assert int(short.n_clusters) == int(full.n_clusters) > 2
    np.testing.assert_allclose(np.asarray(short.centers), np.asarray(full.centers[:2]))


def test_a_grid_too_large_for_the_keys():
    X = np.array([[0.0, 0.0], [1e12, 1e12]])
    with pytest.raises(ValueError, match="bandwidth: .* cells"):
        jaxshift.grid_mean_shift(X, 1e-3)
    # under jit the overflow is reported in the result instead
    result = jax.jit(lambda data: jaxshift.grid_mean_shift(data, 1e-3))(X)
    assert int(result.n_clusters) == 0
    assert np.all(np.asarray(result.labels) == -1)


def touching_blobs(side, seed, n=3000):
    # four N(c, I) blobs side standard deviations apart, which the grid's blurring merges or cuts
    return make_blobs(n_samples=n, centers=side * np.array([[0, 0], [1, 0], [0, 1], [1, 1]]), random_state=seed)


@pytest.mark.parametrize("kernel, h, side", [("gaussian", 1.0, 3.0), ("flat", 1.8, 3.5)])
def test_refined_is_exact_mean_shift_from_bin_seeds_on_touching_blobs(kernel, h, side):
    X, _ = touching_blobs(side, seed=4)
    exact = jaxshift.mean_shift(X, h, kernel=kernel, seeds=jaxshift.bin_seeds(X, 1.0), labels="nearest")
    plain = jaxshift.grid_mean_shift(X, 1.0)
    refined = jaxshift.grid_mean_shift(X, 1.0, refine=True, kernel=kernel, refine_bandwidth=h)
    k = int(exact.n_clusters)
    assert int(refined.n_clusters) == k >= 3  # the plain grid: 1 cluster at side 3, a different boundary at 3.5
    labels = np.asarray(refined.labels)
    plain_ari = adjusted_rand_score(np.asarray(exact.labels), np.asarray(plain.labels))
    assert adjusted_rand_score(np.asarray(exact.labels), labels) >= 0.99 > plain_ari + 0.05
    gaps = np.linalg.norm(np.asarray(exact.centers[:k])[:, None] - np.asarray(refined.centers[:k])[None], axis=-1)
    assert np.all(gaps.min(axis=1) < 0.05 * h)  # the same modes, each where its climb stopped (tol)
    np.testing.assert_array_equal(np.asarray(refined.cluster_sizes[:k]), np.bincount(labels, minlength=k))
    np.testing.assert_array_equal(np.asarray(refined.modes), np.asarray(refined.centers)[labels])
    assert bool(refined.all_converged) and int(refined.n_iter) > 0
    if kernel == "gaussian":
        with pytest.raises(ValueError, match="refine: needs concrete data"):
            jax.jit(lambda data: jaxshift.grid_mean_shift(data, 1.0, refine=True))(X)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"data": np.zeros((5, grid.MAX_DIM + 1))}, "data: grid mean shift .* at most 6"),
        ({"data": [[0.0, 1.0], [np.nan, 2.0]]}, "data: row 1 is not finite"),
        ({"data": np.zeros((0, 2))}, "data: is empty"),
        ({"data": np.zeros(5)}, "data: expected a 2-D array"),
        ({"bandwidth": 0.0}, "bandwidth: must be finite and > 0"),
        ({"bandwidth": [1.0, 2.0, 3.0]}, r"bandwidth: expected a scalar or shape \(2,\)"),
        ({"max_iter": 0}, "max_iter: must be an integer >= 1"),
        ({"tol": -1.0}, "tol: must be a finite number >= 0"),
        ({"merge_radius": np.nan}, "merge_radius: must be a finite number >= 0"),
        ({"max_clusters": 0}, "max_clusters: must be an integer >= 1"),
        ({"refine": "yes"}, "refine: expected True or False"),
        ({"kernel": "flat"}, r"kernel: only used by the exact finish \(refine=True\)"),
        ({"refine": True, "refine_bandwidth": -1.0}, "refine_bandwidth: must be finite and > 0"),
        ({"refine": True, "kernel": "cosine"}, "kernel: unknown kernel"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    args = {"data": np.arange(10.0).reshape(5, 2), "bandwidth": 1.0, **kwargs}
    data, bandwidth = args.pop("data"), args.pop("bandwidth")
    with pytest.raises(ValueError, match=match):
        jaxshift.grid_mean_shift(data, bandwidth, **args)
