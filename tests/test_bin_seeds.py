"""bin_seeds with one bin side per dimension, as mean_shift takes one bandwidth per dimension."""

import numpy as np
import pytest

import jaxshift

X = np.random.default_rng(0).normal(size=(300, 2)) * [1.0, 10.0]


def test_per_dimension_bin_size_equals_scaling_the_data():
    sizes = np.array([0.5, 5.0])
    seeds = jaxshift.bin_seeds(X, sizes, 2)
    scaled = jaxshift.bin_seeds(X / sizes, 1.0, 2) * sizes
    np.testing.assert_allclose(seeds, scaled)
    np.testing.assert_array_equal(jaxshift.bin_seeds(X, [1.0, 1.0], 2), jaxshift.bin_seeds(X, 1.0, 2))


def test_a_zero_side_leaves_its_dimension_unbinned():
    seeds = jaxshift.bin_seeds(np.round(X), [0.0, 100.0])
    assert set(seeds[:, 0]) <= set(np.round(X[:, 0]))


@pytest.mark.parametrize(
    "bin_size, match",
    [([1.0, -1.0], "bin_size: must be finite numbers >= 0"), ([1.0, 2.0, 3.0], r"bin_size: expected .* shape \(2,\)")],
)
def test_bad_per_dimension_bin_size_is_named(bin_size, match):
    with pytest.raises(ValueError, match=match):
        jaxshift.bin_seeds(X, bin_size)
