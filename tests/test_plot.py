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
