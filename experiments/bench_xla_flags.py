"""XLA's CPU fusion code generators: compile time and run time of mean shift with the newer one (XLA's default)
and the older one (``--xla_cpu_use_fusion_emitters=false``, what the command line and the test suite use).

Each configuration runs in a fresh process (no compilation cache), alternating, ``ROUNDS`` times: the first call
(compiling) and the median of 5 warm calls, float32 2-D make_blobs(5 centres, std 1): the flat kernel on 10000
points (bandwidth 1.5, the neighbour-cell path) and the Gaussian on 3000 (bandwidth 0.5). Medians over the rounds.

    python experiments/bench_xla_flags.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from _common import write_result

ROUNDS = 3
CASES = [("flat", 10000, 1.5), ("gaussian", 3000, 0.5)]
FLAGS = {
    "newer (XLA's default)": "",
    "older (--xla_cpu_use_fusion_emitters=false)": "--xla_cpu_use_fusion_emitters=false",
}

CHILD = r"""
import json, statistics, sys, time
import jax, numpy as np, jaxshift
from sklearn.datasets import make_blobs
X, _ = make_blobs(10000, centers=5, cluster_std=1.0, random_state=0)
X = X.astype(np.float32)
out = []
for kernel, n, h in json.loads(sys.argv[1]):
    start = time.perf_counter()
    jaxshift.mean_shift(X[:n], h, kernel=kernel).labels.block_until_ready()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        jaxshift.mean_shift(X[:n], h, kernel=kernel).labels.block_until_ready()
        warm.append(time.perf_counter() - start)
    out.append([cold, statistics.median(warm)])
print(json.dumps(out))
"""


def run(flags: str) -> list:
    env = dict(os.environ, XLA_FLAGS=flags)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(CASES)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    results = {label: [] for label in FLAGS}
    for _ in range(ROUNDS):
        for label, flags in FLAGS.items():
            results[label].append(run(flags))
    rows = []
    for i, (kernel, n, h) in enumerate(CASES):
        for label in FLAGS:
            cold = statistics.median(r[i][0] for r in results[label])
            warm = statistics.median(r[i][1] for r in results[label])
            rows.append([f"{kernel}, n = {n}, h = {h}", label, f"{cold:.2f}", f"{warm:.3f}"])
    write_result(
        "xla-flags",
        "Mean shift under XLA's two CPU fusion code generators (fresh processes, no compilation cache)",
        ["case", "fusion code generator", "first call (s)", "warm call, median (s)"],
        rows,
        notes=f"Medians over {ROUNDS} alternating rounds, each a fresh process. The machine (2 cores) is shared "
        "with other work: compare the rows of one case.",
    )


if __name__ == "__main__":
    main()
