"""jaxshift vs scikit-learn's MeanShift, side by side in one run: flat kernel, bandwidth 1.5, every point a seed.

Data: make_blobs(n, centers=5, cluster_std=1.0, random_state=0), 2-D, float64 (the settings of issue 16). Measured:

- scikit-learn's ``MeanShift(bandwidth=1.5, n_jobs=2).fit`` (this machine's 2 cores): median of ``--sk-repeats`` runs
  up to 5000 points, one run above;
- jaxshift's drop-in ``jaxshift.sklearn.MeanShift(bandwidth=1.5).fit`` on the same float64 data: float32 climb
  finished in float64; and the same with the float32 phase switched off (float64 all the way, the drop-in before
  the mixed climb), to measure the gain;
- the functional float32 path, ``jax.jit(jaxshift.mean_shift)(X.astype(float32), 1.5, kernel="flat",
  labels="nearest")``.

jaxshift times are warm (median of ``--repeats`` calls after a first, compiling one); the first call is reported as
cold. Parity: the drop-in's centres against scikit-learn's (max difference in bandwidths), labels and n_iter_.

    python experiments/bench_sklearn.py [--sizes 3000 10000 20000] [--sk-repeats 3] [--repeats 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess

import jax
import numpy as np
from _common import RESULTS, median_time, timed, write_result
from sklearn.cluster import MeanShift
from sklearn.datasets import make_blobs

import jaxshift
from jaxshift import sklearn as js

H = 1.5


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=RESULTS, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "../../jaxshift")
    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes in jaxshift/)" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 10000, 20000])
    parser.add_argument("--sk-repeats", type=int, default=3, help="scikit-learn runs per size (1 above 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="warm jaxshift runs per size")
    parser.add_argument("--rounds", type=int, default=3, help="side-by-side rounds per size (medians reported)")
    args = parser.parse_args()

    functional = jax.jit(lambda X: jaxshift.mean_shift(X, H, kernel="flat", labels="nearest"))
    mixed_allowed = js._climbs_in_float32

    def measure(X, n):
        """One side-by-side round at n: seconds of scikit-learn and of the three jaxshift paths, and the results."""
        repeats = args.repeats if n <= 5000 else max(1, args.repeats // 2)
        sk_runs = [timed(MeanShift(bandwidth=H, n_jobs=2).fit, X) for _ in range(1 if n > 5000 else args.sk_repeats)]
        out = dict(sk=statistics.median(t for t, _ in sk_runs), sk_model=sk_runs[0][1], sk_runs=len(sk_runs))
        out["cold"], out["ours"] = timed(js.MeanShift(bandwidth=H).fit, X)
        out["warm"] = median_time(js.MeanShift(bandwidth=H).fit, X, repeats=repeats)
        js._climbs_in_float32 = lambda *a: False  # float64 all the way: the drop-in without the float32 phase
        try:
            js.MeanShift(bandwidth=H).fit(X)
            out["warm64"] = median_time(js.MeanShift(bandwidth=H).fit, X, repeats=repeats)
        finally:
            js._climbs_in_float32 = mixed_allowed
        X32 = X.astype(np.float32)
        out["f_cold"], out["f_result"] = timed(functional, X32)
        out["f_warm"] = median_time(functional, X32, repeats=repeats)
        return out

    def ratios(rounds, key):
        """The median over rounds of scikit-learn's time over ``key``'s, and the range."""
        values = sorted(r["sk"] / r[key] for r in rounds)
        return f"{statistics.median(values):.0f}x ({values[0]:.0f}-{values[-1]:.0f})"

    rows = []
    for n in args.sizes:
        X, _ = make_blobs(n_samples=n, centers=5, cluster_std=1.0, random_state=0)
        rounds = [measure(X, n) for _ in range(args.rounds)]
        first = rounds[0]
        sk, ours, f_result = first["sk_model"], first["ours"], first["f_result"]
        k = int(f_result.n_clusters)
        same = ours.cluster_centers_.shape == sk.cluster_centers_.shape
        diff = np.abs(ours.cluster_centers_ - sk.cluster_centers_).max() / H if same else float("nan")
        f_same = k == len(sk.cluster_centers_)
        f_diff = np.abs(np.asarray(f_result.centers[:k]) - sk.cluster_centers_).max() / H if f_same else float("nan")

        def median(key, rounds=rounds):
            return statistics.median(r[key] for r in rounds)

        rows.append(
            [
                n,
                f"{len(ours.cluster_centers_)} / {len(sk.cluster_centers_)}",
                f"{diff:.1e}",
                f"{np.mean(ours.labels_ == sk.labels_):.4f}",
                f"{ours.n_iter_} / {sk.n_iter_}",
                f"{median('sk'):.2f} ({first['sk_runs']} x {args.rounds})",
                f"{median('cold'):.2f}",
                f"{median('warm'):.3f}",
                ratios(rounds, "warm"),
                f"{median('warm64'):.3f}",
                ratios(rounds, "warm64"),
                f"{median('f_cold'):.2f}",
                f"{median('f_warm'):.3f}",
                ratios(rounds, "f_warm"),
                f"{f_diff:.1e}",
            ]
        )
        print(rows[-1], flush=True)
    write_result(
        "bench-sklearn",
        "jaxshift vs scikit-learn MeanShift: flat kernel, bandwidth 1.5, all points as seeds, "
        "make_blobs(5 centres, std 1), 2-D",
        [
            "n",
            "clusters (drop-in / sklearn)",
            "drop-in max centre diff / h",
            "drop-in labels equal",
            "n_iter_ (drop-in / sklearn)",
            "sklearn s (runs)",
            "drop-in f64 cold s",
            "drop-in f64 warm s",
            "drop-in speed-up",
            "drop-in f64-only warm s",
            "f64-only speed-up",
            "functional f32 cold s",
            "functional f32 warm s",
            "functional speed-up",
            "functional centre diff / h",
        ],
        rows,
        f"Measured at commit {commit()}, side by side in one process; scikit-learn with n_jobs=2. The drop-in runs on "
        "the float64 data: a float32 climb finished in float64 (jaxshift/sklearn.py, _climb_mixed); 'f64-only' is the "
        "same estimator with the float32 phase off. The functional path runs on the data cast to float32, its centres "
        f"compared to scikit-learn's float64 ones. Each size is measured in {args.rounds} side-by-side rounds; "
        "seconds are medians over the rounds; a speed-up is the median over the rounds of scikit-learn's time over "
        f"jaxshift's warm median ({args.repeats} calls up to 5000 points, {max(1, args.repeats // 2)} above), with "
        "its range in parentheses. Targets (issue 16): drop-in >= 60x at n = 3000 and >= 100x at 20k, functional "
        "float32 >= 100x at 10k. The machine is shared by several jobs: seconds are noisy, compare ratios.",
    )


if __name__ == "__main__":
    main()
