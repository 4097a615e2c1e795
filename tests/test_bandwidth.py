import jax
import numpy as np
import optax
import pytest
from scipy.stats import gaussian_kde
from sklearn.cluster import estimate_bandwidth

import jaxshift
from jaxshift import kde


def mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    parts = [rng.normal([0, 0], [1, 0.5], (n // 3, 2)), rng.normal([3, 2], [0.5, 1], (n // 3, 2))]
    parts.append(rng.normal([-2, 3], [0.7, 0.7], (n - 2 * (n // 3), 2)))
    return np.vstack(parts)


X = mixture(300)


@pytest.mark.parametrize("rule", ["scott", "silverman"])
def test_full_rules_match_scipy(rule):
    weights = np.random.default_rng(1).uniform(0.5, 2, len(X))
    for w in (None, weights):
        expected = gaussian_kde(X.T, bw_method=rule, weights=w).covariance
        np.testing.assert_allclose(np.asarray(jaxshift.rule_of_thumb(X, rule, form="full", weights=w)), expected,
                                   rtol=1e-10)  # fmt: skip


def test_rule_forms_are_consistent():
    full = np.asarray(jaxshift.rule_of_thumb(X, "silverman", form="full"))
    diagonal = np.asarray(jaxshift.rule_of_thumb(X, "silverman", form="diagonal"))
    scalar = float(jaxshift.rule_of_thumb(X, "silverman"))
    np.testing.assert_allclose(diagonal**2, np.diag(full), rtol=1e-12)
    np.testing.assert_allclose(scalar**2, np.mean(np.diag(full)), rtol=1e-12)


def test_normal_scale_gradient_rule_is_ks_hns_with_derivative_order_one():
    n, d = X.shape
    expected = (4.0 / (n * (d + 4))) ** (2.0 / (d + 6)) * np.cov(X, rowvar=False)
    np.testing.assert_allclose(np.asarray(jaxshift.rule_of_thumb(X, "normal_gradient", form="full")), expected,
                               rtol=1e-10)  # fmt: skip
    # larger than the density-optimal normal rule, which shrinks faster with n
    assert float(jaxshift.rule_of_thumb(X, "normal_gradient")) > float(jaxshift.rule_of_thumb(X, "silverman"))


@pytest.mark.parametrize("quantile", [0.1, 0.3, 0.5])
def test_quantile_rule_matches_scikit_learn(quantile):
    np.testing.assert_allclose(float(jaxshift.quantile_bandwidth(X, quantile)), estimate_bandwidth(X, quantile=quantile),
                               rtol=1e-10)  # fmt: skip


@pytest.mark.filterwarnings("ignore::FutureWarning")  # statsmodels' own, about numpy's random defaults
def test_diagonal_optimum_matches_statsmodels_cv_ml():
    from statsmodels.nonparametric.kernel_density import KDEMultivariate

    with np.errstate(all="ignore"):
        reference = KDEMultivariate(X, var_type="cc", bw="cv_ml").bw
    result = jaxshift.select_bandwidth(X, form="diagonal")
    assert bool(result.converged)
    np.testing.assert_allclose(np.asarray(result.bandwidth), reference, rtol=0.02)


@pytest.mark.parametrize("form", ["scalar", "diagonal", "full"])
def test_selected_bandwidth_is_a_maximum(form):
    result = jaxshift.select_bandwidth(X, form=form)
    assert bool(result.converged) and int(result.n_steps) < 100
    best = float(kde.loo_log_likelihood(X, result.bandwidth))
    np.testing.assert_allclose(float(result.objective), best, rtol=1e-12)
    for factor in (0.9, 1.1):
        assert float(kde.loo_log_likelihood(X, np.asarray(result.bandwidth) * factor)) < best


def test_selection_works_under_jit_and_vmap():
    batch = np.stack([mixture(150, seed) for seed in range(3)])
    swept = jax.vmap(lambda data: jaxshift.select_bandwidth(data, form="diagonal"))(batch)
    jitted = jax.jit(lambda data: jaxshift.select_bandwidth(data, form="diagonal"))
    for i in range(3):
        single = jaxshift.select_bandwidth(batch[i], form="diagonal")
        np.testing.assert_allclose(np.asarray(swept.bandwidth[i]), np.asarray(single.bandwidth), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(jitted(batch[i]).bandwidth), np.asarray(single.bandwidth), rtol=1e-6)


def test_any_optax_optimiser_can_be_swapped_in():
    lbfgs = jaxshift.select_bandwidth(X)
    adam = jaxshift.select_bandwidth(X, optimizer=optax.adam(0.05), max_steps=1000, tol=1e-5)
    assert bool(adam.converged)
    np.testing.assert_allclose(float(adam.bandwidth), float(lbfgs.bandwidth), rtol=1e-3)


def test_kfold_and_minibatch_objectives():
    kfold = jaxshift.select_bandwidth(X, objective="kfold", n_folds=5)
    minibatch = jaxshift.select_bandwidth(X, objective="minibatch", batch_size=200, key=jax.random.key(1))
    loo = jaxshift.select_bandwidth(X)
    for other in (kfold, minibatch):
        assert bool(other.converged)
        np.testing.assert_allclose(float(other.bandwidth), float(loo.bandwidth), rtol=0.2)


def test_weights_equal_to_counts_replace_duplicates():
    counts = np.random.default_rng(2).integers(1, 4, len(X))
    result = jaxshift.select_bandwidth(X, weights=counts)
    assert bool(result.converged) and np.isfinite(float(result.objective))


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (X[:1], {}, "data: needs at least 2 points"),
        (np.vstack([X, X[5:6]]), {}, "data: has exact duplicates .row 5 occurs 2 times"),
        (np.column_stack([X[:, 0], np.ones(len(X))]), {}, "data: column 1 is constant"),
        (np.column_stack([X[:, 0], 2 * X[:, 0]]), {"form": "full"}, "data: is rank-deficient"),
        (X, {"form": "matrix"}, "form: expected one of 'scalar', 'diagonal', 'full'"),
        (X, {"objective": "aic"}, "objective: expected one of 'loo', 'kfold', 'minibatch'"),
        (X, {"init": "magic"}, "init: expected one of 'scott'"),
        (X, {"init": np.ones(2), "form": "scalar"}, "init: has the diagonal form but form='scalar'"),
        (X, {"max_steps": 0}, "max_steps: must be an integer >= 1"),
    ],
)
def test_bad_input_gets_a_clear_error(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        jaxshift.select_bandwidth(data, **kwargs)
