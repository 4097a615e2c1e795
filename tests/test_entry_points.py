"""Every public entry point rejects bad input before tracing, with a ValueError naming the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxshift
from jaxshift import kde
from jaxshift import sklearn as js

X = np.random.default_rng(0).normal(size=(12, 2))
KEY = jax.random.key(0)

ENTRY_POINTS = {
    "mean_shift": lambda data=X, h=1.0, **kw: jaxshift.mean_shift(data, h, **kw),
    "blurring_mean_shift": lambda data=X, h=1.0, **kw: jaxshift.blurring_mean_shift(data, h, **kw),
    "kernel_sums": lambda data=X, h=1.0, **kw: jaxshift.kernel_sums(X[:3], data, h, kernel="gaussian", **kw),
    "log_density": lambda data=X, h=1.0, **kw: kde.log_density(X[:3], data, h, **kw),
    "loo_log_likelihood": lambda data=X, h=1.0, **kw: kde.loo_log_likelihood(data, h, **kw),
    "kfold_log_likelihood": lambda data=X, h=1.0, **kw: kde.kfold_log_likelihood(data, h, **kw),
    "heldout_log_likelihood": lambda data=X, h=1.0, **kw: kde.heldout_log_likelihood(X[:3], data, h, **kw),
    "minibatch_loo_log_likelihood": lambda data=X, h=1.0, **kw: kde.minibatch_loo_log_likelihood(
        data, h, KEY, batch_size=4, **kw
    ),
    "grid_mean_shift": lambda data=X, h=1.0, **kw: jaxshift.grid_mean_shift(data, h, **kw),
}
# entry points without a bandwidth argument
DATA_ONLY = {
    "select_bandwidth": lambda data=X, **kw: jaxshift.select_bandwidth(data, max_iter=2, **kw),
    "rule_of_thumb": lambda data=X, **kw: jaxshift.rule_of_thumb(data, **kw),
    "quantile_bandwidth": lambda data=X, **kw: jaxshift.quantile_bandwidth(data, **kw),
    "clustering_bandwidth": lambda data=X, **kw: jaxshift.clustering_bandwidth(data, **kw),
    "bandwidth_sweep": lambda data=X, **kw: jaxshift.bandwidth_sweep(data, [0.5, 1.0], clusters=False, **kw),
    "bin_seeds": lambda data=X, **kw: jaxshift.bin_seeds(data, 1.0, **kw),
}

BAD_DATA = [
    (np.array([[0.0, 1.0], [1.0, 2.0], [np.nan, 1.0]]), r"data: row 2 is not finite \(\[nan, 1.0\]\)"),
    (np.array([[0.0, 1.0], [-np.inf, 2.0]]), "data: row 1 is not finite"),
    (np.zeros((0, 2)), r"data: is empty \(shape \(0, 2\)\)"),
    (np.zeros((3, 0)), "data: is empty"),
    (np.zeros(5), r"data: expected a 2-D array .* got shape \(5,\)"),
    (np.zeros((2, 2, 2)), r"data: expected a 2-D array .* got shape \(2, 2, 2\)"),
    (3.0, "data: expected a 2-D array"),
    (None, "data: expected a 2-D array"),
    (np.array([["a", "b"], ["c", "d"]]), "data: must be real numbers, got dtype <U1"),
    (np.array([[1 + 1j, 2], [3, 4]]), "data: must be real numbers, got dtype complex128"),
    (np.array([[1, None], [2, 3]], dtype=object), "data: must be real numbers, got dtype object"),
    ([[1.0, 2.0], [3.0]], "data: cannot be read as a 2-D array"),
]


def _entries():
    return [(name, fn) for name, fn in {**ENTRY_POINTS, **DATA_ONLY}.items()]


@pytest.mark.parametrize(("data", "message"), BAD_DATA, ids=lambda x: None)
@pytest.mark.parametrize("entry", list({**ENTRY_POINTS, **DATA_ONLY}))
def test_bad_data_is_rejected_everywhere(entry, data, message):
    fn = {**ENTRY_POINTS, **DATA_ONLY}[entry]
    with pytest.raises(ValueError, match=message):
        fn(data=data)


BAD_BANDWIDTHS = [
    (0.0, "bandwidth: must be finite and > 0"),
    (-1.0, "bandwidth: must be finite and > 0"),
    (np.nan, "bandwidth: must be finite and > 0"),
    (np.inf, "bandwidth: must be finite and > 0"),
    (np.array([1.0, -1.0]), "bandwidth: must be finite and > 0"),
    (np.ones(3), r"bandwidth: expected a scalar or shape \(2,\)"),
    (np.ones((2, 2, 2)), r"bandwidth: expected a scalar or shape \(2,\)"),
    (1 + 1j, "bandwidth: must be real numbers, got dtype complex128"),
    (True, "bandwidth: must be real numbers, got dtype bool"),
    (None, "bandwidth: expected a positive number"),
    ([[1.0], [2.0, 3.0]], "bandwidth: cannot be read"),
]
MATRIX_BANDWIDTHS = [
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "bandwidth: the matrix must be positive-definite"),
    (np.array([[1.0, 0.5], [0.0, 1.0]]), "bandwidth: the matrix must be symmetric"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "bandwidth: the matrix must be finite"),
]


@pytest.mark.parametrize(("h", "message"), BAD_BANDWIDTHS, ids=lambda x: None)
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_bad_bandwidth_is_rejected_everywhere(entry, h, message):
    with pytest.raises(ValueError, match=message):
        ENTRY_POINTS[entry](h=h)


@pytest.mark.parametrize(("h", "message"), MATRIX_BANDWIDTHS, ids=lambda x: None)
@pytest.mark.parametrize("entry", ["log_density", "loo_log_likelihood", "heldout_log_likelihood", "mean_shift"])
def test_bad_bandwidth_matrix(entry, h, message):
    with pytest.raises(ValueError, match=message):
        ENTRY_POINTS[entry](h=h)


@pytest.mark.parametrize("entry", ["blurring_mean_shift", "grid_mean_shift"])
def test_matrix_bandwidth_is_for_mean_shift_and_the_density_only(entry):
    with pytest.raises(ValueError, match=r"bandwidth: expected a scalar or shape \(2,\), got shape \(2, 2\)"):
        ENTRY_POINTS[entry](h=np.eye(2))


BAD_WEIGHTS = [
    (-np.ones(12), "weights: entry 0 is negative"),
    (np.zeros(12), "weights: all zero"),
    (np.ones(5), r"weights: expected shape \(12,\)"),
    (np.ones((12, 1)), r"weights: expected shape \(12,\)"),
    (np.r_[1.0, np.nan, np.ones(10)], "weights: entry 1 is not finite"),
    (np.array(["a"] * 12), "weights: must be real numbers"),
    (np.ones(12) + 1j, "weights: must be real numbers"),
]


@pytest.mark.parametrize(("w", "message"), BAD_WEIGHTS, ids=lambda x: None)
@pytest.mark.parametrize(
    "entry", ["mean_shift", "kernel_sums", "log_density", "loo_log_likelihood", "select_bandwidth", "rule_of_thumb"]
)
def test_bad_weights_are_rejected_everywhere(entry, w, message):
    fn = {**ENTRY_POINTS, **DATA_ONLY}[entry]
    with pytest.raises(ValueError, match=message):
        fn(weights=w)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: jaxshift.mean_shift(X, 1.0, seeds=np.zeros((2, 3))), "seeds: has 3 columns but the data has 2"),
        (lambda: kde.log_density(np.zeros((2, 3)), X, 1.0), "points: has 3 columns but the data has 2"),
        (lambda: kde.heldout_log_likelihood(np.zeros((2, 1)), X, 1.0), "points: has 1 columns"),
        (lambda: jaxshift.kernel_sums(np.zeros((2, 3)), X, 1.0, kernel="flat"), "queries: has 3 columns"),
        (lambda: js.MeanShift(bandwidth=1.0, seeds=np.zeros((2, 3))).fit(X), "seeds: have 3 features but X has 2"),
        (lambda: jaxshift.mean_shift(X, 1.0, max_iter=0), "max_iter: must be an integer >= 1, got 0"),
        (lambda: jaxshift.mean_shift(X, 1.0, max_iter=None), "max_iter: must be an integer >= 1, got None"),
        (lambda: jaxshift.mean_shift(X, 1.0, max_iter=np.nan), "max_iter: must be an integer >= 1, got nan"),
        (lambda: jaxshift.blurring_mean_shift(X, 1.0, max_iter=-1), "max_iter: must be an integer >= 1"),
        (lambda: jaxshift.select_bandwidth(X, max_iter=0), "max_iter: must be an integer >= 1"),
        (lambda: js.MeanShift(max_iter=-1).fit(X), "max_iter: must be an integer >= 0"),
        (lambda: jaxshift.mean_shift(X, 1.0, tol=-1e-3), "tol: must be a finite number >= 0"),
        (lambda: jaxshift.mean_shift(X, 1.0, tol="small"), "tol: must be a finite number >= 0, got 'small'"),
        (lambda: jaxshift.mean_shift(X, 1.0, tol=None), "tol: must be a finite number >= 0, got None"),
        (lambda: jaxshift.select_bandwidth(X, tol=np.inf), "tol: must be a finite number >= 0"),
        (lambda: jaxshift.blurring_mean_shift(X, 1.0, tol=-1.0), "tol: must be a finite number >= 0"),
        (lambda: jaxshift.mean_shift(X, 1.0, merge_radius=np.nan), "merge_radius: must be a finite number"),
        (lambda: jaxshift.mean_shift(X, 1.0, query_block=0), "query_block: must be an integer >= 1"),
        (lambda: kde.log_density(X, X, 1.0, data_block=2.5), "data_block: must be an integer >= 1"),
        (lambda: kde.kfold_log_likelihood(X, 1.0, n_folds=1), "n_folds: must be an integer >= 2"),
        (lambda: kde.minibatch_loo_log_likelihood(X, 1.0, None), "key: expected a JAX random key"),
        (lambda: kde.minibatch_loo_log_likelihood(X, 1.0, 3), "key: expected a JAX random key"),
        (lambda: jaxshift.select_bandwidth(X, key=7), "key: expected a JAX random key"),
        (lambda: jaxshift.quantile_bandwidth(X, 0), r"quantile: must be a number in \(0, 1\]"),
        (lambda: jaxshift.quantile_bandwidth(X, "a"), r"quantile: must be a number in \(0, 1\]"),
        (lambda: jaxshift.clustering_bandwidth(X, n_candidates=0), "n_candidates: must be an integer >= 2"),
        (lambda: jaxshift.clustering_bandwidth(X, max_points=0), "max_points: must be an integer >= 2"),
        (lambda: jaxshift.clustering_bandwidth(np.ones((5, 2))), "data: every column is constant"),
        (lambda: jaxshift.rule_of_thumb(np.ones((5, 2))), "data: every column is constant"),
        (lambda: jaxshift.rule_of_thumb(np.c_[X[:, 0], np.ones(12)], form="diagonal"), "data: column 1 is constant"),
        (lambda: jaxshift.mean_shift(np.ones((5, 2)), "scott"), "data: every column is constant"),
        (lambda: jaxshift.bandwidth_sweep(X, []), "bandwidths: expected a non-empty 1-D array"),
        (lambda: jaxshift.bandwidth_sweep(X, [1.0, 0.0]), "bandwidths: must all be finite and > 0"),
        (lambda: jaxshift.bandwidth_sweep(X, [1 + 1j]), "bandwidths: must be real numbers"),
        (lambda: jaxshift.bandwidth_sweep(X, None), "bandwidths: expected a 1-D array"),
        (lambda: jaxshift.bin_seeds(X, -1.0), "bin_size: must be a finite number >= 0"),
        (lambda: jaxshift.bin_seeds(X, 1.0, 0), "min_bin_freq: must be an integer >= 1"),
        (lambda: jaxshift.kernel_sums(X, X, 1.0, kernel="gaussian", profile="pdf"), "profile: expected one of"),
        (
            lambda: jaxshift.kernel_sums(X, X, 1.0, kernel="gaussian", query_groups=np.arange(12)),
            "query_groups and data_groups: give both or neither",
        ),
        (
            lambda: jaxshift.kernel_sums(X, X, 1.0, kernel="gaussian", query_groups=np.arange(3), data_groups=[0] * 12),
            r"query_groups: expected an integer array of shape \(12,\)",
        ),
        (lambda: js.MeanShift(bandwidth=np.ones(2)).fit(X), "bandwidth: must be None, a name or a finite number > 0"),
        (lambda: js.MeanShift(bandwidth=1j).fit(X), "bandwidth: must be None, a name or a finite number > 0"),
        (lambda: js.MeanShift(bandwidth=np.nan).fit(X), "bandwidth: must be None, a name or a finite number > 0"),
        (lambda: js.MeanShift(min_bin_freq=0).fit(X), "min_bin_freq: must be an integer >= 1"),
        (lambda: js.MeanShift(bandwidth=0.1, bin_seeding=True, min_bin_freq=50).fit(X), "No point was within"),
        (lambda: js.MeanShift().fit(np.r_[X, [[np.nan, 0.0]]]), r"X: row 12 is not finite .* contains NaN"),
        (lambda: js.MeanShift(bandwidth=1.0, seeds=[[0.0, np.inf]]).fit(X), "seeds: row 0 is not finite"),
        (lambda: js.MeanShift(bandwidth=1.0).fit(X).predict([[np.inf, 0]]), "X: row 0 is not finite"),
        (lambda: js.estimate_bandwidth(X, quantile=0), r"quantile: must be a number in \(0, 1\]"),
        (lambda: js.estimate_bandwidth(np.r_[X, [[np.nan, 0.0]]]), "X: row 12 is not finite"),
        (lambda: js.get_bin_seeds(X, -1.0), "bin_size: must be a finite number >= 0"),
        (lambda: js.get_bin_seeds(X, np.inf), "bin_size: must be a finite number >= 0"),
        (lambda: js.get_bin_seeds(np.zeros(3), 1.0), "Expected 2D array"),
    ],
)
def test_bad_argument_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


KERNEL_CALLS = {
    "mean_shift": lambda k: jaxshift.mean_shift(X, 1.0, kernel=k),
    "blurring_mean_shift": lambda k: jaxshift.blurring_mean_shift(X, 1.0, kernel=k),
    "kernel_sums": lambda k: jaxshift.kernel_sums(X, X, 1.0, kernel=k),
    "log_density": lambda k: kde.log_density(X, X, 1.0, kernel=k),
    "bandwidth_sweep": lambda k: jaxshift.bandwidth_sweep(X, [1.0], kernel=k),
    "MeanShift": lambda k: js.MeanShift(kernel=k).fit(X),
}


@pytest.mark.parametrize("kernel", ["cosine", "Gaussian", None, 3])
@pytest.mark.parametrize("entry", list(KERNEL_CALLS))
def test_unknown_kernel_lists_the_valid_names(entry, kernel):
    with pytest.raises(ValueError, match=r"kernel: unknown kernel .*; expected one of gaussian, flat, epanechnikov"):
        KERNEL_CALLS[entry](kernel)


HALF_ENTRIES = [*ENTRY_POINTS, "select_bandwidth", "rule_of_thumb", "quantile_bandwidth"]
HALF_CASES = [(entry, np.float16) for entry in HALF_ENTRIES]
HALF_CASES += [(entry, jnp.bfloat16) for entry in ["mean_shift", "log_density", "loo_log_likelihood", "rule_of_thumb"]]


@pytest.mark.parametrize(("entry", "dtype"), HALF_CASES)
def test_half_precision_is_computed_in_float32_and_returned_in_its_dtype(entry, dtype):
    fn = {**ENTRY_POINTS, **DATA_ONLY}[entry]
    out = fn(data=X.astype(dtype))
    floats = [a for a in jax.tree.leaves(out) if jnp.issubdtype(a.dtype, jnp.floating)]
    assert floats and all(a.dtype == dtype for a in floats)
    assert all(np.all(np.isfinite(np.asarray(a, np.float32))) for a in floats)
    reference = jax.tree.leaves(fn(data=np.asarray(X.astype(dtype), np.float32)))
    for ours, ref in zip(jax.tree.leaves(out), reference, strict=True):
        if jnp.issubdtype(ref.dtype, jnp.floating):
            # the float32 answer on the same (rounded) data, rounded once to the input's precision
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref.astype(dtype)))


@pytest.mark.parametrize("entry", list(ENTRY_POINTS) + ["select_bandwidth", "rule_of_thumb", "quantile_bandwidth"])
def test_integer_data_and_nested_lists_are_accepted(entry):
    fn = {**ENTRY_POINTS, **DATA_ONLY}[entry]
    ints = np.round(X * 10).astype(np.int32)
    from_ints = jax.tree.leaves(fn(data=ints))
    from_lists = jax.tree.leaves(fn(data=ints.tolist()))
    from_floats = jax.tree.leaves(fn(data=ints.astype(float)))
    for a, b, c in zip(from_ints, from_lists, from_floats, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(c))
        np.testing.assert_array_equal(np.asarray(b), np.asarray(c))


def test_scikit_learn_takes_bfloat16_as_float32():
    centres = js.MeanShift(bandwidth=1.0).fit(X.astype(jnp.bfloat16)).cluster_centers_
    assert centres.dtype == np.float32
    assert np.isfinite(js.estimate_bandwidth(X.astype(jnp.bfloat16)))
