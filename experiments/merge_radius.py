"""Evidence for the merge radius of the Gaussian kernel (docs/math.md, section 6).

For each data set and bandwidth: run Gaussian mean shift at the default tol = 1e-3, and again to tol = 1e-8 to find
the modes almost exactly (those within 1e-4 h are one mode). Report, in bandwidths:
- the spread: how far a seed stopped at tol = 1e-3 lies from its exact mode (largest over seeds);
- the closest pair of distinct exact modes, and the depth of the density's saddle on the segment between them
  (1 - min density on the segment / lower mode density);
- how many distinct modes there are, how many clusters a merge radius of 1 gives, and the depth of the deepest
  saddle between two modes that radius merges.

    python experiments/merge_radius.py
"""

from __future__ import annotations

import itertools

import jax
import numpy as np
from _common import write_result
from sklearn.datasets import load_iris, make_blobs
from sklearn.preprocessing import StandardScaler

import jaxshift
from jaxshift.demo import tutorial_data
from jaxshift.solvers.clusters import merge_modes

jax.config.update("jax_enable_x64", True)


def data_sets():
    tut = tutorial_data()
    blobs, _ = make_blobs(n_samples=400, centers=4, cluster_std=[0.5, 1.0, 1.5, 0.8], random_state=3)
    blobs5, _ = make_blobs(n_samples=300, centers=3, n_features=5, random_state=1)
    iris = StandardScaler().fit_transform(load_iris().data)
    aniso = np.random.default_rng(0).normal(size=(300, 2)) * [3.0, 0.5]
    return [
        ("tutorial", tut, [0.5, 1.0, 2.0]),
        ("blobs, unequal spreads", blobs, [0.4, 0.8, 1.5]),
        ("5-D blobs", blobs5, [1.0, 2.0]),
        ("iris (standardised)", iris, [0.4, 0.7, 1.0]),
        ("anisotropic Gaussian", aniso, [0.3, 0.6]),
    ]


def log_density(points, X, h):
    sums = jaxshift.kernel_sums(
        points, X, h, kernel=jaxshift.get_kernel("gaussian"), profile="density", with_moment=False
    )
    return np.log(np.asarray(sums.total)) + np.asarray(sums.log_scale)


def saddle_depth(a, b, X, h, steps=64):
    t = np.linspace(0.0, 1.0, steps)[:, None]
    logf = log_density(a + t * (b - a), X, h)
    return 1.0 - np.exp(logf.min() - min(logf[0], logf[-1]))


def main() -> None:
    rows = []
    for name, X, bandwidths in data_sets():
        for h in bandwidths:
            loose = jaxshift.mean_shift(X, h)
            tight = jaxshift.mean_shift(X, h, tol=1e-8, max_iter=50_000)
            exact = merge_modes(
                tight.modes, np.zeros(len(X)), np.ones(len(X), bool), h, radius=1e-4, max_clusters=len(X)
            )
            n_modes = int(exact.n_clusters)
            modes = np.asarray(exact.centers[:n_modes])
            owner = np.asarray(exact.mode_labels)
            spread = np.max(np.linalg.norm(np.asarray(loose.modes) - modes[owner], axis=1)) / h
            pairs = [
                (np.linalg.norm(modes[i] - modes[j]) / h, i, j) for i, j in itertools.combinations(range(n_modes), 2)
            ]
            closest = min(pairs) if pairs else None
            merged_depths = [saddle_depth(modes[i], modes[j], X, h) for d, i, j in pairs if d <= 1.0]
            rows.append(
                [
                    name,
                    h,
                    n_modes,
                    f"{spread:.1e}",
                    "-" if closest is None else f"{closest[0]:.2f}",
                    "-"
                    if closest is None
                    else f"{100 * saddle_depth(modes[closest[1]], modes[closest[2]], X, h):.2f} %",
                    int(loose.n_clusters),
                    "-" if not merged_depths else f"{100 * max(merged_depths):.2f} %",
                ]
            )
            print(rows[-1], flush=True)
    write_result(
        "merge-radius",
        "Gaussian mean shift: seed spread at tol = 1e-3 against the distances between distinct modes (in bandwidths)",
        [
            "data",
            "h",
            "distinct modes",
            "largest seed spread / h",
            "closest modes / h",
            "saddle depth (closest)",
            "clusters (merge radius 1 h)",
            "deepest saddle merged",
        ],
        rows,
        "A merge radius must exceed the seed spread and should not join modes separated by a real valley.",
    )


if __name__ == "__main__":
    main()
