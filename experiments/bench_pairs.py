"""Pairs per second of one Gaussian mean-shift step on this CPU, out of cache (n = m = 10k and 50k).

jaxshift's blockwise reduction (the step's kernel sums) side by side with a plain dense XLA step that builds the
m x n weight matrix (at 50k that matrix needs 10 GB, so the dense step runs at 10k only).

    python experiments/bench_pairs.py
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from _common import median_time, write_result

import jaxshift
from jaxshift.reduce import prepare_data


def dense_step(Y, X, h):
    r = jnp.sum(jnp.square((Y[:, None, :] - X[None, :, :]) / h), axis=-1)
    w = jnp.exp(-0.5 * r)
    return (w @ X) / jnp.sum(w, axis=1, keepdims=True)


def main() -> None:
    gaussian = jaxshift.get_kernel("gaussian")
    sums = jax.jit(lambda Y, X, h: jaxshift.kernel_sums(Y, X, h, kernel=gaussian))
    dense = jax.jit(dense_step)

    def full_step(state, X, h):
        return jaxshift.step(state, prepare_data(X, h, None, 1024), kernel=gaussian)

    step = jax.jit(full_step)
    rows = []
    for n in (10_000, 50_000):
        rng = np.random.default_rng(0)
        X = jnp.asarray(rng.normal(size=(n, 2)).astype(np.float32) * 4.0)
        h = 0.5
        pairs = float(n) * n
        repeats = 5 if n <= 10_000 else 3
        jax.block_until_ready(sums(X, X, h))
        t_sums = median_time(sums, X, X, h, repeats=repeats)
        state = jaxshift.init(X, prepare_data(X, h))
        jax.block_until_ready(step(state, X, h))
        t_step = median_time(step, state, X, h, repeats=repeats)
        rows.append([n, "jaxshift kernel_sums (blockwise)", f"{t_sums:.3f}", f"{pairs / t_sums:.2e}"])
        rows.append([n, "jaxshift step (all seeds active)", f"{t_step:.3f}", f"{pairs / t_step:.2e}"])
        if n <= 10_000:
            jax.block_until_ready(dense(X, X, h))
            t_dense = median_time(dense, X, X, h, repeats=repeats)
            rows.append([n, "dense XLA step (m x n matrix)", f"{t_dense:.3f}", f"{pairs / t_dense:.2e}"])
        else:
            rows.append([n, "dense XLA step (m x n matrix)", "not run: needs 10 GB per matrix", "-"])
        print(rows[-3:], flush=True)
    write_result(
        "bench-pairs",
        "Pairs per second of one Gaussian mean-shift step (float32, d = 2, h = 0.5, data ~ N(0, 16 I))",
        ["n = m", "method", "seconds (median)", "pairs / s"],
        rows,
        "Target: >= 1.3e9 pairs/s out of cache.",
    )


if __name__ == "__main__":
    main()
