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
        np.testing.assert_allclose(
            np.asarray(jaxshift.rule_of_thumb(X, rule, form="full", weights=w)), expected, rtol=1e-10
        )


def test_rule_forms_are_consistent():
    full = np.asarray(jaxshift.rule_of_thumb(X, "silverman", form="full"))
    diagonal = np.asarray(jaxshift.rule_of_thumb(X, "silverman", form="diagonal"))
    scalar = float(jaxshift.rule_of_thumb(X, "silverman"))
    np.testing.assert_allclose(diagonal**2, np.diag(full), rtol=1e-12)
    np.testing.assert_allclose(scalar**2, np.mean(np.diag(full)), rtol=1e-12)


def test_normal_scale_gradient_rule_is_ks_hns_with_derivative_order_one():
    n, d = X.shape
    expected = (4.0 / (n * (d + 4))) ** (2.0 / (d + 6)) * np.cov(X, rowvar=False)
    np.testing.assert_allclose(
        np.asarray(jaxshift.rule_of_thumb(X, "normal_gradient", form="full")), expected, rtol=1e-10
    )
    # larger than the density-optimal normal rule, which shrinks faster with n
    assert float(jaxshift.rule_of_thumb(X, "normal_gradient")) > float(jaxshift.rule_of_thumb(X, "silverman"))


@pytest.mark.parametrize("quantile", [0.1, 0.3, 0.5])
def test_quantile_rule_matches_scikit_learn(quantile):
    expected = estimate_bandwidth(X, quantile=quantile)
    np.testing.assert_allclose(float(jaxshift.quantile_bandwidth(X, quantile)), expected, rtol=1e-10)


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
    assert bool(result.converged) and int(result.n_iter) < 100
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
    adam = jaxshift.select_bandwidth(X, optimizer=optax.adam(0.05), max_iter=1000, tol=1e-5)
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
        (X, {"max_iter": 0}, "max_iter: must be an integer >= 1"),
    ],
)
def test_bad_input_gets_a_clear_error(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        jaxshift.select_bandwidth(data, **kwargs)


def test_sweep_in_chunks_equals_one_bandwidth_at_a_time():
    from jaxshift import bandwidth_sweep

    hs = np.geomspace(0.3, 3.0, 7)
    sweep = bandwidth_sweep(X, hs, chunk_size=3)
    for i, h in enumerate(hs):
        np.testing.assert_allclose(float(sweep.loo_log_likelihood[i]), float(kde.loo_log_likelihood(X, h)), rtol=1e-10)
        assert int(sweep.n_clusters[i]) == int(jaxshift.mean_shift(X, h).n_clusters)
    assert np.all(np.diff(np.asarray(sweep.n_large_clusters)) <= 0)  # fewer clusters as h grows, here
    assert np.all(np.asarray(sweep.n_large_clusters) <= np.asarray(sweep.n_clusters))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([5, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1], (1, 4)),  # the 3-run is 4/5 as long as the 2-run: more clusters win
        ([4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1], (2, 7)),  # the 3-run is too short
        ([1, 1, 1, 1], None),  # no structure: the largest bandwidth
    ],
)
def test_stable_plateau(counts, expected):
    from jaxshift.density.clustering import stable_plateau as _stable_plateau

    hs = np.geomspace(0.1, 10.0, len(counts))
    chosen = float(_stable_plateau(hs, np.array(counts)))
    target = hs[-1] if expected is None else np.sqrt(hs[expected[0]] * hs[expected[1]])
    np.testing.assert_allclose(chosen, target, rtol=1e-12)


def test_canonical_scales_match_the_known_kernel_ratios():
    import math

    gaussian = jaxshift.get_kernel("gaussian").log_canonical_scale(1)
    for name, ratio in [("epanechnikov", 2.2138), ("flat", 2.2138), ("biweight", 2.6226)]:
        assert math.isclose(math.exp(jaxshift.get_kernel(name).log_canonical_scale(1) - gaussian), ratio, rel_tol=1e-4)


def test_auto_bandwidth_finds_the_tutorials_two_clusters(tutorial_data):
    result = jaxshift.mean_shift(tutorial_data, "auto")
    assert int(result.n_clusters) == 2
    np.testing.assert_array_equal(np.asarray(result.cluster_sizes[:2]), [100, 100])
    jitted = jax.jit(lambda data: jaxshift.mean_shift(data, "auto"))(tutorial_data)
    np.testing.assert_allclose(float(jitted.bandwidth), float(result.bandwidth), rtol=1e-5)
    flat = jaxshift.mean_shift(tutorial_data, "auto", kernel="flat")
    assert int(flat.n_clusters) == 2 and float(flat.bandwidth) > 2 * float(result.bandwidth)


def test_auto_on_a_subsample_is_rescaled_to_the_full_size(tutorial_data):
    from jaxshift import clustering_bandwidth

    full = float(clustering_bandwidth(tutorial_data, method="stability"))
    sub = float(clustering_bandwidth(tutorial_data, method="stability", max_points=100))
    assert 0.6 < sub / full < 1.6
    for method in ("normal_gradient", "loo"):
        assert 0 < float(clustering_bandwidth(tutorial_data, method=method)) < full
    # the default ("auto"'s bandwidth) is the gradient criterion's minimiser
    chosen = float(jaxshift.select_bandwidth(tutorial_data, objective="gradient_ucv").bandwidth)
    np.testing.assert_allclose(float(clustering_bandwidth(tutorial_data)), chosen, rtol=1e-5)


def test_selection_with_a_compact_kernel_finds_a_finite_maximum():
    data = np.random.default_rng(5).normal(size=(150, 2))
    chosen = jaxshift.select_bandwidth(data, kernel="epanechnikov")
    h = float(chosen.bandwidth)
    assert bool(chosen.converged) and np.isfinite(float(chosen.objective))
    for step in (0.98, 1.02):
        assert float(kde.loo_log_likelihood(data, h * step, kernel="epanechnikov")) < float(chosen.objective)
    # below the nearest-neighbour distances the likelihood is -inf, with a finite (zero) gradient
    value, grad = jax.value_and_grad(lambda h: kde.loo_log_likelihood(data, h, kernel="epanechnikov"))(0.01)
    assert value == -np.inf and np.isfinite(grad)


def test_selection_takes_traced_weights_and_a_callable_objective():
    data = np.random.default_rng(6).normal(size=(120, 2))
    weights = np.random.default_rng(7).uniform(0.5, 2.0, 120)
    traced = jax.jit(lambda w: jaxshift.select_bandwidth(data, weights=w).bandwidth)(weights)
    np.testing.assert_allclose(traced, jaxshift.select_bandwidth(data, weights=weights).bandwidth, rtol=1e-10)

    def heldout(data, h, weights):
        return kde.heldout_log_likelihood(data[:40], data[40:], h)

    chosen = jaxshift.select_bandwidth(data, objective=heldout)
    slope = jax.grad(lambda h: heldout(data, h, None))(chosen.bandwidth)
    assert bool(chosen.converged) and abs(float(slope)) < 1e-4
