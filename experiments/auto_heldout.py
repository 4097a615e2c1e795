"""The automatic bandwidth on data sets no candidate was tuned on: one population (which must give
one cluster), and labelled tables and blobs not in ``auto_bandwidth.py``'s suite. The suite below was
fixed before any candidate was run on it.

For each data set: the number of clusters, the share of the largest cluster, and (where there are
classes) the adjusted Rand index, for jaxshift's candidate automatic bandwidths (Gaussian kernel,
labels by basin) and scikit-learn's MeanShift with its default bandwidth.

    python experiments/auto_heldout.py
"""

from __future__ import annotations

import numpy as np
from _common import write_result
from scipy import stats
from sklearn.cluster import MeanShift
from sklearn.datasets import load_breast_cancer, load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

import jaxshift

METHODS = ("stability", "normal_gradient", "gradient_ucv")


def suite():
    rng = np.random.default_rng(2026)
    out = []
    for d in (1, 2, 3, 5):
        out.append((f"one normal, {d}-D", rng.normal(size=(600, d)), None))
    cov = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]])
    out.append(("one correlated normal, 3-D", rng.multivariate_normal(np.zeros(3), cov, 600), None))
    out.append(("one log-normal, 2-D", np.exp(rng.normal(0, 0.5, (600, 2))), None))
    out.append(("one Student t(3), 2-D", stats.t.rvs(3, size=(600, 2), random_state=7), None))
    X, y = make_blobs(n_samples=600, centers=[[0, 0], [3.5, 0], [1.75, 3]], random_state=11)
    out.append(("touching blobs", X, y))
    X, y = make_blobs(n_samples=[300, 100, 40, 20], centers=[[0, 0], [8, 0], [0, 8], [8, 8]], random_state=12)
    out.append(("blobs, sizes 300/100/40/20", X, y))
    cancer = load_breast_cancer()
    X = PCA(3, random_state=0).fit_transform(StandardScaler().fit_transform(cancer.data))
    out.append(("breast cancer (PCA 3)", X, cancer.target))
    digits = load_digits()
    keep = np.isin(digits.target, [0, 1, 4, 6])
    X = PCA(4, random_state=0).fit_transform(StandardScaler().fit_transform(digits.data[keep]))
    out.append(("digits 0/1/4/6 (PCA 4)", X, digits.target[keep]))
    return out


def describe(labels, y):
    labels = np.asarray(labels)
    sizes = np.bincount(labels[labels >= 0])
    share = sizes.max() / len(labels)
    ari = "" if y is None else f", ARI {adjusted_rand_score(y, labels):.3f}"
    return f"{len(sizes)} ({share:.0%}{ari})"


def main() -> None:
    rows = []
    for name, X, y in suite():
        row = [name, f"{X.shape[0]} x {X.shape[1]}", "1" if y is None else str(len(np.unique(y)))]
        row.append(describe(MeanShift().fit(X).labels_, y))
        for method in METHODS:
            h = float(jaxshift.clustering_bandwidth(X, method=method))
            result = jaxshift.mean_shift(X, h)
            row.append(describe(result.labels, y))
        rows.append(row)
        print(" | ".join(row), flush=True)
    write_result(
        "auto-heldout",
        "Automatic bandwidths on held-out data: clusters (largest cluster's share, ARI)",
        ["data", "n x d", "classes", "sklearn default"] + [f"jaxshift {m}" for m in METHODS],
        rows,
        "One population must give one cluster (largest share >= 98%). The suite was fixed before any run.",
    )


if __name__ == "__main__":
    main()
