"""Peak memory (max RSS) of Gaussian mean shift on 200k 2-D points with 1k seeds.

Each configuration runs in a fresh process; the table gives its max RSS. "baseline" imports JAX and makes the data
only; "dense" is one plain XLA step that builds the m x n weight matrices, for comparison.

    python experiments/bench_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

from _common import write_result

CHILD = r"""
import json, resource, sys, time
import numpy as np, jax, jax.numpy as jnp
import jaxshift
mode = sys.argv[1]
rng = np.random.default_rng(0)
centres = rng.uniform(-20, 20, size=(8, 2))
X = (centres[rng.integers(0, 8, 200_000)] + rng.normal(size=(200_000, 2))).astype(np.float32)
seeds = X[rng.choice(200_000, 1_000, replace=False)]
start = time.perf_counter()
info = {}
if mode == "jaxshift":
    r = jaxshift.mean_shift(X, 1.0, seeds=seeds)
    info = {"clusters": int(r.n_clusters), "iterations": int(r.n_iter)}
elif mode == "minibatch-loo-1e6":
    from jaxshift import kde
    Y = np.random.default_rng(1).normal(size=(1_000_000, 2)).astype(np.float32)
    fn = lambda h: kde.minibatch_loo_log_likelihood(Y, h, jax.random.key(0), batch_size=1024)
    value, grad = jax.value_and_grad(fn)(0.1)
    info = {"clusters": float(value), "iterations": float(grad)}
elif mode == "dense":
    Y, Xj = jnp.asarray(seeds), jnp.asarray(X)
    w = jnp.exp(-0.5 * jnp.sum(jnp.square(Y[:, None, :] - Xj[None, :, :]), axis=-1))
    jax.block_until_ready((w @ Xj) / jnp.sum(w, axis=1, keepdims=True))
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": time.perf_counter() - start, **info}))
"""


def main() -> None:
    rows = []
    for mode in ("baseline", "jaxshift", "minibatch-loo-1e6", "dense"):
        out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
        info = json.loads(out.stdout.strip().splitlines()[-1])
        if mode == "minibatch-loo-1e6":
            extra = f"value {info['clusters']:.4f} and gradient {info['iterations']:.4g} at h = 0.1"
        elif "clusters" in info:
            extra = f"{info['clusters']} clusters, {info['iterations']} iterations"
        else:
            extra = ""
        rows.append([mode, f"{info['rss_mb']:.0f}", f"{info['seconds']:.1f}", extra])
        print(rows[-1], flush=True)
    write_result(
        "bench-memory",
        "Peak memory: Gaussian mean shift, n = 200k 2-D points (8 blobs), m = 1k seeds, h = 1, float32",
        ["configuration", "max RSS (MB)", "seconds (cold)", "result"],
        rows,
        "Target: < 1.5 GB for jaxshift. 'baseline' = Python + JAX + the data, nothing computed. "
        "'minibatch-loo-1e6': the minibatch leave-one-out log-likelihood (1024 queries) of 1e6 more 2-D points and its "
        "gradient with respect to h (the data above are also in memory).",
    )


if __name__ == "__main__":
    main()
