"""Static configuration cannot alias: kernels are identified by all that defines them, and equal
optimisers or new progress callables do not recompile."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from references import reference_mean_shift

import jaxshift
from jaxshift.api import bandwidth as bandwidth_api
from jaxshift.api import clustering as clustering_api
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.solvers import mean_shift as mean_shift_solver

X = np.random.default_rng(3).normal(size=(60, 2))


def triweight_like(r):
    return jnp.maximum(1.0 - r, 0.0) ** 3


def test_a_user_kernel_with_a_built_in_name_computes_with_its_own_profile():
    # shadow (1 - r)^2 on the ball, named like the built-in whose shadow is flat
    mine = Kernel("epanechnikov", density=triweight_like, shadow=lambda r: jnp.maximum(1.0 - r, 0.0) ** 2, compact=True)
    assert mine != get_kernel("epanechnikov") and hash(mine) != hash(get_kernel("epanechnikov"))
    builtin = jaxshift.mean_shift(X, 1.5, kernel="epanechnikov")
    ours = jaxshift.mean_shift(X, 1.5, kernel=mine)
    expected = reference_mean_shift(X, X, 1.5, lambda r: np.maximum(1.0 - r, 0.0) ** 2)
    np.testing.assert_allclose(np.asarray(ours.modes), expected, atol=1e-6)
    assert not np.allclose(np.asarray(builtin.modes), expected, atol=1e-6)


def test_a_smooth_user_kernel_is_summed_with_its_own_log_profile():
    cauchy = Kernel(
        "cauchy",
        density=lambda r: (1.0 + r) ** -2,
        shadow=lambda r: (1.0 + r) ** -3,
        compact=False,
        log_density=lambda r: -2.0 * jnp.log1p(r),
        log_shadow=lambda r: -3.0 * jnp.log1p(r),
    )
    result = jaxshift.mean_shift(X, 0.7, kernel=cauchy)
    expected = reference_mean_shift(X, X, 0.7, lambda r: (1.0 + r) ** -3)
    np.testing.assert_allclose(np.asarray(result.modes), expected, atol=1e-6)
    gaussian = reference_mean_shift(X, X, 0.7, lambda r: np.exp(-0.5 * r))
    assert not np.allclose(expected, gaussian, atol=1e-3)  # the test can tell the two apart
    # its normaliser, by quadrature: the 1-D density integrates to one (∫ (1 + x²)^-2 dx = π/2)
    np.testing.assert_allclose(cauchy.log_normaliser(1), np.log(np.pi / 2), rtol=1e-6)
    grid = np.linspace(-300, 300, 600001)[:, None]
    density = np.exp(np.asarray(jaxshift.kde.log_density(grid, np.zeros((1, 1)), 1.0, kernel=cauchy)))
    np.testing.assert_allclose(np.sum(density) * 1e-3, 1.0, atol=3e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"compact": False}, "unbounded support needs log_density and log_shadow"),
        ({"shadow": "flat"}, "shadow must be a function of r"),
        ({"name": ""}, "the name must be a non-empty string"),
    ],
)
def test_a_kernel_the_reduction_cannot_run_is_rejected_when_made(kwargs, message):
    fields = dict(name="mine", density=triweight_like, shadow=triweight_like, compact=True) | kwargs
    with pytest.raises(ValueError, match=message):
        Kernel(**fields)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (lambda r: jnp.ones(3), "must map an array of r to floats of its shape"),
        (lambda r: 1.0 - r, "must be finite and >= 0"),
        (lambda r: jnp.maximum(2.0 - r, 0.0), "must be 0 beyond r = 1"),
        (lambda r: r.astype(jnp.int32), "must map an array of r to floats"),
        (lambda r: r.undefined, "cannot be evaluated"),
    ],
)
def test_a_user_profile_the_reduction_cannot_use_is_rejected_before_computing(profile, message):
    bad = Kernel("bad", density=triweight_like, shadow=profile, compact=True)
    with pytest.raises(ValueError, match=f"kernel 'bad': shadow {message}"):
        jaxshift.mean_shift(X, 1.0, kernel=bad)


def test_a_wrong_log_profile_is_rejected():
    bad = Kernel(
        "bad", density=lambda r: jnp.exp(-r), shadow=lambda r: jnp.exp(-r), compact=False,
        log_density=lambda r: -r, log_shadow=lambda r: -0.5 * r,
    )  # fmt: skip
    with pytest.raises(ValueError, match="log_shadow is not the log of shadow"):
        jaxshift.kde.log_density(X[:2], X, 1.0, kernel=bad)


def traced_at_most_once(monkeypatch, module, name, fn, **jit_options):
    """Replace the jitted ``module.name`` by a jit of ``fn`` that fails on a second trace."""
    monkeypatch.setattr(module, name, jax.jit(chex.assert_max_traces(fn, n=1), **jit_options))


def test_equal_optimizers_share_one_compilation(monkeypatch):
    traced_at_most_once(
        monkeypatch,
        bandwidth_api,
        "_select_jit",
        bandwidth_api._select,
        static_argnames=("objective", "optimizer", "n_folds", "batch_size", "kernel", "data_axis"),
    )
    first = jaxshift.select_bandwidth(X, optimizer=optax.adam(0.05), max_iter=20)
    second = jaxshift.select_bandwidth(X, optimizer=optax.adam(0.05), max_iter=20)
    np.testing.assert_array_equal(first.bandwidth, second.bandwidth)
    with pytest.raises(AssertionError, match="traced > 1 times"):  # other hyper-parameters: another program
        jaxshift.select_bandwidth(X, optimizer=optax.adam(0.1), max_iter=20)


def test_optimizers_that_differ_are_never_confused():
    slow = jaxshift.select_bandwidth(X, optimizer=optax.sgd(1e-3), max_iter=3)
    fast = jaxshift.select_bandwidth(X, optimizer=optax.sgd(1e-1), max_iter=3)
    assert not np.allclose(slow.bandwidth, fast.bandwidth)


def test_a_new_progress_callable_does_not_recompile(monkeypatch):
    traced_at_most_once(
        monkeypatch,
        clustering_api,
        "_solve_mean_shift",
        mean_shift_solver.solve,
        static_argnames=clustering_api.MEAN_SHIFT_STATIC,
    )
    calls = {"first": [], "second": []}
    for name in calls:
        jaxshift.mean_shift(X, 0.8, progress=lambda i, moving, name=name: calls[name].append((int(i), int(moving))))
    jax.effects_barrier()
    assert calls["first"] and calls["first"] == calls["second"]
    assert calls["first"][-1][1] == 0  # the last report: no seed still moving
    assert [i for i, _ in calls["first"]] == list(range(1, len(calls["first"]) + 1))


@pytest.mark.parametrize("name", jaxshift.KERNEL_NAMES)
@pytest.mark.parametrize("dim", [1, 2, 7])
def test_quadrature_normalisers_of_user_kernels_match_the_closed_forms(name, dim):
    builtin = get_kernel(name)
    fields = dict(density=builtin.density, shadow=builtin.shadow, compact=builtin.compact)
    copy = Kernel(f"my-{name}", log_density=builtin.log_density, log_shadow=builtin.log_shadow, **fields)
    assert copy != builtin
    np.testing.assert_allclose(copy.log_normaliser(dim), builtin.log_normaliser(dim), rtol=1e-6)
    if name != "flat":  # the flat kernel borrows the Epanechnikov's scale (its step climbs that density)
        np.testing.assert_allclose(copy.log_canonical_scale(dim), builtin.log_canonical_scale(dim), rtol=1e-6)


def test_eager_calls_with_nearby_sizes_share_one_compilation(monkeypatch):
    # 57, 58 and 60 points (and 41 or 47 seeds) fall in one size class: one program, and each result
    # is the unpadded one (the padding rows have weight zero and the padding seeds are dropped)
    traced_at_most_once(
        monkeypatch,
        clustering_api,
        "_solve_mean_shift",
        mean_shift_solver.solve,
        static_argnames=clustering_api.MEAN_SHIFT_STATIC,
    )
    for n in (57, 58, 60):
        result = jaxshift.mean_shift(X[:n], 0.8)
        expected = reference_mean_shift(X[:n], X[:n], 0.8, lambda r: np.exp(-0.5 * r))
        np.testing.assert_allclose(np.asarray(result.modes), expected, atol=1e-6)
        assert result.labels.shape == (n,) and result.modes.shape == (n, 2) and result.centers.shape == (n, 2)
        assert int(result.cluster_sizes.sum()) == n and np.all(np.asarray(result.mode_labels) >= 0)
    chex.clear_trace_counter()  # with seeds: another program, which the seed counts 41 and 47 share
    for m in (41, 47):
        seeded = jaxshift.mean_shift(X, 0.8, kernel="flat", seeds=X[:m])
        np.testing.assert_allclose(
            np.asarray(seeded.modes), reference_mean_shift(X, X[:m], 0.8, lambda r: (r <= 1.0) * 1.0), atol=1e-6
        )
        assert seeded.modes.shape == (m, 2) and int(seeded.cluster_sizes.sum()) == len(X)
    assert jaxshift.api.sizes.size_class(1000) == 1024 and jaxshift.api.sizes.size_class(3000) == 3072
