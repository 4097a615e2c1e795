"""SQUAREM cycles against plain Gaussian mean-shift steps: same seeds, same bandwidth, same ``tol``, side by side.

``jaxshift.mean_shift(X, h, seeds=S, accelerate=True)`` against the same call without ``accelerate``. The cases
were fixed before the first run: the command line's five separated blobs (where `"auto"` picks a small
bandwidth), one Gaussian population, touching blobs, a heavy-tailed population, 5-D blobs, and every point a
seed. The bandwidth is `clustering_bandwidth` (the gradient criterion `"auto"` starts from) unless stated; seeds
are `bin_seeds(X, h)` unless stated; float32.

Per case: plain steps (the slowest seed's) and accelerated cycles (three steps each); warm times (median of 3
calls after a compiling one) and their ratio; clusters found by each (before any significance merge); the
largest distance from a centre of one to the nearest centre of the other, in bandwidths; the adjusted Rand index
of the two labelings; the share of seeds whose mode lies in another cluster than the plain climb's (each mode
given the nearest plain centre).

    python experiments/bench_accelerate.py
"""

from __future__ import annotations

import numpy as np
from _common import median_time, timed, write_result
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import jaxshift

CENTRES = np.array([[0, 0], [20, 0], [0, 20], [20, 20], [10, 10]], float)


def cases():
    rng = np.random.default_rng(0)
    truth = rng.integers(5, size=100_000)
    yield "five separated blobs, 1e5 (the command line's)", CENTRES[truth] + rng.normal(size=(100_000, 2)), None, True
    yield "one Gaussian, 2e4", np.random.default_rng(1).normal(size=(20_000, 2)), None, True
    touching = make_blobs(20_000, centers=5, cluster_std=1.0, random_state=0)[0]
    yield "five touching blobs (make_blobs), 2e4", touching, None, True
    yield "Student t (3 dof), 2e4", np.random.default_rng(2).standard_t(3, size=(20_000, 2)), None, True
    five_d = make_blobs(20_000, n_features=5, centers=4, cluster_std=1.0, random_state=3)[0]
    yield "four blobs in 5-D, 2e4", five_d, None, True
    yield "one Gaussian, every point a seed, 3000", np.random.default_rng(4).normal(size=(3000, 2)), None, False


def nearest(points, centres):
    d = np.sum((points[:, None, :] - centres[None, :, :]) ** 2, axis=2)
    return np.argmin(d, axis=1), np.sqrt(np.min(d, axis=1))


def main() -> None:
    rows = []
    for name, X, h, binned in cases():
        X = X.astype(np.float32)
        h = float(jaxshift.clustering_bandwidth(X)) if h is None else h
        seeds = jaxshift.bin_seeds(X, h) if binned else X

        def plain(X=X, h=h, seeds=seeds):
            return jaxshift.mean_shift(X, h, seeds=seeds, labels="nearest")

        def fast(X=X, h=h, seeds=seeds):
            return jaxshift.mean_shift(X, h, seeds=seeds, labels="nearest", accelerate=True)

        _, a = timed(plain)
        _, b = timed(fast)
        t_plain, t_fast = median_time(plain, repeats=3), median_time(fast, repeats=3)
        ka, kb = int(a.n_clusters), int(b.n_clusters)
        ca, cb = np.asarray(a.centers[:ka]), np.asarray(b.centers[:kb])
        gap = max(nearest(ca, cb)[1].max(), nearest(cb, ca)[1].max()) / h
        moved = np.mean(nearest(np.asarray(b.modes), ca)[0] != nearest(np.asarray(a.modes), ca)[0])
        rows.append(
            [
                name,
                f"{h:.3g}",
                len(seeds),
                int(a.n_iter),
                f"{int(b.n_iter)} ({3 * int(b.n_iter)} steps)",
                f"{t_plain:.2f}",
                f"{t_fast:.2f}",
                f"{t_plain / t_fast:.1f}x",
                f"{ka} / {kb}",
                f"{gap:.2g}",
                f"{adjusted_rand_score(np.asarray(a.labels), np.asarray(b.labels)):.4f}",
                f"{moved:.2%}",
            ]
        )
        print(rows[-1], flush=True)
    write_result(
        "bench-accelerate",
        "SQUAREM-accelerated Gaussian mean shift against plain steps",
        [
            "data",
            "h",
            "seeds",
            "plain steps",
            "SQUAREM cycles",
            "plain (s)",
            "SQUAREM (s)",
            "speed-up",
            "clusters plain / SQUAREM",
            "largest centre gap (h)",
            "ARI of labels",
            "seeds in another cluster",
        ],
        rows,
        __doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0],
    )


if __name__ == "__main__":
    main()
