"""jaxshift vs the tutorial's loop, on the tutorial's example (two 100-point blobs, h = 2).

The baseline is the tutorial's algorithm as it is written there (a Python loop over the points, NumPy inside), run to
its own tolerance; it is blurring mean shift and ends with one cluster. jaxshift runs plain (non-blurring) Gaussian
mean shift, which finds the two clusters, and blurring mean shift with its structure-based stopping rule.

    python experiments/bench_tutorial.py
"""

from __future__ import annotations

import jax
import numpy as np
from _common import median_time, timed, write_result

import jaxshift
from jaxshift.demo import tutorial_data


def tutorial_loop(X, bandwidth=2.0, max_iter=100, tol=1e-3):
    """The tutorial's mean_shift, unchanged in substance."""

    def gaussian_kernel(distance, bandwidth):
        return np.exp(-0.5 * (distance / bandwidth) ** 2) / (bandwidth * np.sqrt(2 * np.pi))

    points = np.copy(X)
    for _ in range(max_iter):
        new_points = np.zeros_like(points)
        for i in range(points.shape[0]):
            distances = np.linalg.norm(points - points[i], axis=1)
            weights = gaussian_kernel(distances, bandwidth)
            new_points[i] = np.sum(weights[:, np.newaxis] * points, axis=0) / np.sum(weights)
        if np.max(np.linalg.norm(new_points - points, axis=1)) < tol:
            break
        points = new_points
    centers = np.unique(np.round(points, decimals=2), axis=0)
    return centers


def main() -> None:
    X = tutorial_data()
    base = median_time(tutorial_loop, X, repeats=5)
    n_base = len(tutorial_loop(X))
    plain = jax.jit(lambda X, h: jaxshift.mean_shift(X, h))
    blur = jax.jit(lambda X, h: jaxshift.blurring_mean_shift(X, h))
    rows = [["tutorial loop (blurring, to its tolerance)", n_base, "-", f"{base * 1e3:.1f}", "1x"]]
    for name, fn in [("jaxshift.mean_shift (Gaussian)", plain), ("jaxshift.blurring_mean_shift", blur)]:
        cold, result = timed(fn, X, 2.0)
        warm = median_time(fn, X, 2.0, repeats=50)
        rows.append([name, int(result.n_clusters), f"{cold:.2f}", f"{warm * 1e3:.2f}", f"{base / warm:.0f}x"])
    write_result(
        "bench-tutorial",
        "jaxshift vs the tutorial's loop on its example (n = 200, h = 2)",
        ["method", "clusters", "cold s", "warm ms (median)", "speed-up warm"],
        rows,
        "Target: >= 100x warm. The tutorial's loop collapses its two blobs into one cluster.",
    )


if __name__ == "__main__":
    main()
