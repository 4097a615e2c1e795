"""Properties that hold for any data: invariance, equivariance, and agreement between the ways of
running the same computation. Shapes are fixed (16 points in 2-D) so that every example reuses
one compiled program; the clusters are well separated so that the partition is not on a knife edge."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxshift
from jaxshift import kde

N, D, H = 16, 2, 1.0
KERNELS = ("gaussian", "flat", "epanechnikov", "biweight")
SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@st.composite
def clustered(draw):
    """16 points in 2 or 3 groups, each within 0.3 bandwidths of its centre, the centres 20 apart."""
    k = draw(st.integers(2, 3))
    centres = np.array([[20.0 * i, draw(st.floats(-20, 20))] for i in range(k)])
    group = np.arange(N) % k
    offsets = draw(st.lists(st.floats(-0.2, 0.2), min_size=N * D, max_size=N * D))
    return centres[group] + np.reshape(offsets, (N, D))


def same_partition(a, b) -> bool:
    """Whether two labellings group the points the same way (whatever the cluster numbers)."""
    a, b = np.asarray(a), np.asarray(b)
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@SETTINGS
@given(clustered(), st.permutations(range(N)), st.sampled_from(KERNELS))
def test_partition_is_invariant_under_permutation(X, perm, kernel):
    perm = np.asarray(perm)
    ours = jaxshift.mean_shift(X, H * 2, kernel=kernel)
    permuted = jaxshift.mean_shift(X[perm], H * 2, kernel=kernel)
    assert int(ours.n_clusters) == int(permuted.n_clusters)
    assert same_partition(np.asarray(ours.labels)[perm], permuted.labels)
    k = int(ours.n_clusters)
    np.testing.assert_allclose(
        np.sort(np.asarray(ours.centers[:k]), axis=0), np.sort(np.asarray(permuted.centers[:k]), axis=0), atol=1e-6
    )


@SETTINGS
@given(clustered(), st.floats(0.1, 10.0), st.floats(-100.0, 100.0), st.floats(-100.0, 100.0))
def test_translation_and_scale_equivariance(X, a, b0, b1):
    b = np.array([b0, b1])
    ours = jaxshift.mean_shift(X, H)
    moved = jaxshift.mean_shift(a * X + b, a * H)
    assert same_partition(ours.labels, moved.labels)
    np.testing.assert_allclose(moved.modes, a * np.asarray(ours.modes) + b, atol=1e-6 * (1 + a + np.abs(b).max()))
    log_f = kde.log_density(X[:4], X, H)
    # a density in 2-D scales by 1/a²
    np.testing.assert_allclose(kde.log_density(a * X[:4] + b, a * X + b, a * H), log_f - D * np.log(a), atol=1e-8)


_jitted = jax.jit(lambda X, h: jaxshift.mean_shift(X, h))


@SETTINGS
@given(clustered(), st.floats(0.5, 3.0))
def test_eager_equals_jit(X, h):
    eager, jitted = jaxshift.mean_shift(X, h), _jitted(X, h)
    np.testing.assert_array_equal(eager.labels, jitted.labels)
    np.testing.assert_allclose(eager.modes, jitted.modes, rtol=1e-12, atol=1e-12)
    assert int(eager.n_iter) == int(jitted.n_iter)


@SETTINGS
@given(clustered(), st.lists(st.floats(0.3, 30.0), min_size=3, max_size=3))
def test_vmap_equals_a_python_loop(X, hs):
    hs = np.asarray(hs)
    batched = jax.vmap(lambda h: jaxshift.mean_shift(X, h))(hs)
    for i, h in enumerate(hs):
        one = jaxshift.mean_shift(X, h)
        assert int(batched.n_clusters[i]) == int(one.n_clusters)
        np.testing.assert_array_equal(batched.labels[i], one.labels)
        np.testing.assert_allclose(batched.modes[i], one.modes, rtol=1e-9, atol=1e-9)
    log_f = jax.vmap(lambda h: kde.log_density(X, X, h))(hs)
    for i, h in enumerate(hs):
        np.testing.assert_allclose(log_f[i], kde.log_density(X, X, h), rtol=1e-12)


@SETTINGS
@given(clustered(), st.sampled_from(KERNELS))
def test_float32_agrees_with_float64(X, kernel):
    r64 = jaxshift.mean_shift(X, 2 * H, kernel=kernel)
    r32 = jaxshift.mean_shift(X.astype(np.float32), 2 * H, kernel=kernel)
    assert r32.modes.dtype == np.float32
    np.testing.assert_array_equal(r32.labels, r64.labels)
    np.testing.assert_allclose(r32.modes, r64.modes, atol=1e-4 * (1 + np.abs(X).max()))
    np.testing.assert_allclose(
        kde.log_density(X[:4].astype(np.float32), X.astype(np.float32), H), kde.log_density(X[:4], X, H), atol=1e-4
    )


@SETTINGS
@given(clustered(), st.sampled_from(KERNELS))
def test_repeated_runs_are_identical(X, kernel):
    first, second = jaxshift.mean_shift(X, 2 * H, kernel=kernel), jaxshift.mean_shift(X, 2 * H, kernel=kernel)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@st.composite
def counts_summing_to(draw, total, parts):
    """``parts`` positive integers with sum ``total`` (fixed, so the duplicated data's shape is too)."""
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True)))
    return np.diff([0, *cuts, total])


@SETTINGS
@given(clustered(), counts_summing_to(2 * N, N), st.sampled_from(("gaussian", "flat")))
def test_integer_weights_equal_duplicated_points(X, counts, kernel):
    copies = np.repeat(X, counts, axis=0)
    weighted = jaxshift.mean_shift(X, 2 * H, kernel=kernel, weights=counts)
    duplicated = jaxshift.mean_shift(copies, 2 * H, kernel=kernel, seeds=X, labels="nearest")
    np.testing.assert_allclose(weighted.modes, duplicated.modes, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        kde.log_density(X, X, H, kernel=kernel, weights=counts), kde.log_density(X, copies, H, kernel=kernel), atol=1e-9
    )
    np.testing.assert_allclose(
        kde.heldout_log_likelihood(X[:4], X, H, weights=counts), kde.heldout_log_likelihood(X[:4], copies, H), atol=1e-9
    )
    assert jnp.all(jnp.isfinite(weighted.modes))
