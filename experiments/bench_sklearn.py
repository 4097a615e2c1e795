"""jaxshift vs scikit-learn's MeanShift: flat kernel, every point a seed, 2-D blobs.

Both get the same data and the same bandwidth (scikit-learn's own estimate, quantile 0.3). scikit-learn runs with
n_jobs=2 (this machine's cores). jaxshift runs in float32; its centres are compared to scikit-learn's float64 ones.
Cold = first call in this process, compilation included; warm = median of repeated calls.

    python experiments/bench_sklearn.py [--sizes 1000 3000 5000 20000] [--sk-repeats 3]
"""

from __future__ import annotations

import argparse
import statistics

import jax
import numpy as np
from _common import median_time, timed, write_result
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.datasets import make_blobs

import jaxshift


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 5000, 20000])
    parser.add_argument("--sk-repeats", type=int, default=3, help="scikit-learn runs per size (1 above 10k)")
    parser.add_argument("--repeats", type=int, default=5, help="warm jaxshift runs per size")
    args = parser.parse_args()

    cluster = jax.jit(lambda X, h: jaxshift.mean_shift(X, h, kernel="flat", labels="nearest"))
    rows = []
    for n in args.sizes:
        X, _ = make_blobs(n_samples=n, centers=5, cluster_std=1.0, random_state=0)
        h = float(estimate_bandwidth(X, quantile=0.3, random_state=0))
        X32 = X.astype(np.float32)
        cold, result = timed(cluster, X32, h)
        warm = median_time(cluster, X32, h, repeats=args.repeats)
        sk_runs = [timed(MeanShift(bandwidth=h, n_jobs=2).fit, X) for _ in range(1 if n > 10_000 else args.sk_repeats)]
        sk_time = statistics.median(t for t, _ in sk_runs)
        sk = sk_runs[0][1]
        k = int(result.n_clusters)
        same_count = k == len(sk.cluster_centers_)
        diff = np.abs(np.asarray(result.centers[:k]) - sk.cluster_centers_).max() / h if same_count else float("nan")
        agree = np.mean(np.asarray(result.labels) == sk.labels_)
        rows.append(
            [
                n,
                f"{h:.3f}",
                f"{k} / {len(sk.cluster_centers_)}",
                f"{diff:.1e}",
                f"{agree:.4f}",
                f"{sk_time:.2f}",
                len(sk_runs),
                f"{cold:.2f}",
                f"{warm:.3f}",
                f"{sk_time / warm:.0f}x",
                f"{sk_time / cold:.1f}x",
            ]
        )
        print(rows[-1], flush=True)
    write_result(
        "bench-sklearn",
        "jaxshift vs scikit-learn MeanShift (flat kernel, all points as seeds, 2-D make_blobs, 5 centres)",
        [
            "n",
            "bandwidth",
            "clusters (ours / sklearn)",
            "max centre diff / h",
            "labels equal",
            "sklearn s (median)",
            "sklearn runs",
            "jaxshift cold s",
            "jaxshift warm s (median)",
            "speed-up warm",
            "speed-up cold",
        ],
        rows,
        "jaxshift in float32 against scikit-learn's float64; in float64 the tests find the centres equal to 1e-10. "
        "Targets: >= 30x warm from n = 3k, >= 100x at 20k.",
    )


if __name__ == "__main__":
    main()
