"""Figures with matplotlib (the optional ``plot`` extra): clusters, density, trajectories, bandwidth.

Every function returns a ``matplotlib.figure.Figure``; save it with ``fig.savefig(path)``.

    pip install 'jaxshift[plot]'
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxshift.api import kde
from jaxshift.density.clustering import SweepResult
from jaxshift.kernels import get_kernel
from jaxshift.reduce import prepare_data
from jaxshift.solvers import mean_shift

_MAX_PAIRS = 4  # a pairs plot shows at most this many dimensions


def _pyplot():
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("jaxshift.plot needs matplotlib: pip install 'jaxshift[plot]'") from None
    return plt


def _colours(k: int):
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20" if k <= 20 else "turbo")
    return [cmap(i if k <= 20 else i / max(k - 1, 1)) for i in range(k)]


def _scatter_clusters(ax, X, labels, centers, i, j, legend):
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    colours = _colours(max(k, 1))
    orphans = labels < 0
    if orphans.any():
        ax.scatter(X[orphans, i], X[orphans, j], s=10, c="lightgrey", label=f"orphans ({int(orphans.sum())})")
    for c in range(k):
        members = labels == c
        label = f"cluster {c} ({int(members.sum())})" if c < 12 else None
        ax.scatter(X[members, i], X[members, j], s=12, alpha=0.6, color=colours[c], label=label)
    if centers is not None and len(centers):
        ax.scatter(centers[:, i], centers[:, j], marker="X", s=160, c="red", edgecolors="black", label="centres")
    if legend:
        ax.legend(loc="best", fontsize=7, framealpha=0.8)


def clusters(X, labels, centers=None, *, feature_names=None, title="Mean-shift clusters"):
    """Points coloured by cluster (orphans grey), centres marked; a pairs plot when d > 2.

    Args:
      X: (n, d) data.
      labels: (n,) cluster labels (-1 for orphans).
      centers: optional (k, d) centres.
      feature_names: axis labels (default x1, x2, ...).
    """
    plt = _pyplot()
    X, labels = np.asarray(X), np.asarray(labels)
    centers = None if centers is None else np.asarray(centers)
    dim = X.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{i + 1}" for i in range(dim)]
    if dim == 1:
        X = np.column_stack([X[:, 0], np.zeros(len(X))])
        centers = None if centers is None else np.column_stack([centers[:, 0], np.zeros(len(centers))])
        names = [names[0], ""]
        dim = 2
    if dim == 2:
        fig, ax = plt.subplots(figsize=(6, 5.5), dpi=110)
        _scatter_clusters(ax, X, labels, centers, 0, 1, legend=True)
        ax.set(xlabel=names[0], ylabel=names[1], title=title)
        fig.tight_layout()
        return fig
    shown = min(dim, _MAX_PAIRS)
    fig, axes = plt.subplots(shown, shown, figsize=(2.4 * shown, 2.4 * shown), dpi=110, squeeze=False)
    for i in range(shown):
        for j in range(shown):
            ax = axes[i, j]
            if i == j:
                colours = _colours(max(int(labels.max()) + 1, 1))
                for c in range(int(labels.max()) + 1):
                    ax.hist(X[labels == c, i], bins=20, alpha=0.6, color=colours[c])
            else:
                _scatter_clusters(ax, X, labels, centers, j, i, legend=False)
            if i == shown - 1:
                ax.set_xlabel(names[j])
            if j == 0:
                ax.set_ylabel(names[i])
    handles, texts = axes[0, 1].get_legend_handles_labels()
    fig.legend(handles, texts, loc="upper right", fontsize=7)
    extra = f" (first {shown} of {dim} dimensions)" if dim > shown else ""
    fig.suptitle(title + extra)
    fig.tight_layout()
    return fig


def density(X, bandwidth, *, kernel="gaussian", modes=None, resolution=120, title=None):
    """Filled contours of the kernel density estimate of 2-D data, the data, and the modes."""
    plt = _pyplot()
    X = np.asarray(X)
    if X.shape[1] != 2:
        raise ValueError(f"X: density plots need 2-D data, got {X.shape[1]} dimensions")
    pad = 0.1 * np.ptp(X, axis=0)
    xs = np.linspace(X[:, 0].min() - pad[0], X[:, 0].max() + pad[0], resolution)
    ys = np.linspace(X[:, 1].min() - pad[1], X[:, 1].max() + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    values = np.exp(np.asarray(kde.log_density(grid, X, bandwidth, kernel=kernel))).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(6, 5.5), dpi=110)
    filled = ax.contourf(gx, gy, values, levels=14, cmap="viridis")
    fig.colorbar(filled, ax=ax, label="density")
    ax.scatter(X[:, 0], X[:, 1], s=5, c="white", alpha=0.5, label="data")
    if modes is not None:
        modes = np.asarray(modes)
        ax.scatter(modes[:, 0], modes[:, 1], marker="X", s=160, c="red", edgecolors="black", label="modes")
    ax.set(xlabel="x1", ylabel="x2", title=title or f"Kernel density estimate ({kernel}, h = {_fmt(bandwidth)})")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def trajectories(X, bandwidth, *, kernel="gaussian", seeds=None, max_iter=100, tol=1e-3, title=None):
    """The path of each seed (default: every 5th point) from its start to its mode, over the data."""
    plt = _pyplot()
    X = np.asarray(X, np.float64)
    if X.shape[1] != 2:
        raise ValueError(f"X: trajectory plots need 2-D data, got {X.shape[1]} dimensions")
    seeds = X[::5] if seeds is None else np.asarray(seeds, np.float64)
    paths = _paths(
        jnp.asarray(X, jnp.float32), jnp.asarray(seeds, jnp.float32), bandwidth, get_kernel(kernel), max_iter, tol
    )
    fig, ax = plt.subplots(figsize=(6, 5.5), dpi=110)
    ax.scatter(X[:, 0], X[:, 1], s=6, c="lightgrey", label="data")
    for path in np.transpose(paths, (1, 0, 2)):
        ax.plot(path[:, 0], path[:, 1], lw=0.8, alpha=0.7, color="tab:blue")
    ax.scatter(paths[0, :, 0], paths[0, :, 1], s=12, c="tab:blue", label="seeds")
    ax.scatter(paths[-1, :, 0], paths[-1, :, 1], marker="X", s=120, c="red", edgecolors="black", label="end points")
    ax.set(xlabel="x1", ylabel="x2", title=title or f"Mean-shift trajectories ({kernel}, h = {_fmt(bandwidth)})")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def _paths(X, seeds, bandwidth, kernel, max_iter, tol) -> np.ndarray:
    """The seeds' positions after each step, stepped one at a time with the exported ``step``."""
    data = prepare_data(X, jnp.asarray(bandwidth, X.dtype))
    one = jax.jit(lambda st: mean_shift.step(st, data, kernel=kernel, tol=tol))
    state = mean_shift.init(seeds, data)
    positions = [np.asarray(seeds)]
    for _ in range(max_iter):
        state, info = one(state)
        positions.append(np.asarray(mean_shift.modes(state, data)))
        if int(info.moving) == 0:
            break
    return np.stack(positions)


def bandwidth_objective(sweep: SweepResult, chosen=None, *, title="Leave-one-out log-likelihood"):
    """The cross-validated log-likelihood against the bandwidth (log scale), the chosen one marked."""
    plt = _pyplot()
    h, loo = np.asarray(sweep.bandwidths), np.asarray(sweep.loo_log_likelihood)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    ax.plot(h, loo, "o-", ms=3, label="mean leave-one-out log-likelihood")
    best = int(np.argmax(np.where(np.isfinite(loo), loo, -np.inf)))
    ax.axvline(h[best], color="tab:green", ls=":", label=f"grid maximum h = {h[best]:.3g}")
    if chosen is not None:
        ax.axvline(float(chosen), color="red", ls="--", label=f"chosen h = {float(chosen):.3g}")
    ax.set(xscale="log", xlabel="bandwidth h", ylabel="log-likelihood per point", title=title)
    _plain_log_ticks(ax.xaxis)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cluster_count(sweep: SweepResult, chosen=None, *, title="Number of clusters against the bandwidth"):
    """Cluster counts (all, and large ones) against the bandwidth, the chosen one marked."""
    plt = _pyplot()
    h = np.asarray(sweep.bandwidths)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    ax.step(h, np.asarray(sweep.n_clusters), where="mid", label="all clusters")
    ax.step(h, np.asarray(sweep.n_large_clusters), where="mid", label="large clusters")
    if chosen is not None:
        ax.axvline(float(chosen), color="red", ls="--", label=f"chosen h = {float(chosen):.3g}")
    ax.set(xscale="log", yscale="log", xlabel="bandwidth h", ylabel="clusters", title=title)
    _plain_log_ticks(ax.xaxis)
    _plain_log_ticks(ax.yaxis)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _plain_log_ticks(axis) -> None:
    """Plain numbers on a log axis, and no crowded labels on the minor ticks."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _fmt(bandwidth) -> str:
    values = np.atleast_1d(np.asarray(bandwidth, np.float64))
    return f"{values[0]:.3g}" if values.size == 1 else "[" + ", ".join(f"{x:.3g}" for x in values.ravel()) + "]"
