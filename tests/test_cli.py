import io
import re
import subprocess
import sys
import time

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


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_is_tqdm_counting_the_seeds_that_stopped():
    pytest.importorskip("tqdm")
    from jaxshift.cli import _progress_bar

    def show(i, moving):
        return 10 - int(moving), f"iteration {i}, {int(moving)} moving"

    stream = FakeTerminal()
    progress = _progress_bar("mean shift", 10, False, "seed", show, stream=stream)
    assert progress is not None
    for iteration, moving in ((1, np.int32(6)), (2, np.int64(0))):
        time.sleep(0.15)  # tqdm redraws at most every 0.1 s
        progress(np.int32(iteration), moving)
    progress.close()
    progress(3, 0)  # late calls after close() are ignored
    text = stream.getvalue()
    assert "mean shift:   0%|" in text and "0/10 " in text  # drawn at once
    assert "4/10 " in text and "iteration 1, 6 moving" in text
    assert "10/10 " in text and "iteration 2, 0 moving" in text
    assert "iteration 3" not in text and "\n" not in text  # one line, redrawn in place
    assert text.endswith("\r")  # and cleared by close()


def test_no_progress_bar_when_quiet_off_a_terminal_or_without_tqdm(monkeypatch):
    from jaxshift.cli import _progress_bar

    def show(i, value):
        return i, ""

    assert _progress_bar("likelihood", 100, True, "step", show, stream=FakeTerminal()) is None
    assert _progress_bar("likelihood", 100, False, "step", show, stream=io.StringIO()) is None
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `from tqdm import tqdm` raises ImportError
    stream = FakeTerminal()
    assert _progress_bar("likelihood", 100, False, "step", show, stream=stream) is None
    assert stream.getvalue() == "install 'jaxshift[progress]' for a progress bar\n"


def test_the_library_does_not_import_tqdm():
    code = "import sys, jaxshift, jaxshift.cli, jaxshift.io; assert 'tqdm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_cluster_on_a_terminal_draws_the_bar_on_stderr(blobs_csv, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    from jaxshift import cli

    monkeypatch.setattr(cli, "_use_compilation_cache", lambda: None)  # leave this process's JAX settings alone
    stderr = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert cli.main(["cluster", str(blobs_csv[0]), "--bandwidth", "1.0"]) == 0
    assert "2 clusters" in capsys.readouterr().out
    assert "mean shift:   0%|" in stderr.getvalue() and "0/100 " in stderr.getvalue()
    assert stderr.getvalue().endswith("\r")
