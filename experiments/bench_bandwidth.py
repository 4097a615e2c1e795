"""Bandwidth selection: jaxshift against statsmodels' cv_ml and scikit-learn's GridSearchCV(KernelDensity).

- statsmodels KDEMultivariate(bw="cv_ml"): leave-one-out likelihood, one bandwidth per dimension, Nelder-Mead;
  jaxshift select_bandwidth(form="diagonal") maximises the same objective with L-BFGS.
- scikit-learn GridSearchCV(KernelDensity(), 40 bandwidths, 5-fold): a scalar bandwidth on a grid;
  jaxshift select_bandwidth(objective="kfold", n_folds=5) finds the continuous optimum.
- full-matrix selection at n = 10k (exact leave-one-out) and 100k (minibatch of 2048 points).
Data: a 2-D three-component Gaussian mixture. Cold = first call in this process (compilation included).

    python experiments/bench_bandwidth.py
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
from _common import median_time, timed, write_result
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity
from statsmodels.nonparametric.kernel_density import KDEMultivariate

import jaxshift


def mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    parts = [rng.normal([0, 0], [1, 0.5], (n // 3, 2)), rng.normal([3, 2], [0.5, 1], (n // 3, 2))]
    parts.append(rng.normal([-2, 3], [0.7, 0.7], (n - 2 * (n // 3), 2)))
    return np.vstack(parts)


def vs_statsmodels(rows):
    for n in (500, 1000, 2000):
        X = mixture(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs = [timed(KDEMultivariate, X, var_type="cc", bw="cv_ml") for _ in range(3 if n < 2000 else 2)]
        sm_time, sm_bw = statistics.median(t for t, _ in runs), runs[0][1].bw
        cold, ours = timed(jaxshift.select_bandwidth, X, form="diagonal")
        warm = median_time(jaxshift.select_bandwidth, X, form="diagonal")
        diff = np.max(np.abs(np.asarray(ours.bandwidth) / sm_bw - 1))
        rows.append(
            [
                "statsmodels cv_ml (diagonal LOO)",
                n,
                f"{np.round(sm_bw, 4).tolist()}",
                f"{np.round(np.asarray(ours.bandwidth, np.float64), 4).tolist()}",
                f"{100 * diff:.2f} %",
                f"{sm_time:.2f}",
                f"{cold:.2f}",
                f"{warm:.3f}",
                f"{sm_time / warm:.0f}x",
                f"{sm_time / cold:.1f}x",
            ]
        )
        print(rows[-1], flush=True)


def vs_grid_search(rows):
    for n in (500, 1000, 2000):
        X = mixture(n)
        grid = {"bandwidth": np.geomspace(0.05, 2.0, 40)}
        runs = [timed(GridSearchCV(KernelDensity(), grid, cv=5).fit, X) for _ in range(3)]
        sk_time, sk_h = statistics.median(t for t, _ in runs), runs[0][1].best_params_["bandwidth"]
        cold, ours = timed(jaxshift.select_bandwidth, X, objective="kfold", n_folds=5)
        warm = median_time(jaxshift.select_bandwidth, X, objective="kfold", n_folds=5)
        h = float(ours.bandwidth)
        rows.append(
            [
                "scikit-learn GridSearchCV (scalar, 5-fold, 40 values)",
                n,
                f"{sk_h:.4f}",
                f"{h:.4f}",
                f"{100 * abs(h / sk_h - 1):.2f} %",
                f"{sk_time:.2f}",
                f"{cold:.2f}",
                f"{warm:.3f}",
                f"{sk_time / warm:.0f}x",
                f"{sk_time / cold:.1f}x",
            ]
        )
        print(rows[-1], flush=True)


def full_matrix(rows):
    for n, objective in ((10_000, "loo"), (100_000, "minibatch")):
        X = mixture(n).astype(np.float32)
        cold, ours = timed(jaxshift.select_bandwidth, X, form="full", objective=objective)
        warm = median_time(jaxshift.select_bandwidth, X, form="full", objective=objective, repeats=3)
        rows.append(
            [
                f"full matrix, {objective}",
                n,
                "-",
                f"{np.round(np.asarray(ours.bandwidth, np.float64), 4).tolist()}",
                f"{int(ours.n_iter)} steps, converged={bool(ours.converged)}",
                "-",
                f"{cold:.2f}",
                f"{warm:.2f}",
                "-",
                "-",
            ]
        )
        print(rows[-1], flush=True)


def main() -> None:
    rows = []
    vs_statsmodels(rows)
    vs_grid_search(rows)
    full_matrix(rows)
    write_result(
        "bench-bandwidth",
        "Bandwidth selection: jaxshift vs statsmodels cv_ml and scikit-learn GridSearchCV (2-D mixture)",
        [
            "peer",
            "n",
            "peer bandwidth",
            "jaxshift bandwidth",
            "difference",
            "peer s (median)",
            "jaxshift cold s",
            "jaxshift warm s (median)",
            "speed-up warm",
            "speed-up cold",
        ],
        rows,
        "Targets: >= 50x faster warm than statsmodels at n = 2000 with the same bandwidth (+-2%), and faster cold. "
        "GridSearchCV's answer is the best of its 40 grid values; jaxshift's is the continuous 5-fold optimum.",
    )


if __name__ == "__main__":
    main()
