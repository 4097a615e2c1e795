"""Which automatic bandwidth clusters best? Adjusted Rand index on a varied suite of labelled data.

Candidates for jaxshift's bandwidth="auto" (Gaussian kernel, labels by basin of attraction) against scikit-learn's
MeanShift with its default bandwidth (estimate_bandwidth, quantile 0.3) and with hand-picked quantiles: the single
quantile best over the whole suite, and (for reference, not attainable without the labels) the best per data set.

    python experiments/auto_bandwidth.py
"""

from __future__ import annotations

import numpy as np
from _common import write_result
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.datasets import load_iris, load_wine, make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

import jaxshift
from jaxshift import clustering_bandwidth
from jaxshift.demo import tutorial_data
from jaxshift.density.clustering import AUTO_METHODS

QUANTILES = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def suite():
    out = []
    X, y = make_blobs(n_samples=600, centers=3, random_state=0)
    out.append(("blobs, 3 equal", X, y))
    X, y = make_blobs(n_samples=600, centers=3, cluster_std=[0.5, 1.5, 1.0], random_state=1)
    out.append(("blobs, unequal spreads", X, y))
    X, y = make_blobs(n_samples=[400, 120, 60], centers=[[0, 0], [6, 0], [3, 5]], random_state=2)
    out.append(("blobs, unequal sizes", X, y))
    X, y = make_blobs(n_samples=600, centers=3, random_state=170)
    out.append(("blobs, anisotropic", X @ np.array([[0.6, -0.64], [-0.41, 0.85]]), y))
    X, y = make_blobs(n_samples=600, centers=4, n_features=3, random_state=3)
    out.append(("3-D blobs", X, y))
    X, y = make_blobs(n_samples=600, centers=4, n_features=5, random_state=4)
    out.append(("5-D blobs", X, y))
    iris = load_iris()
    out.append(("iris (standardised)", StandardScaler().fit_transform(iris.data), iris.target))
    wine = load_wine()
    out.append(("wine (standardised)", StandardScaler().fit_transform(wine.data), wine.target))
    out.append(("tutorial example", tutorial_data(), np.repeat([0, 1], 100)))
    return out


def main() -> None:
    data = suite()
    sk_scores = np.zeros((len(data), len(QUANTILES)))
    ours = {m: [] for m in AUTO_METHODS}
    rows = []
    for i, (name, X, y) in enumerate(data):
        for j, q in enumerate(QUANTILES):
            sk_scores[i, j] = adjusted_rand_score(
                y, MeanShift(bandwidth=estimate_bandwidth(X, quantile=q)).fit(X).labels_
            )
        for method in AUTO_METHODS:
            h = float(clustering_bandwidth(X, method=method))
            result = jaxshift.mean_shift(X, h)
            ours[method].append((adjusted_rand_score(y, np.asarray(result.labels)), h, int(result.n_clusters)))
        print(name, sk_scores[i].round(2), {m: ours[m][-1] for m in AUTO_METHODS}, flush=True)
    best_q = int(np.argmax(sk_scores.mean(axis=0)))
    default_q = QUANTILES.index(0.3)
    for i, (name, X, y) in enumerate(data):
        rows.append(
            [
                name,
                f"{X.shape[0]} x {X.shape[1]}",
                len(np.unique(y)),
                f"{sk_scores[i, default_q]:.3f}",
                f"{sk_scores[i, best_q]:.3f}",
                f"{sk_scores[i].max():.3f}",
            ]
            + [f"{ours[m][i][0]:.3f} ({ours[m][i][2]})" for m in AUTO_METHODS]
        )
    rows.append(
        [
            "**mean**",
            "",
            "",
            f"{sk_scores[:, default_q].mean():.3f}",
            f"{sk_scores[:, best_q].mean():.3f}",
            f"{sk_scores.max(axis=1).mean():.3f}",
        ]
        + [f"{np.mean([s[0] for s in ours[m]]):.3f}" for m in AUTO_METHODS]
    )
    write_result(
        "auto-bandwidth",
        "Adjusted Rand index of automatic bandwidths (jaxshift, Gaussian kernel) vs scikit-learn MeanShift",
        [
            "data",
            "n x d",
            "classes",
            "sklearn default (q=0.3)",
            f"sklearn best single q ({QUANTILES[best_q]})",
            "sklearn best q per data set (oracle)",
        ]
        + [f"jaxshift {m} (clusters)" for m in AUTO_METHODS],
        rows,
        f"Quantiles tried for scikit-learn: {QUANTILES}. The per-data-set oracle picks the quantile with the labels.",
    )


if __name__ == "__main__":
    main()
