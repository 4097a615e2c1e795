"""A deterministic fuzz run: 1200 random, mostly odd or invalid, calls across the public entry points.

Each call must either return finite results (``-inf`` is allowed only where a compact kernel's
density is truly zero) or raise one of the documented exceptions (``ValueError`` or ``TypeError``)
with a message that names the offending argument (see ``docs/errors.md``). Shapes of valid data are
fixed (8 points in 2-D) so the valid calls reuse a few compiled programs; invalid ones fail before
tracing.
"""

import re
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import jaxshift
from jaxshift import cli, kde
from jaxshift import sklearn as js

N_CASES = 1200
KERNELS = ("gaussian", "flat", "epanechnikov", "biweight")
TWO = ("gaussian", "flat")
# scikit-learn's own input checks word their errors their way; these are the ones its functions use
SKLEARN_MESSAGES = (
    "Expected 2D array",
    "Found array with",
    "Complex data not supported",
    "could not convert",
    "setting an array element with a sequence",
    "dtype='numeric' is not compatible",
    "Input X contains",
    "Input contains",
    "No point was within bandwidth",
    "Unable to convert array of bytes/strings into decimal numbers",
    "is expecting",
)


def _valid_points(rng, dtype=np.float64):
    kind = rng.integers(6)
    scale = 10.0 ** rng.uniform(-6, 6)
    offset = rng.choice([0.0, 1.0, -1e3, 1e4]) if dtype == np.float32 else rng.choice([0.0, 1e4, -1e8, 1e15])
    X = rng.normal(size=(8, 2)) * scale + offset
    if kind == 1:  # exact duplicates
        X[4:] = X[:4]
    elif kind == 2:  # constant data
        X[:] = X[0]
    elif kind == 3:  # collinear
        X[:, 1] = 2 * X[:, 0]
    elif kind == 4:  # two groups farther apart than exp can represent, in bandwidths
        X[4:] += 1e3 * scale
    return X.astype(dtype), scale


def _odd_points(rng):
    cases = [
        lambda: np.array([[0.0, 1.0]] * 7 + [[np.nan, 1.0]]),
        lambda: np.r_[np.zeros((7, 2)), [[np.inf, -np.inf]]],
        lambda: np.zeros((0, 2)),
        lambda: np.zeros((8, 0)),
        lambda: np.zeros(8),
        lambda: np.zeros((2, 4, 2)),
        lambda: 1.5,
        lambda: None,
        lambda: "data.csv",
        lambda: np.array([["a", "b"]] * 8),
        lambda: np.ones((8, 2)) * (1 + 1j),
        lambda: np.array([[1, None]] * 8, dtype=object),
        lambda: [[1.0, 2.0], [3.0]],
        lambda: np.ones((8, 2), dtype="datetime64[D]"),
    ]
    return cases[rng.integers(len(cases))]()


def _points(rng, dtype=np.float64):
    """(data, scale, valid): valid data in one of a few dtypes/containers, or an odd value."""
    if rng.random() < 0.2:
        return _odd_points(rng), 1.0, False
    X, scale = _valid_points(rng, dtype)
    container = rng.integers(4)
    if container == 1 and dtype == np.float64:
        X = X.tolist()
    elif container == 2 and dtype == np.float64 and np.all(np.abs(X) < 1e9):
        X = np.round(X).astype(np.int64)
    return X, scale, True


def _bandwidth(rng, scale, *, matrix=False, vector=False):
    """A bandwidth: mostly a positive multiple of the data's scale (from a millionth to a thousand
    times), or an odd value."""
    if rng.random() < 0.8:
        h = float(scale * 10.0 ** rng.uniform(-6, 3))
        if matrix and rng.random() < 0.3:
            return np.array([[h * h, 0.3 * h * h], [0.3 * h * h, 2 * h * h]])
        return np.array([h, 2 * h]) if vector and rng.random() < 0.3 else h
    odd = [0.0, -1.0, np.nan, np.inf, -np.inf, np.ones(3), np.ones((2, 2, 2)), "wide", None, 1j, True]
    odd += [[[1.0], [2.0, 3.0]], np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[1.0, 0.5], [0.0, 1.0]])]
    return odd[rng.integers(len(odd))]


def _weights(rng):
    r = rng.random()
    if r < 0.75:
        return None
    if r < 0.9:
        return rng.integers(1, 4, size=8).astype(float)
    odd = [-np.ones(8), np.zeros(8), np.ones(5), np.r_[np.nan, np.ones(7)], np.ones((8, 1)), np.array(["w"] * 8)]
    return odd[rng.integers(len(odd))]


def _kernel(rng, kernels=KERNELS):
    # the clustering entry points draw from two kernels (one smooth, one compact) to compile less
    if rng.random() < 0.93:
        return kernels[rng.integers(len(kernels))]
    return ["cosine", "Gaussian", None, 3][rng.integers(4)]


def _count(rng):
    return 50 if rng.random() < 0.93 else [0, -1, 2.5, None, "3", np.nan][rng.integers(6)]


def _tol(rng):
    return 1e-3 if rng.random() < 0.93 else [-1e-3, np.nan, np.inf, "small", None, [1e-3, 1e-3]][rng.integers(6)]


def _case(rng, i):
    """(entry point name, callable, argument names, may return -inf)."""
    entries = [
        "mean_shift",
        "blurring_mean_shift",
        "kernel_sums",
        "log_density",
        "loo_log_likelihood",
        "rule_of_thumb",
        "quantile_bandwidth",
        "bin_seeds",
        "MeanShift",
        "estimate_bandwidth",
        "get_bin_seeds",
        "cli",
    ]
    # kernel_sums is not compiled as a whole (each eager call retraces its blockwise loop): fewer of it
    entry = entries[i % 12] if i % 24 != 2 else entries[i % 11 + 1 if i % 11 != 1 else 0]
    dtype = np.float32 if rng.random() < 0.3 else np.float64
    X, scale, _ = _points(rng, dtype)
    if entry == "mean_shift":
        h, k, w, it, tol = _bandwidth(rng, scale), _kernel(rng, TWO), _weights(rng), _count(rng), _tol(rng)
        return entry, lambda: jaxshift.mean_shift(X, h, kernel=k, weights=w, max_iter=it, tol=tol), False
    if entry == "blurring_mean_shift":
        h, k, it = _bandwidth(rng, scale), _kernel(rng, TWO), _count(rng)
        return entry, lambda: jaxshift.blurring_mean_shift(X, h, kernel=k, max_iter=it).modes, False
    if entry == "kernel_sums":
        h, k, w = _bandwidth(rng, scale, vector=True), _kernel(rng, TWO), _weights(rng)
        Y = X if rng.random() < 0.8 else _odd_points(rng)
        return entry, lambda: jaxshift.kernel_sums(Y, X, h, kernel=k, weights=w).moment, False
    if entry == "log_density":
        h, k, w = _bandwidth(rng, scale, matrix=True), _kernel(rng, TWO), _weights(rng)
        return entry, lambda: kde.log_density(X, X, h, kernel=k, weights=w), True
    if entry == "loo_log_likelihood":
        h, k, w = _bandwidth(rng, scale), _kernel(rng, TWO), _weights(rng)
        return entry, lambda: kde.loo_log_likelihood(X, h, kernel=k, weights=w), True
    if entry == "rule_of_thumb":
        rule = ["scott", "silverman", "normal_gradient", "bogus"][rng.integers(4)]
        form = ["scalar", "diagonal", "full", "round"][rng.integers(4)]
        return entry, lambda: jaxshift.rule_of_thumb(X, rule, form=form, weights=_weights(rng)), False
    if entry == "quantile_bandwidth":
        q = [0.3, 0.5, 1.0, 0, -0.1, 2.0, np.nan, "q"][rng.integers(8)]
        return entry, lambda: jaxshift.quantile_bandwidth(X, q), False
    if entry == "bin_seeds":
        size = [scale, 0.0, -1.0, np.nan, np.inf, "s"][rng.integers(6)]
        return entry, lambda: jaxshift.bin_seeds(X, size, [1, 2, 0, -1][rng.integers(4)]), False
    if entry == "MeanShift":
        h = [None, float(scale), float(scale), "scott", 0.0, -1.0, np.nan, np.ones(2), "wide", 1j][rng.integers(10)]
        params = {"bandwidth": h, "kernel": _kernel(rng, TWO), "max_iter": [300, 0, 5, -1, 2.5][rng.integers(5)]}
        return entry, lambda: js.MeanShift(**params).fit(X).cluster_centers_, False
    if entry == "estimate_bandwidth":
        q = [0.3, 1.0, 0.01, 0, 2.0, np.nan][rng.integers(6)]
        return entry, lambda: np.float64(js.estimate_bandwidth(X, quantile=q)), False
    if entry == "get_bin_seeds":
        size = [scale, 0.0, -1.0, np.nan, np.inf][rng.integers(5)]
        return entry, lambda: np.asarray(js.get_bin_seeds(X, size, [1, 2, 0][rng.integers(3)]), np.float64), False
    text = [f"{scale:g}", "auto", "0", "-1", "nan", "inf", "wide", "", "1e-300"][rng.integers(9)]
    return entry, lambda: np.float64(cli._bandwidth_arg(text)) if text != "auto" else np.float64(1.0), False


def _acceptable_error(err: Exception) -> bool:
    message = str(err)
    names = re.match(r"^(--)?[a-z_]+( and [a-z_]+)?: |^\w+: (row|column|every)|^[^:]+\.(csv|npy): ", message)
    return bool(names) or any(text in message for text in SKLEARN_MESSAGES)


def _finite(result, allow_minus_inf: bool) -> bool:
    import jax

    for leaf in jax.tree.leaves(result):
        a = np.asarray(leaf)
        if a.dtype.kind != "f" and a.dtype.name not in ("bfloat16",):
            continue
        a = np.asarray(a, np.float64)
        ok = ~np.isnan(a) & (a != np.inf) if allow_minus_inf else np.isfinite(a)
        if not np.all(ok):
            return False
    return True


def test_fuzz_random_odd_inputs():
    rng = np.random.default_rng(20261127)
    outcomes = {"result": 0, "error": 0}
    failures = []
    for i in range(N_CASES):
        entry, call, allow_minus_inf = _case(rng, i)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # documented: seeds stopped at max_iter
                warnings.filterwarnings("ignore", "Binning data failed", UserWarning)  # scikit-learn's, documented
                result = call()
        except (ValueError, TypeError) as err:
            outcomes["error"] += 1
            if not _acceptable_error(err):
                failures.append(f"case {i} {entry}: {type(err).__name__}: {str(err)[:200]}")
            continue
        except Exception as err:  # anything else is a bug
            failures.append(f"case {i} {entry}: undocumented {type(err).__name__}: {str(err)[:200]}")
            continue
        outcomes["result"] += 1
        if not _finite(result, allow_minus_inf):
            failures.append(f"case {i} {entry}: non-finite result")
    assert not failures, f"{len(failures)} of {N_CASES} cases failed:\n" + "\n".join(failures[:40])
    assert sum(outcomes.values()) == N_CASES >= 1000
    # both outcomes are exercised in earnest
    assert outcomes["result"] > 200 and outcomes["error"] > 200, outcomes


@pytest.mark.parametrize("dtype", [jnp.bfloat16, np.float16])
def test_fuzz_half_precision_is_finite(dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 2)).astype(dtype)
    result = jaxshift.mean_shift(X, 1.0)
    assert result.modes.dtype == dtype and _finite(result, False)
