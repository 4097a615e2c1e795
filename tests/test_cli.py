import re
import subprocess
import sys

import numpy as np
import pytest


def test_demo_prints_two_clusters_and_writes_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    out = subprocess.run(
        [sys.executable, "-m", "jaxshift", "demo", "--plot", str(tmp_path / "demo.png")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "2 clusters found" in out.stdout and "(chosen automatically)" in out.stdout
    rows = re.findall(r"^\s+\d+\s+(\d+)\s+\(([-\d.]+), ([-\d.]+)\)$", out.stdout, flags=re.MULTILINE)
    assert [int(size) for size, _, _ in rows] == [100, 100]
    centres = sorted((float(x), float(y)) for _, x, y in rows)
    np.testing.assert_allclose(centres, [(2.9, 3.0), (8.1, 8.0)], atol=0.15)
    png = (tmp_path / "demo.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_unknown_command_exits_with_usage():
    out = subprocess.run([sys.executable, "-m", "jaxshift", "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage: jaxshift" in out.stderr


def test_demo_with_the_tutorials_bandwidth():
    out = subprocess.run(
        [sys.executable, "-m", "jaxshift", "demo", "--no-plot", "--bandwidth", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "bandwidth 2.000" in out.stdout
    assert "(2.892, 3.041)" in out.stdout and "(8.099, 8.015)" in out.stdout


def run_cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "jaxshift", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture
def blobs_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.5, (60, 2)), rng.normal(5, 0.5, (40, 2))])
    path = tmp_path / "blobs.csv"
    np.savetxt(path, X, delimiter=";", header="width;height", comments="")
    return path, X


def test_cluster_writes_labels_centres_and_a_figure(blobs_csv, tmp_path):
    pytest.importorskip("matplotlib")
    path, X = blobs_csv
    out = run_cli(
        "cluster",
        str(path),
        "--bandwidth",
        "1.0",
        "--labels-out",
        "labels.csv",
        "--centers-out",
        "centers.npy",
        "--plot",
        "clusters.png",
        "--quiet",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "100 points, 2 dimensions (width, height)" in out.stdout and "2 clusters" in out.stdout
    labels = np.loadtxt(tmp_path / "labels.csv", skiprows=1, dtype=int)
    assert labels.shape == (100,) and sorted(np.bincount(labels)) == [40, 60]
    centers = np.load(tmp_path / "centers.npy")
    np.testing.assert_allclose(np.sort(centers[:, 0]), [0.0, 5.0], atol=0.3)
    assert (tmp_path / "clusters.png").read_bytes().startswith(b"\x89PNG")


def test_cluster_npy_with_bin_seeding_and_the_flat_kernel(tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "points.npy", np.vstack([rng.normal(0, 0.3, (200, 3)), rng.normal(4, 0.3, (200, 3))]))
    out = run_cli("cluster", "points.npy", "--bin-seeding", "--kernel", "flat", "--bandwidth", "1.5", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "kernel flat, bandwidth 1.5" in out.stdout and "2 clusters" in out.stdout


def test_cluster_with_the_grid_mode(blobs_csv, tmp_path):
    path, _ = blobs_csv
    out = run_cli("cluster", str(path), "--grid", "--bandwidth", "1.0", "--labels-out", "labels.npy", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "grid mean shift (MeanShift++), cell side 1" in out.stdout and "2 clusters" in out.stdout
    labels = np.load(tmp_path / "labels.npy").reshape(-1)
    assert sorted(np.bincount(labels)) == [40, 60]
    for extra, message in ((["--bandwidth", "auto"], "--grid: needs a number"), (["--bin-seeding"], "--grid: every")):
        args = ["--bandwidth", "1.0", *extra] if extra[0] != "--bandwidth" else extra
        bad = run_cli("cluster", str(path), "--grid", *args, cwd=tmp_path)
        assert bad.returncode == 2 and message in bad.stderr


def test_bandwidth_command_reports_the_choice_and_draws_the_curve(blobs_csv, tmp_path):
    pytest.importorskip("matplotlib")
    path, _ = blobs_csv
    out = run_cli("bandwidth", str(path), "--form", "diagonal", "--plot", "curve.png", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "leave-one-out likelihood (diagonal): converged" in out.stdout
    assert "for clustering (auto)" in out.stdout
    assert (tmp_path / "curve.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b\n1,2\n3,x\n", [], "column 'b' is not numeric (data row 2: 'x')"),
        ("a,b\n1,2\n3,nan\n5,6\n,7\n", [], "2 row(s) with missing, NaN or infinite values (data rows 2, 4)"),
        ("", [], "the file is empty"),
        ("a,b\n", [], "no data rows"),
        ("a,b\n1,2\n3,4\n", ["--columns", "c"], "no column 'c'; the columns are a, b"),
        ("a,b\n1,2\n3,4\n", ["--bandwidth", "-2"], "--bandwidth: must be > 0 and finite"),
        ("a,b\n1,2\n3,4\n", ["--labels-out", "missing/labels.csv"], "missing/labels.csv: its folder does not exist"),
        (b"\x89PNG\x00\xff\xfe", [], "cannot be read as text"),
    ],
)
def test_bad_files_get_one_line_and_exit_code_2(tmp_path, content, args, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = run_cli("cluster", "data.csv", "--labels-out", "labels.csv", *args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("jaxshift: error: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "labels.csv").exists()


def test_missing_file(tmp_path):
    out = run_cli("bandwidth", "nowhere.csv", cwd=tmp_path)
    assert out.returncode == 2 and "nowhere.csv: no such file" in out.stderr


def test_progress_callbacks_report_every_step(tutorial_data):
    import jaxshift

    seen = []
    result = jaxshift.mean_shift(tutorial_data, 2.0, progress=lambda i, moving: seen.append((int(i), int(moving))))
    assert [i for i, _ in seen] == list(range(1, int(result.n_iter) + 1))
    assert seen[-1][1] == 0 and seen[0][1] <= 200
    steps = []
    jaxshift.select_bandwidth(tutorial_data, progress=lambda step, value: steps.append(float(value)))
    assert len(steps) >= 1 and all(np.isfinite(steps))


def test_progress_bar_draws_and_clears_one_line():
    import io

    from jaxshift.cli import ProgressBar

    times = iter([100.0, 100.05])  # the second update comes 50 ms after the first
    stream = io.StringIO()
    bar = ProgressBar("mean shift", 10, stream=stream, clock=lambda: next(times))
    bar(5, "iterations, 12 seeds moving")
    bar(6, "throttled: within 0.1 s of the last draw")
    bar.close()
    text = stream.getvalue()
    assert "mean shift [###############...............] 5/10 iterations, 12 seeds moving" in text
    assert "throttled" not in text and "\n" not in text
