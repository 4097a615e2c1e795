import jax
import numpy as np
import pytest
from references import NUMPY_DENSITIES
from scipy.special import logsumexp
from scipy.stats import gaussian_kde

from jaxshift import kde
from jaxshift.density import kde as density_kde
from jaxshift.kernels import KERNEL_NAMES, get_kernel

rng = np.random.default_rng(0)
DATA = rng.normal(size=(130, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 0.8, 0.2], [0.0, 0.0, 0.5]])
POINTS = rng.normal(size=(40, 3))
FULL = np.array([[0.5, 0.1, 0.05], [0.1, 0.4, -0.02], [0.05, -0.02, 0.3]])
BANDWIDTHS = {"scalar": 0.6, "diagonal": np.array([0.7, 0.5, 0.4]), "full": FULL}


def brute_log_density(points, data, H, name, weights=None):
    """Float64 NumPy: log( Σ w k((y-x)ᵀ H⁻¹ (y-x)) / (W c |H|^½) ) with H = h²I, diag(h²) or the matrix."""
    d = data.shape[1]
    H = np.asarray(H, float)
    H = H**2 * np.eye(d) if H.ndim == 0 else (np.diag(H**2) if H.ndim == 1 else H)
    w = np.ones(len(data)) if weights is None else weights
    diff = points[:, None, :] - data[None, :, :]
    r = np.einsum("mni,ij,mnj->mn", diff, np.linalg.inv(H), diff)
    log_c = get_kernel(name).log_normaliser(d)
    if name == "gaussian":  # log-sum-exp, so far-away points do not underflow to log(0)
        log_k = logsumexp(-0.5 * r, b=w[None, :], axis=1)
    else:
        with np.errstate(divide="ignore"):
            log_k = np.log(NUMPY_DENSITIES[name](r) @ w)
    return log_k - np.log(w.sum()) - log_c - 0.5 * np.linalg.slogdet(H)[1]


def test_full_matrix_matches_scipy_gaussian_kde():
    reference = gaussian_kde(DATA.T)
    ours = kde.log_density(POINTS, DATA, reference.covariance)
    np.testing.assert_allclose(np.asarray(ours), reference.logpdf(POINTS.T), rtol=1e-10)


def test_weighted_full_matrix_matches_scipy():
    weights = rng.uniform(0.2, 3.0, size=len(DATA))
    reference = gaussian_kde(DATA.T, weights=weights)
    ours = kde.log_density(POINTS, DATA, reference.covariance, weights=weights)
    np.testing.assert_allclose(np.asarray(ours), reference.logpdf(POINTS.T), rtol=1e-10)


@pytest.mark.parametrize("name", KERNEL_NAMES)
@pytest.mark.parametrize("form", list(BANDWIDTHS))
def test_every_form_and_kernel_matches_brute_force(name, form):
    H = BANDWIDTHS[form] * (3.0 if get_kernel(name).compact and form != "full" else 1.0)
    if form == "full" and get_kernel(name).compact:
        H = 9.0 * FULL
    ours = np.asarray(kde.log_density(POINTS, DATA, H, kernel=name, data_block=32))
    expected = brute_log_density(POINTS, DATA, H, name)
    assert not np.any(np.isnan(ours))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-10)


def test_compact_kernels_give_minus_infinity_outside_their_support_not_nan():
    out = np.asarray(kde.log_density(np.array([[100.0, 0, 0], [0.0, 0, 0]]), DATA, 0.5, kernel="epanechnikov"))
    assert out[0] == -np.inf and np.isfinite(out[1])


def test_density_integrates_to_one():
    X = rng.normal(size=(50, 1))
    grid = np.linspace(-8, 8, 4001)[:, None]
    for name in KERNEL_NAMES:
        density = np.exp(np.asarray(kde.log_density(grid, X, 0.7, kernel=name)))
        assert np.isclose(np.trapezoid(density, grid[:, 0]), 1.0, atol=2e-3), name


def loo_brute(data, H, weights=None):
    n = len(data)
    w = np.ones(n) if weights is None else weights
    values = []
    for i in range(n):
        keep = np.arange(n) != i
        values.append(brute_log_density(data[i : i + 1], data[keep], H, "gaussian", w[keep])[0])
    return np.sum(w * np.array(values)) / w.sum()


@pytest.mark.parametrize("form", list(BANDWIDTHS))
def test_leave_one_out_matches_brute_force(form):
    ours = kde.loo_log_likelihood(DATA, BANDWIDTHS[form], data_block=32)
    np.testing.assert_allclose(float(ours), loo_brute(DATA, BANDWIDTHS[form]), rtol=1e-10)


def test_weighted_leave_one_out_leaves_each_point_out_whole():
    weights = rng.integers(1, 4, size=len(DATA)).astype(float)
    ours = kde.loo_log_likelihood(DATA, 0.5, weights=weights)
    np.testing.assert_allclose(float(ours), loo_brute(DATA, 0.5, weights), rtol=1e-10)


def test_leave_one_out_is_finite_for_a_tiny_bandwidth():
    # every other point is hundreds of bandwidths away: a plain sum underflows to log(0)
    value = float(kde.loo_log_likelihood(DATA, 1e-3))
    assert np.isfinite(value)
    np.testing.assert_allclose(value, loo_brute(DATA, 1e-3), rtol=1e-8)


def test_kfold_and_heldout_match_brute_force():
    folds = np.arange(len(DATA)) % 4
    expected = np.mean(
        [brute_log_density(DATA[i : i + 1], DATA[folds != folds[i]], 0.5, "gaussian")[0] for i in range(len(DATA))]
    )
    np.testing.assert_allclose(float(kde.kfold_log_likelihood(DATA, 0.5, n_folds=4)), expected, rtol=1e-10)
    heldout = kde.heldout_log_likelihood(POINTS, DATA, BANDWIDTHS["diagonal"])
    np.testing.assert_allclose(
        float(heldout), brute_log_density(POINTS, DATA, BANDWIDTHS["diagonal"], "gaussian").mean(), rtol=1e-10
    )


def test_minibatch_estimate_is_the_loo_term_of_its_points():
    key = jax.random.key(3)
    estimate = float(kde.minibatch_loo_log_likelihood(DATA, 0.5, key, batch_size=500))
    full = float(kde.loo_log_likelihood(DATA, 0.5))
    assert abs(estimate - full) < 0.1 * abs(full)
    index = np.asarray(jax.random.randint(key, (500,), 0, len(DATA)))
    n = len(DATA)
    terms = [brute_log_density(DATA[i : i + 1], DATA[np.arange(n) != i], 0.5, "gaussian")[0] for i in index]
    np.testing.assert_allclose(estimate, np.mean(terms), rtol=1e-10)


@pytest.mark.parametrize("form", list(BANDWIDTHS))
def test_gradient_matches_central_finite_differences(form):
    from jaxshift.density.selection import from_params, to_params

    params = to_params(np.asarray(BANDWIDTHS[form]))

    @jax.jit
    def objective(p):
        return density_kde.loo_log_likelihood(DATA, from_params(p), None, kernel=get_kernel("gaussian"), data_block=32)

    grad = np.asarray(jax.jit(jax.grad(objective))(params))
    flat = np.asarray(params, float).ravel()
    eps = 1e-5
    numeric = np.zeros_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (objective(up.reshape(params.shape)) - objective(down.reshape(params.shape))) / (2 * eps)
    mask = np.tril(np.ones(params.shape)).ravel() > 0 if params.ndim == 2 else slice(None)
    np.testing.assert_allclose(grad.ravel()[mask], numeric[mask], rtol=1e-6, atol=1e-9)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="bandwidth: the matrix must be positive-definite"):
        kde.log_density(POINTS, DATA, -FULL)
    with pytest.raises(ValueError, match="bandwidth: the matrix must be symmetric"):
        kde.log_density(POINTS, DATA, FULL + np.triu(np.ones((3, 3)), 1))
    with pytest.raises(ValueError, match="points: has 2 columns but the data has 3"):
        kde.log_density(POINTS[:, :2], DATA, 0.5)
    with pytest.raises(ValueError, match="data: needs at least 2 points"):
        kde.loo_log_likelihood(DATA[:1], 0.5)
