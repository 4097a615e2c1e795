"""``bandwidth="auto"`` on large samples (20000 points), where neither suite of ``auto_bandwidth.py``
(dev) nor ``auto_heldout.py`` (held out) looked: at this size the selected bandwidth is small, and
the significance test must tell a few isolated tail points from a cluster. The suite below was fixed
before its first run; it was written after a tail group of 5 points on four separated blobs (20000
points) was found to pass the test, and that data set is not in it.

For each data set: the clusters, the largest cluster's share, and (where there are classes) the
adjusted Rand index, for jaxshift's ``"auto"`` (labels by basin) and for scikit-learn's MeanShift
with its default bandwidth (estimate_bandwidth, quantile 0.3) and bin seeding (its setting for large
samples; all 20000 seeds would take it tens of minutes per set). One population must give one
cluster (largest share >= 98%).

    python experiments/auto_large.py [--tag before]
    python experiments/auto_large.py --second [--tag before]   # the second group (50000 points)

The second group (``--second``) was written and run once on the library as it was before the
significance test of samples above 2000 points changed (docs/bandwidth.md), after the first group
had shown tail clusters; it includes the kinds of data that change could hurt (a real cluster of 1%
of the points, blobs that touch more closely than the first group's).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import write_result
from auto_heldout import describe
from scipy import stats
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.datasets import make_blobs

import jaxshift

N = 20000


def suite():
    rng = np.random.default_rng(2027)
    out = []
    square = np.array([[0, 0], [8, 0], [0, 8], [8, 8]], float)
    X = np.concatenate([rng.normal(c, 1.0, (N // 4, 2)) for c in square])
    out.append(("four separated blobs, 2-D", X, np.repeat(np.arange(4), N // 4)))
    out.append(("one normal, 2-D", rng.normal(size=(N, 2)), None))
    out.append(("one normal, 4-D", rng.normal(size=(N, 4)), None))
    out.append(("one Student t(3), 2-D", stats.t.rvs(3, size=(N, 2), random_state=27), None))
    out.append(("one log-normal, 2-D", np.exp(rng.normal(0, 0.5, (N, 2))), None))
    X, y = make_blobs(n_samples=N, centers=[[0, 0], [3.5, 0], [1.75, 3]], random_state=28)
    out.append(("touching blobs, 2-D", X, y))
    X, y = make_blobs(n_samples=[16000, 3000, 1000], centers=[[0, 0], [7, 0], [0, 7]], random_state=29)
    out.append(("blobs, sizes 16000/3000/1000", X, y))
    X, y = make_blobs(n_samples=N, centers=4, n_features=5, random_state=30)
    out.append(("5-D blobs", X, y))
    X = np.concatenate([rng.normal(-2, 1, (N // 2, 1)), rng.normal(2, 1, (N // 2, 1))])
    out.append(("two normals 4 sd apart, 1-D", X, np.repeat([0, 1], N // 2)))
    return out


def second_suite():
    rng = np.random.default_rng(2028)
    n = 50000
    out = []
    square = np.array([[0, 0], [8, 0], [0, 8], [8, 8]], float)
    X = np.concatenate([rng.normal(c, 1.0, (n // 4, 2)) for c in square])
    out.append(("four separated blobs, 2-D", X, np.repeat(np.arange(4), n // 4)))
    out.append(("one gamma(2), 3-D", rng.gamma(2.0, size=(n, 3)), None))
    out.append(("one Student t(5), 3-D", stats.t.rvs(5, size=(n, 3), random_state=31), None))
    sizes = [20000, 15000, 10000, 4500, 500]
    X, y = make_blobs(n_samples=sizes, centers=[[0, 0], [7, 0], [0, 7], [7, 7], [14, 3.5]], random_state=32)
    out.append(("blobs, sizes 20000/15000/10000/4500/500", X, y))
    X, y = make_blobs(n_samples=n, centers=[[0, 0], [2.8, 0]], random_state=33)
    out.append(("two blobs 2.8 sd apart, 2-D", X, y))
    return out


def main() -> None:
    tag = sys.argv[sys.argv.index("--tag") + 1] if "--tag" in sys.argv else ""
    second = "--second" in sys.argv
    rows = []
    for name, X, y in second_suite() if second else suite():
        start = time.perf_counter()
        result = jaxshift.mean_shift(X, "auto")
        seconds = time.perf_counter() - start
        k = int(result.n_clusters)
        significance = ", ".join(f"{s:.3f}" for s in np.asarray(result.auto.significance[:k]))
        sk = MeanShift(bandwidth=estimate_bandwidth(X, quantile=0.3), bin_seeding=True).fit(X).labels_
        row = [name, f"{X.shape[0]} x {X.shape[1]}", "1" if y is None else str(len(np.unique(y)))]
        row += [describe(sk, y), describe(result.labels, y), f"{float(result.auto.bandwidth):.3f}"]
        row += [str(int(result.auto.n_modes)), significance, f"{seconds:.1f}"]
        print(row, flush=True)
        rows.append(row)
    write_result(
        "auto-large" + ("-second" if second else "") + (f"-{tag}" if tag else ""),
        f"Automatic bandwidth on {50000 if second else N} points: clusters (largest cluster's share, ARI)",
        [
            "data",
            "n x d",
            "classes",
            "sklearn default, bin seeding",
            'jaxshift "auto"',
            "h",
            "modes before merge",
            "kept clusters' significance",
            "seconds (cold)",
        ],
        rows,
        "One population must give one cluster (largest share >= 98%). The suite was fixed before its first run.",
    )


if __name__ == "__main__":
    main()
