"""The drop-in estimator with ``bandwidth="auto"`` against scikit-learn's default ``MeanShift()``.

Both choose their own bandwidth: scikit-learn estimate_bandwidth (quantile 0.3) then the flat kernel's
climb from every point; jaxshift 0.7 x the normal-scale gradient rule (converted to the flat kernel),
the climb, then the valley bootstrap of the modes (200 replicates) and the merge of the insignificant
ones. 2-D make_blobs (3 centres), float64, n = 1000; also jaxshift.mean_shift(X, "auto") (Gaussian
kernel). scikit-learn with its default n_jobs=None. Warm = median of repeated fits after a first one;
the counts of clusters found are given with the adjusted Rand index against the blobs.

    python experiments/bench_auto.py
"""

from __future__ import annotations

import statistics

import jax
import numpy as np
from _common import median_time, timed, write_result
from sklearn import cluster
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import jaxshift
from jaxshift import sklearn as js

N = 1000
REPEATS = 7


def main() -> None:
    X, y = make_blobs(n_samples=N, centers=3, random_state=0)
    sk_runs = [timed(cluster.MeanShift().fit, X) for _ in range(3)]
    sk_time, theirs = statistics.median(t for t, _ in sk_runs), sk_runs[0][1]
    rows = [
        [
            "scikit-learn MeanShift() (default bandwidth, flat)",
            f"{sk_time:.3f}",
            "",
            "1.0x",
            f"{len(theirs.cluster_centers_)} (ARI {adjusted_rand_score(y, theirs.labels_):.3f})",
        ]
    ]
    cases = [
        ('jaxshift.sklearn MeanShift(bandwidth="auto") (flat)', lambda: js.MeanShift(bandwidth="auto").fit(X)),
        (
            'jaxshift.sklearn MeanShift(bandwidth="auto", kernel="gaussian")',
            lambda: js.MeanShift(bandwidth="auto", kernel="gaussian").fit(X),
        ),
        ('jaxshift.mean_shift(X, "auto") (Gaussian)', lambda: jaxshift.mean_shift(X, "auto")),
    ]
    for name, fit in cases:
        cold, model = timed(fit)
        warm = median_time(fit, repeats=REPEATS)
        labels = np.asarray(model.labels_ if hasattr(model, "labels_") else model.labels)
        k = len(np.unique(labels[labels >= 0]))
        rows.append(
            [
                name,
                f"{warm:.3f}",
                f"{cold:.2f}",
                f"{sk_time / warm:.1f}x",
                f"{k} (ARI {adjusted_rand_score(y, labels):.3f})",
            ]
        )
    write_result(
        "bench-auto",
        f'bandwidth="auto" against scikit-learn\'s default MeanShift, n = {N}, 2-D blobs (seconds)',
        ["estimator", "warm s (median)", "cold s", "speed-up (warm)", "clusters"],
        rows,
        f"scikit-learn: median of 3 fits; jaxshift: median of {REPEATS} warm fits after a cold one. "
        f"x64 {'on' if jax.config.jax_enable_x64 else 'off'}.",
    )


if __name__ == "__main__":
    main()
