"""The drop-in estimator: jaxshift.sklearn.MeanShift against sklearn.cluster.MeanShift, side by side.

Same data (2-D make_blobs, 5 centres), same defaults (flat kernel, bandwidth from estimate_bandwidth), float64 as
scikit-learn computes; scikit-learn with n_jobs=2. Every point a seed at n = 1k-20k; bin_seeding at 200k.
Cold = the first fit in this process for that size (compilation included); warm = median of repeated fits.

    python experiments/bench_estimator.py
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
from _common import median_time, timed, write_result
from sklearn import cluster
from sklearn.datasets import make_blobs

from jaxshift import sklearn as js

CASES = [(1_000, False), (5_000, False), (20_000, False), (200_000, True)]


def main() -> None:
    rows = []
    for n, bin_seeding in CASES:
        X, _ = make_blobs(n_samples=n, centers=5, random_state=0)
        h = cluster.estimate_bandwidth(X, quantile=0.3, random_state=0, n_samples=min(n, 20_000))
        params = {"bandwidth": h, "bin_seeding": bin_seeding}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cold, ours = timed(js.MeanShift(**params).fit, X)
            warm = median_time(js.MeanShift(**params).fit, X, repeats=3)
            sk_runs = [timed(cluster.MeanShift(n_jobs=2, **params).fit, X) for _ in range(1 if n >= 20_000 else 3)]
        sk_time, theirs = statistics.median(t for t, _ in sk_runs), sk_runs[0][1]
        same = ours.cluster_centers_.shape == theirs.cluster_centers_.shape
        diff = np.abs(ours.cluster_centers_ - theirs.cluster_centers_).max() if same else float("nan")
        rows.append(
            [
                n,
                "bin seeding" if bin_seeding else "every point",
                f"{h:.3f}",
                f"{len(ours.cluster_centers_)} / {len(theirs.cluster_centers_)}",
                f"{diff:.1e}",
                f"{np.mean(ours.labels_ == theirs.labels_):.4f}",
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
        "bench-estimator",
        "jaxshift.sklearn.MeanShift vs sklearn.cluster.MeanShift (flat kernel, float64, 2-D make_blobs)",
        [
            "n",
            "seeds",
            "bandwidth",
            "clusters (ours / sklearn)",
            "max centre diff",
            "labels equal",
            "sklearn s (median)",
            "sklearn runs",
            "jaxshift cold s",
            "jaxshift warm s (median)",
            "speed-up warm",
            "speed-up cold",
        ],
        rows,
        "Targets: >= 30x faster warm, and not slower cold from n = 5k.",
    )


if __name__ == "__main__":
    main()
