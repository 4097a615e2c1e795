import jax
import numpy as np
import pytest
from jax.experimental import checkify

import jaxshift
from jaxshift import checking

X = np.random.default_rng(1).normal(size=(20, 2))
NAN_ROW = X.copy()
NAN_ROW[7, 1] = np.nan


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: jax.jit(checking.mean_shift)(X, -1.0), r"bandwidth: must be finite and > 0 \(smallest entry -1.0\)"),
        (lambda: jax.jit(checking.mean_shift)(X, np.nan), "bandwidth: must be finite and > 0"),
        (lambda: jax.jit(checking.mean_shift)(X, np.array([1.0, 0.0])), "bandwidth: must be finite and > 0"),
        (lambda: jax.jit(checking.mean_shift)(NAN_ROW, 1.0), "data: row 7 is not finite"),
        (lambda: jax.jit(lambda s: checking.mean_shift(X, 1.0, seeds=s))(NAN_ROW[5:]), "seeds: row 2 is not finite"),
        (
            lambda: jax.jit(lambda w: checking.mean_shift(X, 1.0, weights=w))(-np.ones(20)),
            "weights: entry 0 is negative",
        ),
        (lambda: jax.jit(lambda w: checking.mean_shift(X, 1.0, weights=w))(np.zeros(20)), "weights: all zero"),
        (
            lambda: jax.jit(lambda h: checking.mean_shift(X, h, max_iter=1, require_convergence=True))(1.0),
            "max_iter: 20 seeds did not converge",
        ),
        (lambda: jax.jit(checking.log_density)(X, NAN_ROW, 1.0), "data: row 7 is not finite"),
        (lambda: jax.jit(checking.log_density)(NAN_ROW, X, 1.0), "points: row 7 is not finite"),
        (
            lambda: jax.jit(checking.log_density)(X, X, np.array([[1.0, 2.0], [2.0, 1.0]])),
            "bandwidth: the matrix must be positive-definite",
        ),
        (lambda: jax.jit(checking.select_bandwidth)(NAN_ROW), "data: row 7 is not finite"),
        (
            lambda: jax.jit(lambda x: checking.select_bandwidth(x, max_iter=1, require_convergence=True))(X),
            "max_iter: the optimiser did not converge in 1 steps",
        ),
    ],
)
def test_traced_values_become_errors_under_jit(call, message):
    error, _ = call()
    assert error.get() is not None
    with pytest.raises(checkify.JaxRuntimeError, match=message):
        error.throw()


def test_good_input_gives_no_error_and_the_plain_result():
    error, result = jax.jit(checking.mean_shift)(X, 1.0)
    assert error.get() is None
    plain = jaxshift.mean_shift(X, 1.0)
    np.testing.assert_array_equal(result.labels, plain.labels)
    np.testing.assert_allclose(result.centers, plain.centers)
    error, log_f = jax.jit(lambda p, x: checking.log_density(p, x, 1.0, kernel="flat"))(X + 100.0, X)
    assert error.get() is None  # -inf outside a compact kernel's support is an answer, not an error
    assert np.all(np.asarray(log_f) == -np.inf)
    error, chosen = checking.select_bandwidth(X, form="diagonal")
    assert error.get() is None
    np.testing.assert_allclose(chosen.bandwidth, jaxshift.select_bandwidth(X, form="diagonal").bandwidth)


def test_named_bandwidth_and_static_options():
    error, result = jax.jit(lambda x: checking.mean_shift(x, "scott", kernel="flat", labels="nearest"))(X)
    assert error.get() is None and float(result.bandwidth) > 0


def test_vmapped_checks_name_the_failing_case():
    error, _ = jax.jit(jax.vmap(lambda h: checking.mean_shift(X, h)))(np.array([1.0, -2.0, 0.5]))
    with pytest.raises(checkify.JaxRuntimeError, match="bandwidth: must be finite and > 0"):
        error.throw()


def test_eager_bad_values_still_raise_value_error():
    # outside jit the values are concrete and the plain boundary checks raise, as without this module
    with pytest.raises(ValueError, match="data: row 7 is not finite"):
        checking.mean_shift(NAN_ROW, 1.0)
    error, _ = checking.mean_shift(X, 1.0, max_iter=1, require_convergence=True)
    with pytest.raises(checkify.JaxRuntimeError, match="max_iter: 20 seeds did not converge"):
        error.throw()
