import numpy as np
import pytest

import jaxshift

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402

from jaxshift import (
    bandwidth_sweep,  # noqa: E402
    plot,  # noqa: E402
)


def saved(fig, path):
    fig.savefig(path)
    plt.close(fig)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5_000
    return data


def test_every_figure_writes_a_png(tmp_path, tutorial_data):
    result = jaxshift.mean_shift(tutorial_data, 2.0)
    k = int(result.n_clusters)
    centers = np.asarray(result.centers[:k])
    saved(plot.clusters(tutorial_data, result.labels, centers), tmp_path / "clusters.png")
    saved(plot.density(tutorial_data, 2.0, modes=centers), tmp_path / "density.png")
    saved(plot.trajectories(tutorial_data, 2.0), tmp_path / "trajectories.png")
    sweep = bandwidth_sweep(tutorial_data, np.geomspace(0.3, 6.0, 8))
    saved(plot.bandwidth_objective(sweep, chosen=2.0), tmp_path / "objective.png")
    saved(plot.cluster_count(sweep, chosen=2.0), tmp_path / "count.png")


def test_pairs_plot_for_more_than_two_dimensions_and_orphans(tmp_path):
    X = np.random.default_rng(0).normal(size=(120, 5))
    labels = np.where(np.arange(120) < 10, -1, np.arange(120) % 3)
    saved(plot.clusters(X, labels, X[:3], feature_names=list("abcde")), tmp_path / "pairs.png")
    saved(plot.clusters(X[:, :1], labels), tmp_path / "line.png")


def test_two_dimensional_figures_reject_other_data():
    with pytest.raises(ValueError, match="X: density plots need 2-D data"):
        plot.density(np.zeros((5, 3)), 1.0)


def _overlap(a, b) -> float:
    """The area two display-space boxes share."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0) * max(height, 0)


def check_layout(fig):
    """No legend covers any axes, and every title lies inside the figure (nothing clipped)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "no legend"
    page = fig.bbox
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert _overlap(box, ax.get_window_extent(renderer)) < 1.0, "a legend covers an axes"
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1
    titles = [ax.title for ax in fig.axes] + ([fig._suptitle] if fig._suptitle is not None else [])
    for title in titles:
        if title.get_text():
            box = title.get_window_extent(renderer)
            assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and box.y1 <= page.y1 + 1, title.get_text()
    plt.close(fig)


@pytest.mark.parametrize("dim", [2, 3, 4, 13])
def test_cluster_figures_have_no_overlapping_legend_and_the_informative_dimensions(dim):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, dim))
    labels = np.arange(150) % 3
    if dim > 4:
        X[:, [5, 7, 9, 11]] += 6.0 * labels[:, None]  # only these four tell the clusters apart
    centers = np.stack([X[labels == c].mean(axis=0) for c in range(3)])
    names = [f"feature {i}" for i in range(dim)]
    fig = plot.clusters(X, labels, centers, feature_names=names, title="a long title " * 6)
    if dim > 2:
        shown = sorted({ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()})
        expected = [names[i] for i in ([5, 7, 9, 11] if dim > 4 else range(dim))]
        assert shown == sorted(expected)
        diagonal = fig.axes[0]  # the first panel is a histogram: its y axis is the variable, not a count
        assert diagonal.get_ylabel() == expected[0]
        assert all(ax.get_ylabel() in ("", *names) for ax in fig.axes)
    check_layout(fig)


def test_other_figures_have_no_overlapping_legend_or_clipped_title(tutorial_data):
    sweep = bandwidth_sweep(tutorial_data, np.geomspace(0.3, 6.0, 8))
    long = "data.csv: leave-one-out likelihood (scalar h; chosen: the rms scale of the diagonal bandwidth)"
    check_layout(plot.bandwidth_objective(sweep, chosen=2.0, title=long))
    check_layout(plot.cluster_count(sweep, chosen=2.0))
    check_layout(plot.density(tutorial_data, 2.0, modes=tutorial_data[:2], resolution=30))
    check_layout(plot.trajectories(tutorial_data[:40], 2.0, max_iter=5))
