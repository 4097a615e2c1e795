"""Which automatic bandwidth clusters best? The dev suite, on which ``bandwidth="auto"`` is tuned.

Labelled data (adjusted Rand index) and, added for the rebuilt ``"auto"``, one-population data sets
of their own (which must give one cluster: the largest cluster's share >= 98%; none of them is in the
held-out suite of ``auto_heldout.py``). Candidates: scikit-learn's MeanShift with its default
bandwidth (estimate_bandwidth, quantile 0.3), with the single quantile best over the labelled sets and
(not attainable without the labels) the best per data set; jaxshift's old stability rule and the
normal-scale gradient rule and the plug-in gradient bandwidth (R ks ``Hpi(deriv.order=1)``'s scalar
form, added after the tuning as the literature's alternative), plain and followed by "auto"'s
significance merge (Gaussian kernel, labels by basin); and the tuning grid of the rebuilt
``"auto"``: a bandwidth source (the normal-scale gradient rule or the gradient UCV criterion) times a
factor, mean shift, then the clusters whose valley bootstrap significance is below a level merged.
The configuration chosen: all one-population sets one cluster, then the best mean ARI.

    python experiments/auto_bandwidth.py            # the tuning grid and the table
    python experiments/auto_bandwidth.py --final    # the table only (the library's "auto" as it is now)
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
from _common import write_result
from scipy import stats
from sklearn.cluster import MeanShift, estimate_bandwidth
from sklearn.datasets import load_iris, load_wine, make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

import jaxshift
from jaxshift import clustering_bandwidth
from jaxshift.demo import tutorial_data

QUANTILES = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]
SOURCES = ("normal_gradient", "gradient_ucv")
FACTORS = (0.4, 0.5, 0.6, 0.7, 0.85, 1.0)
LEVELS = (0.9, 0.95, 0.99, 0.995)
N_BOOT = 200


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


def unimodal_suite():
    """One population each (dev only; the held-out suite has its own, with other distributions and seeds)."""
    rng = np.random.default_rng(314)
    cov = np.array([[1.0, -0.6], [-0.6, 1.0]])
    return [
        ("one normal, 2-D (dev)", rng.normal(size=(500, 2)), None),
        ("one normal, 4-D (dev)", rng.normal(size=(500, 4)), None),
        ("one correlated normal, 2-D (dev)", rng.multivariate_normal(np.zeros(2), cov, 500), None),
        ("one gamma(2), 2-D (dev)", rng.gamma(2.0, size=(500, 2)), None),
        ("one Student t(4), 3-D (dev)", stats.t.rvs(4, size=(500, 3), random_state=15), None),
        ("one Laplace, 2-D (dev)", rng.laplace(size=(500, 2)), None),
    ]


def share(labels) -> float:
    labels = np.asarray(labels)
    return float(np.bincount(labels[labels >= 0]).max() / len(labels))


def source_bandwidth(X, source: str) -> float:
    if source == "normal_gradient":
        return float(clustering_bandwidth(X, method="normal_gradient"))
    return float(clustering_bandwidth(X, method="gradient_ucv"))


def candidates(X):
    """{(source, factor, level): labels} for the whole tuning grid (one clustering per source and factor)."""
    out = {}
    for source in SOURCES:
        h0 = source_bandwidth(X, source)
        for factor in FACTORS:
            result = jaxshift.mean_shift(X, factor * h0)
            found = jaxshift.mode_significance(X, result, n_boot=N_BOOT)
            for level in LEVELS:
                merged, _ = jaxshift.merge_insignificant(result, found, level)
                out[source, factor, level] = np.asarray(merged.labels)
    return out


def main() -> None:
    final = "--final" in sys.argv
    labelled, unimodal = suite(), unimodal_suite()
    sk_scores = np.zeros((len(labelled), len(QUANTILES)))
    grid = list(itertools.product(SOURCES, FACTORS, LEVELS))
    tuned = {c: [] for c in grid}  # ARI on labelled sets, share on one-population sets
    plain = ("stability", "normal_gradient", "plugin_gradient")
    shown = (*plain, "plugin_gradient, merged", "auto")
    baseline = {m: [] for m in shown}
    sk_default_uni = []
    for i, (name, X, y) in enumerate(labelled + unimodal):
        if y is not None:
            for j, q in enumerate(QUANTILES):
                labels = MeanShift(bandwidth=estimate_bandwidth(X, quantile=q)).fit(X).labels_
                sk_scores[i, j] = adjusted_rand_score(y, labels)
        else:
            labels = MeanShift().fit(X).labels_
            sk_default_uni.append((len(np.unique(labels)), share(labels)))
        for method in plain:
            result = jaxshift.mean_shift(X, clustering_bandwidth(X, method=method))
            baseline[method].append(result.labels)
            if method == "plugin_gradient":  # the same clustering, then "auto"'s significance merge
                merged, _ = jaxshift.merge_insignificant(result, jaxshift.mode_significance(X, result))
                baseline["plugin_gradient, merged"].append(merged.labels)
        baseline["auto"].append(jaxshift.mean_shift(X, "auto").labels)
        for config, labels in ({} if final else candidates(X)).items():
            tuned[config].append(adjusted_rand_score(y, labels) if y is not None else share(labels))
        print(name, flush=True)

    n_lab = len(labelled)

    def summary(config):
        scores = tuned[config]
        return np.mean(scores[:n_lab]), sum(s >= 0.98 for s in scores[n_lab:])

    if not final:
        ranked = sorted(grid, key=lambda c: (summary(c)[1], summary(c)[0]), reverse=True)
        tuning_rows = [[*c, f"{summary(c)[0]:.3f}", summary(c)[1]] for c in ranked]
        write_result(
            "auto-tuning",
            "Tuning the rebuilt auto on the dev suite: mean ARI on 9 labelled sets, one population as one cluster",
            ["bandwidth source", "factor", "significance level", "mean ARI (labelled)", "one cluster (of 6)"],
            tuning_rows,
            f"Best first: most one-population sets with one cluster (largest share >= 98%), then the mean ARI. "
            f"{N_BOOT} bootstrap replicates. Chosen: {ranked[0]}.",
        )

    best_q = int(np.argmax(sk_scores[:n_lab].mean(axis=0)))
    default_q = QUANTILES.index(0.3)

    def ours(method, i, y):
        labels = np.asarray(baseline[method][i])
        k = len(np.unique(labels[labels >= 0]))
        if y is None:
            return f"{k} ({share(labels):.0%})"
        return f"{adjusted_rand_score(y, labels):.3f} ({k})"

    rows = []
    for i, (name, X, y) in enumerate(labelled + unimodal):
        row = [name, f"{X.shape[0]} x {X.shape[1]}", "1" if y is None else len(np.unique(y))]
        if y is None:
            k, s = sk_default_uni[i - n_lab]
            row += [f"{k} ({s:.0%})", "", ""]
        else:
            row += [f"{sk_scores[i, default_q]:.3f}", f"{sk_scores[i, best_q]:.3f}", f"{sk_scores[i].max():.3f}"]
        row += [ours(m, i, y) for m in shown]
        rows.append(row)

    def mean_ari(method):
        return np.mean([adjusted_rand_score(y, np.asarray(baseline[method][i])) for i, (*_, y) in enumerate(labelled)])

    rows.append(
        ["**mean (labelled)**", "", "", f"{sk_scores[:n_lab, default_q].mean():.3f}"]
        + [f"{sk_scores[:n_lab, best_q].mean():.3f}", f"{sk_scores[:n_lab].max(axis=1).mean():.3f}"]
        + [f"{mean_ari(m):.3f}" for m in shown]
    )
    write_result(
        "auto-bandwidth",
        "Dev suite: ARI (clusters) on labelled data, clusters (largest share) on one population",
        [
            "data",
            "n x d",
            "classes",
            "sklearn default (q=0.3)",
            f"sklearn best single q ({QUANTILES[best_q]})",
            "sklearn best q per data set (oracle)",
            "jaxshift stability (old auto)",
            "jaxshift normal_gradient",
            "jaxshift plugin_gradient",
            "jaxshift plugin_gradient, merged",
            'jaxshift "auto"',
        ],
        rows,
        f"Quantiles tried for scikit-learn: {QUANTILES}. The per-data-set oracle picks the quantile with the labels. "
        'jaxshift "auto" is the library\'s (after tuning: see the auto-tuning table of the same date).',
    )


if __name__ == "__main__":
    main()
