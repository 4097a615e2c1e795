"""The automatic bandwidth on rounded data (values on a lattice: measurements of limited precision, counts).

A held-out group of its own, fixed (and committed) before ``bandwidth="auto"`` treated rounded data differently:
none of these sets, nor anything like them, is in the dev suite except iris (whose rounding to 0.1 cm prompted the
question). One population must give one cluster (the largest cluster's share >= 98%); blobs are scored by the
adjusted Rand index.

Candidates: scikit-learn's MeanShift with its default bandwidth and with the dev suite's best single quantile (0.15);
jaxshift's gradient UCV criterion then the significance merge (the rule of ``"auto"`` for continuous data), the
plug-in gradient bandwidth then the same merge, and ``"auto"`` as the library has it when this runs.

    python experiments/auto_lattice.py
"""

from __future__ import annotations

import numpy as np
from _common import write_result
from auto_heldout import describe, significant_labels
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.datasets import make_blobs

import jaxshift

DEV_QUANTILE = 0.15


def suite():
    rng = np.random.default_rng(4242)
    out = [
        ("one normal, 2-D, rounded to 0.1", np.round(rng.normal(size=(600, 2)), 1), None),
        ("one normal, 3-D, rounded to 0.25", np.round(rng.normal(size=(600, 3)) * 4) / 4, None),
        ("one gamma(3) x 10, 2-D, integers", np.round(rng.gamma(3.0, size=(600, 2)) * 10), None),
    ]
    X, y = make_blobs(n_samples=600, centers=3, random_state=21)
    out.append(("3 blobs, rounded to 0.5", np.round(X * 2) / 2, y))
    X, y = make_blobs(n_samples=600, centers=[[0, 0], [6, 0], [0, 6], [6, 6]], random_state=22)
    out.append(("4 blobs 6 apart, integers", np.round(X), y))
    X, y = make_blobs(n_samples=600, centers=4, n_features=4, random_state=23)
    out.append(("4-D blobs, rounded to 0.2", np.round(X * 5) / 5, y))
    return out


def main() -> None:
    rows = []
    for name, X, y in suite():
        columns = [
            MeanShift(bandwidth=estimate_bandwidth(X, quantile=0.3)).fit(X).labels_,
            MeanShift(bandwidth=estimate_bandwidth(X, quantile=DEV_QUANTILE)).fit(X).labels_,
            significant_labels(X, method="gradient_ucv"),
            significant_labels(X, method="plugin_gradient"),
            jaxshift.mean_shift(X, "auto").labels,
        ]
        distinct = min(len(np.unique(column)) for column in X.T)
        rows.append([name, f"{X.shape[0]} x {X.shape[1]}", distinct] + [describe(c, y) for c in columns])
        print(rows[-1], flush=True)
    write_result(
        "auto-lattice",
        "Automatic bandwidths on rounded data: clusters (largest cluster's share, ARI)",
        [
            "data",
            "n x d",
            "fewest distinct values in a column",
            "sklearn default",
            f"sklearn q={DEV_QUANTILE}",
            "gradient UCV + merge",
            "plug-in + merge",
            'jaxshift "auto"',
        ],
        rows,
        "One population must give one cluster (largest share >= 98%). The suite was fixed before any run.",
    )


if __name__ == "__main__":
    main()
