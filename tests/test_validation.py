import jax
import numpy as np
import pytest

import jaxshift

X = np.random.default_rng(0).normal(size=(30, 2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": np.zeros((0, 2))}, "data: is empty"),
        ({"data": np.zeros(5)}, r"data: expected a 2-D array .* got shape \(5,\)"),
        ({"data": np.array([[1.0, 2.0], [np.nan, 0.0]])}, "data: row 1 is not finite"),
        ({"data": np.array([[1.0, np.inf]])}, "data: row 0 is not finite"),
        ({"data": np.array([["a", "b"]])}, "data: must be real numbers"),
        ({"data": np.array([[1 + 1j, 2]])}, "data: must be real numbers"),
        ({"data": [[1.0, 2.0], [3.0]]}, "data: cannot be read as a 2-D array"),
        ({"bandwidth": 0.0}, "bandwidth: must be finite and > 0"),
        ({"bandwidth": -1.0}, "bandwidth: must be finite and > 0"),
        ({"bandwidth": np.nan}, "bandwidth: must be finite and > 0"),
        ({"bandwidth": np.inf}, "bandwidth: must be finite and > 0"),
        ({"bandwidth": np.ones(3)}, r"bandwidth: expected a scalar or shape \(2,\)"),
        ({"bandwidth": "magic"}, "bandwidth: expected one of 'auto', 'scott'"),
        ({"seeds": np.zeros((4, 3))}, "seeds: has 3 columns but the data has 2"),
        ({"seeds": np.array([[0.0, np.nan]])}, "seeds: row 0 is not finite"),
        ({"weights": np.ones(29)}, r"weights: expected shape \(30,\)"),
        ({"weights": -np.ones(30)}, "weights: entry 0 is negative"),
        ({"weights": np.zeros(30)}, "weights: all zero"),
        ({"max_iter": 0}, "max_iter: must be an integer >= 1"),
        ({"max_iter": 2.5}, "max_iter: must be an integer >= 1"),
        ({"tol": -1e-3}, "tol: must be a finite number >= 0"),
        ({"kernel": "cosine"}, "kernel: unknown kernel 'cosine'"),
        ({"labels": "closest"}, "labels: expected one of 'basin', 'nearest'"),
        ({"labels": "basin", "seeds": X[:3]}, 'labels: "basin" needs every data point as a seed'),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    args = {"data": X, "bandwidth": 1.0} | kwargs
    data, bandwidth = args.pop("data"), args.pop("bandwidth")
    with pytest.raises(ValueError, match=message):
        jaxshift.mean_shift(data, bandwidth, **args)


def test_blurring_checks_its_input_too():
    with pytest.raises(ValueError, match="bandwidth: must be finite and > 0"):
        jaxshift.blurring_mean_shift(X, 0.0)
    with pytest.raises(ValueError, match="data: row 1 is not finite"):
        jaxshift.blurring_mean_shift(np.array([[0.0, 1.0], [np.nan, 1.0]]), 1.0)


def test_integer_data_and_nested_lists_are_accepted():
    points = [[0, 0], [0, 1], [1, 0], [10, 10], [10, 11]]
    result = jaxshift.mean_shift(points, 2)
    assert int(result.n_clusters) == 2
    assert np.issubdtype(result.centers.dtype, np.floating)


def test_half_precision_is_computed_in_float32_and_returned_in_float16():
    result = jaxshift.mean_shift(X.astype(np.float16), 1.0)
    assert result.modes.dtype == np.float16
    reference = jaxshift.mean_shift(X.astype(np.float16).astype(np.float32), 1.0)
    np.testing.assert_array_equal(result.modes, reference.modes.astype(np.float16))


def test_traced_values_are_not_checked_but_shapes_are():
    f = jax.jit(lambda h: jaxshift.mean_shift(X, h).n_clusters)
    assert int(f(1.0)) >= 1
    with pytest.raises(ValueError, match="bandwidth: expected a scalar or shape"):
        jax.jit(lambda h: jaxshift.mean_shift(X, h).n_clusters)(np.ones(3))


def test_a_spread_lost_to_the_float32_cast_is_named_as_such():
    rng = np.random.default_rng(0)
    far = rng.normal(size=(50, 2)) + 1e8  # float32 holds every 8th integer there: the columns collapse
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="column 0 varies in float64 .* constant once cast to float32"):
            jaxshift.mean_shift(far, 1.0)
        with pytest.raises(ValueError, match="varies in float64"):
            jaxshift.mean_shift(far, "auto")
        near = rng.normal(size=(50, 2)) + 1e4  # rounded by the cast, not collapsed: accepted
        assert int(jaxshift.mean_shift(near, 2.0).n_clusters) >= 1
    constant = np.ones((50, 2)) * 1e8  # constant already in float64: not the cast's doing
    with jax.enable_x64(False), pytest.raises(ValueError, match="every column is constant"):
        jaxshift.mean_shift(constant, "scott")
