"""Grid mean shift (MeanShift++) on 1e6 2-D points: time, peak memory, and agreement with exact mean shift.

Data: 1e6 float32 points, six N(c, I) blobs whose centres are 12 standard deviations apart (make_blobs,
random_state=0). Cell side h = 1.0 = the blobs' standard deviation, so a point's 3 x 3 neighbourhood spans +-1.5
standard deviations; the exact method uses the Gaussian kernel with bandwidth 1.0, the same scale.

A second data set, "overlapping blobs", is make_blobs' own: six centres drawn in [-10, 10]^2 (random_state=0), some
of them close enough to overlap, where the approximation and the exact method can differ. A third, "touching blobs":
four N(c, I) blobs on a square of side 3 (3 standard deviations apart, random_state=0), which the grid's blurring
merges into one cluster while the exact Gaussian keeps four.

The refined grid mode (`grid_mean_shift(X, h, refine=True)`: exact Gaussian mean shift with bandwidth h, seeded and
sped up by the grid's cells) is compared with the same exact method seeded from bin seeds, on all three.

Exact mean shift with every point a seed is out of reach at 1e6 on a laptop CPU (~1e12 pairs per step), so the
grid mode is compared with
  (a) exact `jaxshift.mean_shift` (every point a seed) on a 20k subsample, against the grid mode on that subsample;
  (b) exact `jaxshift.mean_shift` on all 1e6 points, seeded from `jaxshift.bin_seeds(X, h)`, labels="nearest".

Every configuration runs in a fresh process; its max RSS is the peak memory of the whole process (Python, JAX,
the data). Targets: < 30 s, ARI >= 0.99, < 2 GB.

    python experiments/bench_grid.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import write_result
from sklearn.metrics import adjusted_rand_score

N = 1_000_000
SUBSAMPLE = 20_000
H = 1.0
WARM_REPEATS = 5

CHILD = r"""
import json, resource, statistics, sys, time
import numpy as np, jax
from sklearn.datasets import make_blobs
import jaxshift

mode, out = sys.argv[1], sys.argv[2]
N, SUBSAMPLE, H, REPEATS = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
if mode.endswith("-overlapping"):
    mode = mode.removesuffix("-overlapping")
    X, truth = make_blobs(N, centers=6, cluster_std=1.0, random_state=0)  # centres drawn in [-10, 10]^2
elif mode.endswith("-touching"):
    mode = mode.removesuffix("-touching")
    X, truth = make_blobs(N, centers=3.0 * np.array([[0, 0], [1, 0], [0, 1], [1, 1]]), cluster_std=1.0, random_state=0)
else:
    centres = 12.0 * np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 2], [2, 0.5]])
    X, truth = make_blobs(N, centers=centres, cluster_std=1.0, random_state=0)
X = X.astype(np.float32)
sub = np.random.default_rng(1).choice(N, SUBSAMPLE, replace=False)

def timed(fn):
    start = time.perf_counter()
    value = jax.block_until_ready(fn())
    return time.perf_counter() - start, value

info = {}
if mode == "grid":
    cold, r = timed(lambda: jaxshift.grid_mean_shift(X, H))
    warm = statistics.median(timed(lambda: jaxshift.grid_mean_shift(X, H))[0] for _ in range(REPEATS))
    info = {"cold": cold, "warm": warm, "iterations": int(r.n_iter), "clusters": int(r.n_clusters),
            "sizes": np.asarray(r.cluster_sizes[:8]).tolist(), "converged": bool(r.all_converged)}
    np.save(out, np.asarray(r.labels))
elif mode == "grid-refine":
    cold, r = timed(lambda: jaxshift.grid_mean_shift(X, H, refine=True))
    warm = statistics.median(timed(lambda: jaxshift.grid_mean_shift(X, H, refine=True))[0] for _ in range(REPEATS))
    info = {"cold": cold, "warm": warm, "iterations": int(r.n_iter), "clusters": int(r.n_clusters),
            "sizes": np.asarray(r.cluster_sizes[:8]).tolist(), "converged": bool(r.all_converged)}
    np.save(out, np.asarray(r.labels))
elif mode == "grid-jit":
    # the fully static path (every point a row of its own), as it runs inside a caller's jit
    fn = jax.jit(lambda data: jaxshift.grid_mean_shift(data, H))
    cold, r = timed(lambda: fn(X))
    warm = statistics.median(timed(lambda: fn(X))[0] for _ in range(max(1, REPEATS // 2)))
    info = {"cold": cold, "warm": warm, "iterations": int(r.n_iter), "clusters": int(r.n_clusters)}
    np.save(out, np.asarray(r.labels))
elif mode == "exact-binseeds":
    start = time.perf_counter()
    seeds = jaxshift.bin_seeds(X, H)
    cold, r = timed(lambda: jaxshift.mean_shift(X, H, seeds=seeds, labels="nearest"))
    info = {"cold": time.perf_counter() - start, "iterations": int(r.n_iter), "clusters": int(r.n_clusters),
            "seeds": len(seeds)}
    np.save(out, np.asarray(r.labels))
elif mode == "exact-subsample":
    cold, r = timed(lambda: jaxshift.mean_shift(X[sub], H))
    info = {"cold": cold, "iterations": int(r.n_iter), "clusters": int(r.n_clusters)}
    np.save(out, np.asarray(r.labels))
elif mode == "grid-subsample":
    cold, r = timed(lambda: jaxshift.grid_mean_shift(X[sub], H))
    warm = statistics.median(timed(lambda: jaxshift.grid_mean_shift(X[sub], H))[0] for _ in range(REPEATS))
    info = {"cold": cold, "warm": warm, "iterations": int(r.n_iter), "clusters": int(r.n_clusters)}
    np.save(out, np.asarray(r.labels))
elif mode == "truth":
    np.save(out, truth)
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **info}))
"""


def run(mode: str, folder: Path) -> tuple[dict, np.ndarray]:
    out = folder / f"{mode}.npy"
    args = [sys.executable, "-c", CHILD, mode, str(out), str(N), str(SUBSAMPLE), str(H), str(WARM_REPEATS)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    print(mode, info, flush=True)
    return info, np.load(out)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = {mode: run(mode, folder) for mode in ("truth", "grid", "grid-refine", "grid-jit", "exact-binseeds")}
        runs.update({mode: run(mode, folder) for mode in ("grid-subsample", "exact-subsample")})
        runs.update(
            {
                mode: run(mode, folder)
                for mode in (
                    "truth-overlapping",
                    "grid-overlapping",
                    "grid-refine-overlapping",
                    "exact-binseeds-overlapping",
                    "truth-touching",
                    "grid-touching",
                    "grid-refine-touching",
                    "exact-binseeds-touching",
                )
            }
        )
    truth = runs["truth"][1]
    grid_labels = runs["grid"][1]
    exact_labels = runs["exact-binseeds"][1]

    def ari(a, b):
        return f"{adjusted_rand_score(a, b):.4f}"

    def seconds(info, key):
        return f"{info[key]:.2f}" if key in info else ""

    rows = []
    for mode, label, against, reference in (
        ("truth", "baseline: Python + JAX + the data", None, None),
        ("grid", "grid_mean_shift, n = 1e6", "exact (bin seeds) / truth", (exact_labels, truth)),
        ("grid-refine", "grid_mean_shift(refine=True), n = 1e6", "exact (bin seeds) / truth", (exact_labels, truth)),
        ("grid-jit", "grid_mean_shift inside jit (no cell merging), n = 1e6", "grid_mean_shift", (grid_labels,)),
        ("exact-binseeds", "mean_shift, Gaussian, bin seeds, n = 1e6", "truth", (truth,)),
        ("grid-subsample", "grid_mean_shift, n = 20k subsample", "exact (all seeds) / truth", None),
        ("exact-subsample", "mean_shift, Gaussian, all seeds, n = 20k subsample", "", None),
        (
            "grid-overlapping",
            "overlapping blobs: grid_mean_shift, n = 1e6",
            "exact (bin seeds) / truth",
            (runs["exact-binseeds-overlapping"][1], runs["truth-overlapping"][1]),
        ),
        (
            "grid-refine-overlapping",
            "overlapping blobs: grid_mean_shift(refine=True), n = 1e6",
            "exact (bin seeds) / truth",
            (runs["exact-binseeds-overlapping"][1], runs["truth-overlapping"][1]),
        ),
        (
            "exact-binseeds-overlapping",
            "overlapping blobs: mean_shift, Gaussian, bin seeds, n = 1e6",
            "truth",
            (runs["truth-overlapping"][1],),
        ),
        (
            "grid-touching",
            "touching blobs: grid_mean_shift, n = 1e6",
            "exact (bin seeds) / truth",
            (runs["exact-binseeds-touching"][1], runs["truth-touching"][1]),
        ),
        (
            "grid-refine-touching",
            "touching blobs: grid_mean_shift(refine=True), n = 1e6",
            "exact (bin seeds) / truth",
            (runs["exact-binseeds-touching"][1], runs["truth-touching"][1]),
        ),
        (
            "exact-binseeds-touching",
            "touching blobs: mean_shift, Gaussian, bin seeds, n = 1e6",
            "truth",
            (runs["truth-touching"][1],),
        ),
    ):
        info, labels = runs[mode]
        if mode == "grid-subsample":
            sub = np.random.default_rng(1).choice(N, SUBSAMPLE, replace=False)
            reference = (runs["exact-subsample"][1], truth[sub])
        scores = " / ".join(ari(ref, labels) for ref in reference) if reference else ""
        extra = ", ".join(f"{k} {info[k]}" for k in ("clusters", "iterations", "seeds", "sizes") if k in info)
        rows.append(
            [label, seconds(info, "cold"), seconds(info, "warm"), f"{info['rss_mb']:.0f}", against or "", scores, extra]
        )

    grid = runs["grid"][0]
    refined = [runs[m][0]["warm"] for m in ("grid-refine", "grid-refine-overlapping", "grid-refine-touching")]
    write_result(
        "bench-grid",
        "Grid mean shift (MeanShift++), plain and refined, on 1e6 2-D points: cell side h = 1 (= blob std), float32",
        ["configuration", "seconds (cold)", "seconds (warm, median)", "max RSS (MB)", "ARI against", "ARI", "result"],
        rows,
        f"Targets: < 30 s, ARI >= 0.99 against the exact method, < 2 GB. Measured: grid mode {grid['cold']:.2f} s cold "
        f"(with compilation), {grid['warm']:.2f} s warm (median of {WARM_REPEATS}), max RSS {grid['rss_mb']:.0f} MB; "
        "ARI against exact mean shift seeded from bin seeds at 1e6 in the table. Every configuration runs in a fresh "
        "process; max RSS is the whole process's. The exact 1e6 run is timed once, cold, with bin seeding included. "
        "The grid mode would leave a point with no neighbour in its 3x3 cells as a singleton cluster in the tails "
        f"(here it found {grid['clusters']} clusters, the exact method {runs['exact-binseeds'][0]['clusters']}). "
        "On the overlapping blobs the grid's box neighbourhood and the Gaussian kernel draw different boundaries "
        "between touching blobs, and the agreement is lower (see the table); neither recovers the six generating "
        "blobs there. Refined (exact Gaussian mean shift with bandwidth h from the distinct modes of the "
        "count-weighted cells, labels by the nearest centre): "
        f"{min(refined):.2f}-{max(refined):.2f} s warm on the three sets, ARI against the exact method from bin seeds "
        "in the table. Targets for the refined mode: ARI >= 0.99 against the exact method on touching blobs, < 3 s "
        "warm. The machine is shared and was busy with other work: the seconds are noisy, compare ratios.",
    )


if __name__ == "__main__":
    main()
