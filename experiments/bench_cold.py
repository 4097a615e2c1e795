"""Cold start: what a new user waits for on the first calls, and on calls with a new n.

Each configuration runs in a fresh process (no compilation cache): the first `mean_shift` on 1000 2-D points
(import excluded), then 12 calls with n = 1000 + 50 k (a program whose data size varies), counting compilations of the
solver (jax.monitoring) and timing each call. "padded" is the library as it is: eager calls pad n to size classes
(four per octave, jaxshift/api/sizes.py); "one program per n" turns the padding off (every n its own program, as
before). Float32 data (JAX's default), Gaussian and flat kernels.

    python experiments/bench_cold.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from _common import write_result

SIZES = [1000 + 50 * k for k in range(13)]

CHILD = r"""
import json, sys, time
import numpy as np
import jax
import jaxshift
from jaxshift.api import sizes

if sys.argv[1] == "off":
    sizes.size_class = lambda n: n
compiles = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, duration, fun_name="?", **_: compiles.append(fun_name)
    if event == "/jax/core/compile/backend_compile_duration" else None
)
kernel = sys.argv[2]
rng = np.random.default_rng(0)
X = np.vstack([rng.normal(c, 1.0, (2000, 2)) for c in [(0, 0), (8, 0), (0, 8)]]).astype(np.float32)
rng.shuffle(X)
out = []
for n in json.loads(sys.argv[3]):
    start = time.perf_counter()
    before = len(compiles)
    jaxshift.mean_shift(X[:n], 1.0, kernel=kernel).labels.block_until_ready()
    out.append([n, time.perf_counter() - start, sum("solve" in f for f in compiles[before:])])
print(json.dumps(out))
"""


def run(mode: str, kernel: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, kernel, json.dumps(SIZES)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from jaxshift.api.sizes import size_class

    classes = sorted({size_class(n) for n in SIZES})
    rows = []
    for kernel in ("gaussian", "flat"):
        for mode, label in (("on", "padded (size classes)"), ("off", "one program per n")):
            calls = run(mode, kernel)
            first = calls[0][1]
            later = [seconds for _, seconds, _ in calls[1:]]
            n_compiles = sum(c for _, _, c in calls)
            rows.append(
                [
                    kernel,
                    label,
                    f"{first:.2f}",
                    f"{statistics.median(later):.2f}",
                    f"{sum(seconds for _, seconds, _ in calls):.1f}",
                    n_compiles,
                ]
            )
    write_result(
        "bench-cold",
        "Cold start: the first mean_shift call, then 12 calls with a new n (1050 ... 1600), each configuration in a "
        "fresh process",
        [
            "kernel",
            "eager calls",
            "first call, n = 1000 (s)",
            "later calls, median (s)",
            "all 13 calls (s)",
            "solver compilations",
        ],
        rows,
        notes=f"Float32 2-D data (three blobs), bandwidth 1.0, no compilation cache. With size classes the "
        f"{len(SIZES)} sizes fall in {len(classes)} classes ({', '.join(map(str, classes))}). The machine (2 cores) "
        "is shared with other work: compare the rows of one kernel.",
    )


if __name__ == "__main__":
    main()
