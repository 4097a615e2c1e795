"""The half-precision attention path of the Gaussian step (emulated on the CPU)."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxshift
from jaxshift import kernel_sums
from jaxshift.kernels import get_kernel
from jaxshift.reduce.attention import attention_available, attention_means, emulated_attention, head_dim


def _blobs(n_per=200, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    centres = [(-6.0, -6.0), (0.0, 0.0), (6.0, 5.0)]
    return np.vstack([rng.normal(c, 1.0, (n_per, 2)) for c in centres]).astype(dtype)


def _exact_means(queries, data, h, weights=None):
    sums = kernel_sums(queries, data, h, kernel=get_kernel("gaussian"), weights=weights)
    return np.asarray(sums.moment / sums.total[:, None])


def test_head_dim_is_a_multiple_of_8_that_holds_the_split_coordinates():
    assert [head_dim(d) for d in (1, 2, 4, 5, 42)] == [16, 16, 16, 24, 128]


@pytest.mark.parametrize("dtype, limit", [(jnp.float16, 3e-3), (jnp.bfloat16, 3e-2)])
def test_attention_means_match_the_exact_step(dtype, limit):
    X = _blobs()
    h = 0.5
    Y = X[:200]  # one compact block (the first blob)
    got = np.asarray(attention_means(jnp.asarray(Y / h), jnp.asarray(X / h), dtype=dtype, implementation="emulated"))
    error = np.max(np.abs(got * h - _exact_means(Y, X, h))) / h
    assert error < limit


def test_weights_enter_through_the_key():
    X = _blobs(50)
    w = np.random.default_rng(1).uniform(0.1, 3.0, len(X)).astype(np.float32)
    h = 0.7
    log_w = jnp.log(jnp.asarray(w))
    got = np.asarray(attention_means(jnp.asarray(X[:50] / h), jnp.asarray(X / h), log_w, implementation="emulated"))
    assert np.max(np.abs(got * h - _exact_means(X[:50], X, h, w))) / h < 3e-3


def test_data_beyond_float16_range_is_ignored_not_nan():
    X = _blobs(50)
    far = np.vstack([X, [[1e6, -1e6], [3e4, 0.0]]]).astype(np.float32)
    h = 0.5
    got = np.asarray(attention_means(jnp.asarray(X[:50] / h), jnp.asarray(far / h), implementation="emulated"))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got * h, _exact_means(X[:50], X, h), atol=3e-3 * h)


def test_emulation_rounds_like_a_half_precision_kernel():
    rng = np.random.default_rng(2)
    q, k, v = (jnp.asarray(rng.normal(size=s), jnp.float16) for s in [(4, 8), (6, 8), (6, 8)])
    out = emulated_attention(q, k, v)
    assert out.dtype == jnp.float16
    logits = np.asarray(q, np.float64) @ np.asarray(k, np.float64).T
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    reference = (p / p.sum(axis=1, keepdims=True)) @ np.asarray(v, np.float64)
    np.testing.assert_allclose(np.asarray(out, np.float64), reference, atol=5e-3)


def test_attention_backend_clusters_like_the_exact_path():
    X = _blobs()
    h = 0.5
    exact = jaxshift.mean_shift(X, h, backend="blockwise")
    fast = jaxshift.mean_shift(X, h, backend="attention", query_block=256)
    tight = jaxshift.mean_shift(X.astype(np.float64), h, backend="blockwise", tol=1e-7, max_iter=5000)
    assert int(fast.n_clusters) == int(exact.n_clusters)
    np.testing.assert_array_equal(fast.labels, exact.labels)
    k = int(exact.n_clusters)
    np.testing.assert_allclose(np.sort(fast.centers[:k], axis=0), np.sort(exact.centers[:k], axis=0), atol=0.02 * h)
    # the fast path's modes are as close to the exact modes as the fp32 path's own (both stop at tol)
    distance = {
        name: float(np.max(np.linalg.norm(np.asarray(r.modes, np.float64) - np.asarray(tight.modes), axis=1))) / h
        for name, r in [("exact", exact), ("fast", fast)]
    }
    assert distance["fast"] < max(2 * distance["exact"], 0.01)
    assert bool(fast.all_converged) and np.all(np.isfinite(fast.modes))


def test_wide_blocks_fall_back_to_the_exact_step():
    # bandwidth a hundredth of the spread: a block of all seeds spans far more than MAX_BLOCK_RADIUS
    X = _blobs(60)
    h = 0.1
    exact = jaxshift.mean_shift(X, h, backend="blockwise")
    fast = jaxshift.mean_shift(X, h, backend="attention")
    np.testing.assert_array_equal(fast.labels, exact.labels)
    assert np.all(np.isfinite(fast.modes))


def test_weighted_seeded_attention_run():
    X = _blobs(100)
    w = np.random.default_rng(3).integers(1, 4, len(X)).astype(np.float32)
    seeds = X[::7]
    exact = jaxshift.mean_shift(X, 0.8, weights=w, seeds=seeds, backend="blockwise")
    fast = jaxshift.mean_shift(X, 0.8, weights=w, seeds=seeds, backend="attention")
    np.testing.assert_array_equal(fast.labels, exact.labels)
    np.testing.assert_allclose(fast.modes, exact.modes, atol=0.03 * 0.8)


def test_backend_choices_are_checked():
    X = _blobs(20)
    with pytest.raises(ValueError, match='backend: "attention" needs the Gaussian kernel'):
        jaxshift.mean_shift(X, 1.0, kernel="flat", backend="attention")
    with pytest.raises(ValueError, match="backend: expected one of"):
        jaxshift.mean_shift(X, 1.0, backend="cuda")


@pytest.mark.skipif(attention_available(), reason="auto takes the attention path on NVIDIA GPUs")
def test_auto_is_blockwise_on_the_cpu():
    X = _blobs(20)
    auto = jaxshift.mean_shift(X, 1.0)
    exact = jaxshift.mean_shift(X, 1.0, backend="blockwise")
    np.testing.assert_array_equal(auto.modes, exact.modes)
