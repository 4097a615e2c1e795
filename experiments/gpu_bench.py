"""The Gaussian step on a GPU: pairs per second per path, accuracy, and the time to cluster 1e6 2-D points.

Paths: jaxshift's exact fp32 blockwise step (several tile sizes), the half-precision attention step
(`jaxshift.solvers.mean_shift.attention_step` on `jaxshift.reduce.attention`, cuDNN's fused kernel, several seed-block
sizes), the attention means alone in float16 and bfloat16, and cuDNN attention alone on prepared inputs (the ceiling of
the kernel itself). Then end to end: `jaxshift.mean_shift` on 1e6 points, attention and blockwise, all seeds and bin
seeds, cold and warm, and the attention path's modes against the fp32 path's at n = 32,768.

    python experiments/gpu_bench.py            # on a machine with an NVIDIA GPU
    python experiments/gpu_bench.py --smoke    # tiny sizes, emulated attention: checks the script on a CPU

Writes experiments/results/<date>-gpu-bench.md (and a JSON copy to --json if given).
"""

from __future__ import annotations

import argparse
import json
import time
import traceback

import jax
import jax.numpy as jnp
import numpy as np
from _common import median_time, timed, write_result

import jaxshift
from jaxshift.reduce import attention, prepare_data, spatial_order
from jaxshift.solvers.mean_shift import attention_step, init, step

GAUSSIAN = jaxshift.get_kernel("gaussian")


def blobs(n: int, seed: int = 0, n_centres: int = 10, spread: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-spread, spread, (n_centres, 2))
    truth = rng.integers(0, n_centres, n)
    return (centres[truth] + rng.normal(size=(n, 2))).astype(np.float32), truth


def ari(a, b) -> float:
    try:
        from sklearn.metrics import adjusted_rand_score
    except ImportError:
        return float("nan")
    return float(adjusted_rand_score(np.asarray(a), np.asarray(b)))


def attention_step_fn(implementation: str, query_block: int):
    """The attention path's step (float16), as mean_shift runs it: blocks too wide for half precision take the exact
    step over the prepared data, and shifts below a block's rounding floor are not taken (so its error against the
    exact step includes them)."""

    def fn(state, X, h):
        data = prepare_data(X, h)
        scaled = (X - data.origin) / h
        return attention_step(
            state, data, scaled, None, tol=0.0, query_block=query_block, implementation=implementation
        )

    return jax.jit(fn)


def attention_means_fn(implementation: str, query_block: int, dtype):
    """The attention means alone, in ``dtype``, over blocks of ``query_block`` spatially ordered seeds (in bandwidths,
    relative to the data's mean): the step without its bookkeeping, the one place the input precision can be chosen."""

    def fn(Ys, Xs):
        blocks = Ys.reshape(-1, query_block, Ys.shape[1])

        def one(y):
            return attention.attention_means(y, Xs, None, dtype=dtype, implementation=implementation)

        return jax.lax.map(one, blocks).reshape(Ys.shape)

    return jax.jit(fn)


def blockwise_step_fn(query_block: int, data_block: int):
    def fn(state, X, h):
        return step(state, prepare_data(X, h, None, data_block), kernel=GAUSSIAN, tol=0.0, query_block=query_block)

    return jax.jit(fn)


def raw_attention_fn(implementation: str):
    def fn(q, k, v):
        if implementation == "cudnn":
            return jax.nn.dot_product_attention(
                q[None, :, None], k[None, :, None], v[None, :, None], scale=1.0, implementation="cudnn"
            )
        return attention.emulated_attention(q, k, v)

    return jax.jit(fn)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and emulated attention (any device)")
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    parser.add_argument("--no-blockwise-step", action="store_true", help="skip timing the fp32 step")
    args = parser.parse_args()
    smoke = args.smoke
    implementation = "emulated" if smoke else "cudnn"
    n_pairs = 1024 if smoke else 262_144
    n_end = 3000 if smoke else 1_000_000
    n_check = 1024 if smoke else 32_768
    rows: list[list] = []
    info = {
        "jax": jax.__version__,
        "devices": [d.device_kind for d in jax.devices()],
        "attention_available": attention.attention_available(),
    }
    print(info, flush=True)

    def record(*row):
        rows.append(list(row))
        print(" | ".join(str(c) for c in row), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"info": info, "rows": rows}, f, indent=1)

    def guarded(name, fn):
        try:
            fn()
        except Exception as err:  # one failing path must not cost the other measurements
            traceback.print_exc()
            record(name, "failed", f"{type(err).__name__}: {str(err)[:200]}", "", "")

    # --- pairs per second, n = m ---
    X_np, _ = blobs(n_pairs)
    X = jnp.asarray(X_np)
    h = jnp.float32(0.5)
    pairs = float(n_pairs) ** 2
    state = init(X, prepare_data(X, h))
    reference = {}

    def bench_blockwise(qb, db):
        fn = blockwise_step_fn(qb, db)
        t_cold, out = timed(fn, state, X, h)
        t = median_time(fn, state, X, h, repeats=3)
        reference.setdefault("mean", out[0].position)  # relative to the data's mean
        record(f"step, blockwise fp32 (query {qb}, data {db})", n_pairs, f"{t:.4f}", f"{pairs / t:.3g}", "exact")

    for qb, db in [] if args.no_blockwise_step else [(1024, 1024), (8192, 4096)]:
        guarded(f"blockwise {qb}/{db}", lambda qb=qb, db=db: bench_blockwise(qb, db))

    def error_of(position):
        if "mean" not in reference:
            return "n/a"
        return f"max error {float(jnp.max(jnp.abs(position - reference['mean']))) / float(h):.2e} h"

    def bench_attention(qb):
        fn = attention_step_fn(implementation, qb)
        # attention blocks are compact only for spatially ordered seeds, as mean_shift orders them
        st = init(X, prepare_data(X, h), spatially_ordered=True)
        timed(fn, st, X, h)
        t = median_time(fn, st, X, h, repeats=5)
        out = fn(st, X, h)[0].position  # seeds in their own order, relative to the data's mean
        record(f"step, attention float16 (seed block {qb})", n_pairs, f"{t:.4f}", f"{pairs / t:.3g}", error_of(out))

    for qb in [8192, 32768, 131072]:
        guarded(f"attention {qb}", lambda qb=qb: bench_attention(min(qb, n_pairs)))

    def bench_means(qb, dtype):
        fn = attention_means_fn(implementation, qb, dtype)
        centred = X - jnp.mean(X, axis=0)
        order = spatial_order(centred, h)
        Ys, Xs = centred[order] / h, centred / h
        timed(fn, Ys, Xs)
        t = median_time(fn, Ys, Xs, repeats=5)
        out = jnp.zeros_like(centred).at[order].set(fn(Ys, Xs) * h)
        name = jnp.dtype(dtype).name
        record(
            f"attention means alone, {name} (seed block {qb})", n_pairs, f"{t:.4f}", f"{pairs / t:.3g}", error_of(out)
        )

    for dtype in (jnp.float16, jnp.bfloat16):
        guarded(f"means {jnp.dtype(dtype).name}", lambda dtype=dtype: bench_means(min(32768, n_pairs), dtype))

    def bench_raw():
        width = attention.head_dim(2)
        rng = np.random.default_rng(1)
        q, k, v = (jnp.asarray(rng.normal(size=(n_pairs, width)), jnp.float16) for _ in range(3))
        fn = raw_attention_fn(implementation)
        timed(fn, q, k, v)
        t = median_time(fn, q, k, v, repeats=5)
        record(f"attention kernel alone (fp16, head dim {width})", n_pairs, f"{t:.4f}", f"{pairs / t:.3g}", "-")

    guarded("raw attention", bench_raw)

    # --- accuracy of the whole run against the fp32 path, n = 32,768 ---
    def check_accuracy():
        Xc_np, _ = blobs(n_check, seed=2)
        Xc = jnp.asarray(Xc_np)
        hc = 1.0
        exact = jaxshift.mean_shift(Xc, hc, backend="blockwise", query_block=8192, data_block=4096)
        fast = jaxshift.mean_shift(Xc, hc, backend="attention")
        with jax.enable_x64(True):
            tight = jaxshift.mean_shift(
                np.asarray(Xc_np, np.float64),
                hc,
                backend="blockwise",
                tol=1e-4,
                max_iter=500,
                query_block=8192,
                data_block=4096,
            )
            tight_modes = np.asarray(tight.modes)
        d_exact = np.max(np.linalg.norm(np.asarray(exact.modes, np.float64) - tight_modes, axis=1)) / hc
        d_fast = np.max(np.linalg.norm(np.asarray(fast.modes, np.float64) - tight_modes, axis=1)) / hc
        same = float(np.mean(np.asarray(exact.labels) == np.asarray(fast.labels)))
        record(
            "accuracy: attention run vs fp32 run",
            n_check,
            f"clusters {int(fast.n_clusters)} vs {int(exact.n_clusters)}",
            f"labels equal {same:.5f}, ARI {ari(exact.labels, fast.labels):.5f}",
            f"max |mode - tol-1e-4 fp64 mode|: attention {d_fast:.2e} h, fp32 {d_exact:.2e} h",
        )

    guarded("accuracy", check_accuracy)

    # --- end to end, 1e6 points ---
    Xe_np, truth = blobs(n_end, seed=3)
    he = 1.0

    def end_to_end(name, **kw):
        def go():
            return jaxshift.mean_shift(Xe_np, he, **kw)

        t_cold, r = timed(go)
        t_warm = median_time(go, repeats=2)
        record(
            f"cluster {n_end} points: {name}",
            n_end,
            f"warm {t_warm:.2f} s, cold {t_cold:.2f} s",
            f"{int(r.n_clusters)} clusters, {int(r.n_iter)} iterations, converged {bool(r.all_converged)}",
            f"ARI vs truth {ari(truth, r.labels):.4f}",
        )

    guarded("e2e attention", lambda: end_to_end("attention, all seeds", backend="attention"))
    seeds = jaxshift.bin_seeds(Xe_np, he)
    guarded(
        "e2e attention bins",
        lambda: end_to_end(f"attention, {len(seeds)} bin seeds", backend="attention", seeds=seeds),
    )
    guarded(
        "e2e blockwise bins",
        lambda: end_to_end(
            f"blockwise fp32, {len(seeds)} bin seeds",
            backend="blockwise",
            seeds=seeds,
            query_block=8192,
            data_block=4096,
        ),
    )
    if not smoke:
        write_result(
            "gpu-bench",
            "The Gaussian step on one GPU: pairs per second, accuracy, 1e6 points end to end",
            ["what", "n", "seconds", "pairs/s or result", "accuracy"],
            rows,
            f"Devices: {info['devices']}. Data: 10 Gaussian blobs (unit spread, centres uniform in [-8, 8]^2), "
            "float32; h = 0.5 for the step, 1.0 end to end. Step times are medians of 3-5 warm calls with every "
            "seed active; end-to-end warm times are medians of 2 calls after a cold one.",
        )
    else:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"total {time.time() - started:.1f} s")
