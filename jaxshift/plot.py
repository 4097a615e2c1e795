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
        _legend_outside(ax)


def clusters(X, labels, centers=None, *, feature_names=None, title="Mean-shift clusters", dimensions=None):
    """Points coloured by cluster (orphans grey), centres marked; a pairs plot when d > 2.

    Args:
      X: (n, d) data.
      labels: (n,) cluster labels (-1 for orphans).
      centers: optional (k, d) centres.
      feature_names: axis labels (default x1, x2, ...).
      dimensions: the (at most 4) dimensions a pairs plot shows; by default all up to 4, else the 4
        that best separate the clusters (the largest share of their variance between clusters).
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
        fig, ax = plt.subplots(figsize=(7.2, 5.5), dpi=110, layout="constrained")
        _scatter_clusters(ax, X, labels, centers, 0, 1, legend=True)
        ax.set(xlabel=names[0], ylabel=names[1])
        ax.set_title(_wrap(title))
        return fig
    shown = _informative(X, labels) if dimensions is None else [int(i) for i in dimensions]
    if not 1 <= len(shown) <= _MAX_PAIRS or any(not 0 <= i < dim for i in shown):
        raise ValueError(f"dimensions: expected 1 to {_MAX_PAIRS} indices in [0, {dim}), got {dimensions!r}")
    size = len(shown)
    fig, axes = plt.subplots(
        size, size, figsize=(2.4 * size + 1.6, 2.4 * size + 0.4), dpi=110, squeeze=False, layout="constrained"
    )
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    colours = _colours(max(k, 1))
    for row, i in enumerate(shown):
        for col, j in enumerate(shown):
            ax = axes[row, col]
            if row == col:
                # the histogram has a count axis of its own (unlabelled): the panel's y axis stays the
                # row's variable, like the scatter panels beside it
                ax.set_xlim(_limits(X[:, i]))
                ax.set_ylim(_limits(X[:, i]))
                counts = ax.twinx()
                counts.set_yticks([])
                for c in range(k):
                    counts.hist(X[labels == c, i], bins=20, alpha=0.6, color=colours[c])
            else:
                _scatter_clusters(ax, X, labels, centers, j, i, legend=False)
            if row == size - 1:
                ax.set_xlabel(names[j])
            if col == 0:
                ax.set_ylabel(names[i])
    donor = axes[0, 1] if size > 1 else axes[0, 0]
    handles, texts = donor.get_legend_handles_labels()
    if handles:
        fig.legend(handles, texts, loc="outside right upper", fontsize=7)
    if len(shown) < dim:
        title += f" ({size} of {dim} dimensions: " + (
            "those that best separate the clusters)" if dimensions is None else "chosen)"
        )
    fig.suptitle(_wrap(title, 30 * size + 20))
    return fig


def _informative(X, labels) -> list[int]:
    """All dimensions up to four; else the four with the largest share of variance between clusters
    (the correlation ratio), in their own order."""
    dim = X.shape[1]
    if dim <= _MAX_PAIRS:
        return list(range(dim))
    member = labels >= 0
    total = X[member].var(axis=0)
    between = np.zeros(dim)
    for c in np.unique(labels[member]):
        rows = X[labels == c]
        between += len(rows) * np.square(rows.mean(axis=0) - X[member].mean(axis=0))
    share = np.where(total > 0, between / max(member.sum(), 1) / np.where(total > 0, total, 1), 0.0)
    return sorted(int(i) for i in np.argsort(-share, kind="stable")[:_MAX_PAIRS])


def _limits(values):
    low, high = float(np.min(values)), float(np.max(values))
    pad = 0.05 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def _legend_outside(ax, fontsize=7) -> None:
    """The legend beside the axes (right), where it covers no data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=fontsize)


def _wrap(title: str, width: int = 60) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in str(title).split("\n"))


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
    fig, ax = plt.subplots(figsize=(7.6, 5.5), dpi=110, layout="constrained")
    filled = ax.contourf(gx, gy, values, levels=14, cmap="viridis")
    fig.colorbar(filled, ax=ax, label="density")
    ax.scatter(X[:, 0], X[:, 1], s=5, c="white", alpha=0.5, label="data")
    if modes is not None:
        modes = np.asarray(modes)
        ax.scatter(modes[:, 0], modes[:, 1], marker="X", s=160, c="red", edgecolors="black", label="modes")
    ax.set(xlabel="x1", ylabel="x2")
    ax.set_title(_wrap(title or f"Kernel density estimate ({kernel}, h = {_fmt(bandwidth)})"))
    fig.legend(loc="outside lower center", fontsize=8, ncols=2)
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
    fig, ax = plt.subplots(figsize=(6, 6), dpi=110, layout="constrained")
    ax.scatter(X[:, 0], X[:, 1], s=6, c="lightgrey", label="data")
    for path in np.transpose(paths, (1, 0, 2)):
        ax.plot(path[:, 0], path[:, 1], lw=0.8, alpha=0.7, color="tab:blue")
    ax.scatter(paths[0, :, 0], paths[0, :, 1], s=12, c="tab:blue", label="seeds")
    ax.scatter(paths[-1, :, 0], paths[-1, :, 1], marker="X", s=120, c="red", edgecolors="black", label="end points")
    ax.set(xlabel="x1", ylabel="x2")
    ax.set_title(_wrap(title or f"Mean-shift trajectories ({kernel}, h = {_fmt(bandwidth)})"))
    fig.legend(loc="outside lower center", fontsize=8, ncols=3)
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
    fig, ax = plt.subplots(figsize=(6, 4.6), dpi=110, layout="constrained")
    ax.plot(h, loo, "o-", ms=3, label="mean leave-one-out log-likelihood")
    best = int(np.argmax(np.where(np.isfinite(loo), loo, -np.inf)))
    ax.axvline(h[best], color="tab:green", ls=":", label=f"grid maximum h = {h[best]:.3g}")
    if chosen is not None:
        ax.axvline(float(chosen), color="red", ls="--", label=f"chosen h = {float(chosen):.3g}")
    ax.set(xscale="log", xlabel="bandwidth h", ylabel="log-likelihood per point")
    ax.set_title(_wrap(title))
    _plain_log_ticks(ax.xaxis)
    fig.legend(loc="outside lower center", fontsize=8, ncols=2)
    return fig


def cluster_count(sweep: SweepResult, chosen=None, *, title="Number of clusters against the bandwidth"):
    """Cluster counts (all, and large ones) against the bandwidth, the chosen one marked."""
    plt = _pyplot()
    h = np.asarray(sweep.bandwidths)
    fig, ax = plt.subplots(figsize=(6, 4.6), dpi=110, layout="constrained")
    ax.step(h, np.asarray(sweep.n_clusters), where="mid", label="all clusters")
    ax.step(h, np.asarray(sweep.n_large_clusters), where="mid", label="large clusters")
    if chosen is not None:
        ax.axvline(float(chosen), color="red", ls="--", label=f"chosen h = {float(chosen):.3g}")
    ax.set(xscale="log", yscale="log", xlabel="bandwidth h", ylabel="clusters")
    ax.set_title(_wrap(title))
    _plain_log_ticks(ax.xaxis)
    _plain_log_ticks(ax.yaxis)
    fig.legend(loc="outside lower center", fontsize=8, ncols=3)
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
