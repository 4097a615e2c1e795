"""The command line, run in-process (``cli.main``) except where a real process is the point (Ctrl-C, a
closed pipe). The data shapes are few (100 x 2 blobs, the tutorial's 200 x 2) so little compiles."""

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import jaxshift
from jaxshift import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_cache_setting(monkeypatch):
    monkeypatch.setattr(cli, "_use_compilation_cache", lambda: None)  # leave this process's JAX settings alone


def run(capsys, *args, cwd=None):
    """(exit status, stdout, stderr) of ``jaxshift ARGS`` run in this process."""
    if cwd is not None:
        previous = os.getcwd()
        os.chdir(cwd)
    try:
        status = cli.main([str(a) for a in args])
    finally:
        if cwd is not None:
            os.chdir(previous)
    out = capsys.readouterr()
    return status, out.out, out.err


def test_demo_prints_two_clusters_and_writes_a_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    status, out, _ = run(capsys, "demo", "--plot", tmp_path / "demo.png")
    assert status == 0
    assert "2 clusters found" in out and "(chosen automatically)" in out
    assert "compilation included" not in out
    rows = re.findall(r"^\s+\d+\s+(\d+)\s+\(([-\d.]+), ([-\d.]+)\)$", out, flags=re.MULTILINE)
    assert [int(size) for size, _, _ in rows] == [100, 100]
    centres = sorted((float(x), float(y)) for _, x, y in rows)
    # the modes of the KDE at the gradient criterion's bandwidth (0.68), near the blobs' means
    np.testing.assert_allclose(centres, [(2.9, 3.0), (8.1, 8.0)], atol=0.2)
    png = (tmp_path / "demo.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    status, out, _ = run(capsys, "demo", "--no-plot", "--bandwidth", "2")
    assert "bandwidth 2.000" in out
    rows = re.findall(r"\(([-\d.]+), ([-\d.]+)\)$", out, flags=re.MULTILINE)
    np.testing.assert_allclose(np.sort(np.float64(rows), axis=0), [(2.892, 3.041), (8.099, 8.015)], atol=2e-3)


def test_usage_version_and_help_for_every_argument(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2 and "usage: jaxshift" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and re.fullmatch(r"jaxshift \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)
    parser = cli._parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == {"cluster", "bandwidth", "demo", "segment"}
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help and len(action.help) > 10, (name, action.dest)
        text = sub.format_help()
        assert "~/.cache/jaxshift" in text and "JAXSHIFT_CACHE=off" in text
    assert "default: gaussian" in commands["cluster"].format_help()


@pytest.fixture
def blobs_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.5, (60, 2)), rng.normal(5, 0.5, (40, 2))])
    path = tmp_path / "blobs.csv"
    np.savetxt(path, X, delimiter=";", header="width;height", comments="")
    return path, X


def test_cluster_writes_labels_centres_and_a_figure(blobs_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, X = blobs_csv
    args = ["--labels-out", "labels.csv", "--centers-out", "centers.npy", "--plot", "clusters.png", "--quiet"]
    status, out, err = run(capsys, "cluster", path, "--bandwidth", "1.0", *args, cwd=tmp_path)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("100 points, 2 dimensions (width, height)")  # what will be done comes first
    assert lines[1].startswith("mean shift, gaussian kernel, bandwidth 1; every point a seed; labels: basin")
    assert "2 clusters" in out
    labels = np.loadtxt(tmp_path / "labels.csv", skiprows=1, dtype=int)
    assert labels.shape == (100,) and sorted(np.bincount(labels)) == [40, 60]
    centers = np.load(tmp_path / "centers.npy")
    np.testing.assert_allclose(np.sort(centers[:, 0]), [0.0, 5.0], atol=0.3)
    assert (tmp_path / "clusters.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blobs.csv", "centers.npy", "clusters.png", "labels.csv"]


def test_auto_merges_the_modes_that_are_not_significant_as_the_library_does(tmp_path, capsys):
    X = np.random.default_rng(3).normal(size=(300, 2))  # one population
    np.savetxt(tmp_path / "one.csv", X, delimiter=",")
    status, out, err = run(capsys, "cluster", tmp_path / "one.csv", "--labels-out", "-")
    assert status == 0, err
    expected = jaxshift.mean_shift(X, "auto")
    assert int(expected.n_clusters) == 1 and "1 cluster," in err
    assert "(auto: gradient cross-validation)" in err and "not significant" in err
    assert set(np.loadtxt(out.splitlines()[1:], dtype=int)) == {0}


def test_above_the_large_size_seeds_are_grid_cells(blobs_csv, capsys, monkeypatch):
    path, _ = blobs_csv
    monkeypatch.setattr(cli, "LARGE", 50)
    status, _, err = run(capsys, "cluster", path, "--bandwidth", "1.0", "--labels-out", "-")
    assert status == 0
    assert "seeds at grid cells of one bandwidth, as 100 points are many (--all-seeds: every point)" in err
    assert "labels: nearest" in err and "2 clusters" in err
    assert "mean shift (SQUAREM-accelerated), gaussian kernel" in err  # nearest labels: the modes alone matter
    status, out, err = run(capsys, "cluster", path, "--bandwidth", "1.0", "--all-seeds")
    assert "every point a seed; labels: basin" in out and "SQUAREM" not in out
    with pytest.raises(SystemExit):
        cli.main(["cluster", str(path), "--all-seeds", "--bin-seeding"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_labels_to_standard_output_and_the_report_to_standard_error(blobs_csv, capsys):
    path, _ = blobs_csv
    status, out, err = run(capsys, "cluster", path, "--bandwidth", "1.0", "--labels-out", "-")
    assert status == 0 and out.splitlines()[0] == "label" and len(out.splitlines()) == 101
    assert "2 clusters" in err


def test_the_chunked_climb_equals_one_call(tutorial_data):
    import jaxshift

    X = tutorial_data.astype(np.float32)
    h = np.float32(2.0)
    whole = jaxshift.mean_shift(X, h, seeds=X, labels="nearest")
    chunked, n_iter = cli.climb_in_chunks(X, h, X, chunk_seconds=0.0)  # one iteration a call
    assert n_iter >= int(whole.n_iter) and bool(chunked.all_converged)
    k = int(whole.n_clusters)
    assert int(chunked.n_clusters) == k
    np.testing.assert_array_equal(chunked.labels, whole.labels)
    np.testing.assert_array_equal(chunked.mode_labels, whole.mode_labels)
    np.testing.assert_allclose(chunked.centers[:k], whole.centers[:k], atol=1e-3 * 2.0)


def test_the_accelerated_chunked_climb_equals_one_accelerated_call(tutorial_data):
    import jaxshift

    X = tutorial_data.astype(np.float32)
    h = np.float32(0.5)
    whole = jaxshift.mean_shift(X, h, seeds=X, labels="nearest", accelerate=True)
    chunked, n_iter = cli.climb_in_chunks(X, h, X, chunk_seconds=0.0, accelerate=True)
    assert bool(chunked.all_converged) and bool(whole.all_converged)
    k = int(whole.n_clusters)
    assert int(chunked.n_clusters) == k
    np.testing.assert_array_equal(chunked.labels, whole.labels)
    np.testing.assert_allclose(chunked.centers[:k], whole.centers[:k], atol=2e-2 * 0.5)


def test_data_far_from_the_origin_keep_their_precision(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.5, (60, 2)), rng.normal(5, 0.5, (40, 2))]) + 1e8
    np.savetxt(tmp_path / "far.csv", X, delimiter=",", fmt="%.6f")
    status, out, _ = run(
        capsys, "cluster", tmp_path / "far.csv", "--bandwidth", "1.0", "--centers-out", "c.npy", cwd=tmp_path
    )
    assert status == 0 and "2 clusters" in out
    centers = np.sort(np.load(tmp_path / "c.npy")[:, 0])
    np.testing.assert_allclose(centers - 1e8, [0.0, 5.0], atol=0.3)
    assert "(1e+08" not in out  # centres printed with the digits that tell them apart
    status, out, _ = run(capsys, "bandwidth", tmp_path / "far.csv")
    assert status == 0 and "duplicate" not in out
    scott = float(re.search(r"scott rule: ([\d.]+)", out).group(1))
    assert 0.5 < scott < 3


def test_cluster_npy_with_bin_seeding_and_the_flat_kernel(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "points.npy", np.vstack([rng.normal(0, 0.5, (60, 2)), rng.normal(5, 0.5, (40, 2))]))
    status, out, err = run(
        capsys, "cluster", tmp_path / "points.npy", "--bin-seeding", "--kernel", "flat", "--bandwidth", "1.5"
    )
    assert status == 0, err
    assert "flat kernel, bandwidth 1.5; seeds at grid cells" in out and "2 clusters" in out


def test_cluster_with_the_grid_mode(blobs_csv, tmp_path, capsys):
    path, _ = blobs_csv
    status, out, err = run(
        capsys, "cluster", path, "--grid", "--bandwidth", "1.0", "--labels-out", "labels.npy", cwd=tmp_path
    )
    assert status == 0, err
    assert "grid mean shift (MeanShift++), cell side 1" in out and "2 clusters" in out
    labels = np.load(tmp_path / "labels.npy").reshape(-1)
    assert sorted(np.bincount(labels)) == [40, 60]
    for extra, message in ((["--bandwidth", "auto"], "--grid: needs a number"), (["--bin-seeding"], "--grid: every")):
        args = ["--bandwidth", "1.0", *extra] if extra[0] != "--bandwidth" else extra
        status, _, err = run(capsys, "cluster", path, "--grid", *args)
        assert status == 2 and message in err
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join(",".join(["1"] * 7) for _ in range(3)) + "\n")
    status, _, err = run(capsys, "cluster", wide, "--grid", "--bandwidth", "1")
    assert status == 2 and "at most 6 dimensions, got 7; drop --grid for mean shift" in err
    assert "jaxshift.mean_shift" not in err


def test_bandwidth_command_reports_the_choice_and_draws_the_curve(blobs_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, _ = blobs_csv
    status, out, err = run(capsys, "bandwidth", path, "--form", "diagonal", "--plot", "curve.png", cwd=tmp_path)
    assert status == 0, err
    assert "leave-one-out likelihood (diagonal): converged" in out
    assert re.search(r"bandwidth: \[[\d.]+, [\d.]+\]", out) and re.search(r"scott rule: \[[\d.]+, [\d.]+\]", out)
    assert "for clustering (auto)" in out
    assert (tmp_path / "curve.png").stat().st_size > 10_000
    data = tmp_path / "dup.csv"
    data.write_text("1,2\n1,2\n3,4\n5,7\n")
    assert "1 duplicate row: each" in run(capsys, "bandwidth", data)[1]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a,b\n1,2\n3,x\n", [], "column 'b' is not numeric (data row 2: 'x')"),
        ("a,b\n1,2\n3,nan\n5,6\n,7\n", [], "2 row(s) with missing, NaN or infinite values (data rows 2, 4)"),
        ("", [], "the file is empty"),
        ("a,b\n", [], "no data rows"),
        ("a,b\n1,2\n3,4\n", ["--columns", "c"], "no column 'c'; the columns are a, b"),
        ("a,b\n1,2\n3,4\n", ["--bandwidth", "-2"], "--bandwidth: must be > 0 and finite"),
        (
            "a,b\n1,2\n3,4\n",
            ["--centers-out", "missing/c.csv"],
            "--centers-out missing/c.csv: its folder does not exist",
        ),
        ("a,b\n1,2\n3,4\n", ["--centers-out", "."], "--centers-out .: is a directory"),
        ("a,b\n1,2\n3,4\n", ["--centers-out", "data.csv"], "--centers-out data.csv: is the input file"),
        (b"\x89PNG\x00\xff\xfe", [], "cannot be read as text"),
    ],
)
def test_bad_files_get_one_line_and_exit_code_2(tmp_path, capsys, content, args, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "labels.csv").write_text("old labels")
    status, _, err = run(capsys, "cluster", "data.csv", "--labels-out", "labels.csv", *args, cwd=tmp_path)
    assert status == 2
    assert err.startswith("jaxshift: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (tmp_path / "labels.csv").read_text() == "old labels"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "labels.csv"]


def test_missing_file_and_missing_matplotlib_are_found_before_computing(tmp_path, capsys, monkeypatch):
    status, _, err = run(capsys, "bandwidth", "nowhere.csv", cwd=tmp_path)
    assert status == 2 and "nowhere.csv: no such file" in err
    (tmp_path / "data.csv").write_text("1,2\n3,4\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for command in ("cluster", "bandwidth"):
        status, out, err = run(capsys, command, "data.csv", "--plot", "x.png", cwd=tmp_path)
        assert status == 2 and out == ""  # nothing read, nothing computed
        assert err == "jaxshift: error: --plot needs matplotlib: pip install 'jaxshift[plot]'\n"


def test_sklearn_module_without_scikit_learn_names_the_extra(monkeypatch):
    import importlib.util

    # scikit-learn absent, even where another test has imported it (its submodules are cached too)
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")] + ["sklearn"]:
        monkeypatch.setitem(sys.modules, name, None)
    spec = importlib.util.spec_from_file_location("sklearn_probe", ROOT / "jaxshift" / "sklearn.py")
    with pytest.raises(ImportError, match=re.escape("pip install 'jaxshift[sklearn]'")):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _python(*args, shared_cache=True, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAXSHIFT_CACHE": "off"}
    cache = os.environ.get("JAXSHIFT_TEST_CACHE", str(ROOT / ".pytest_cache" / "jax"))
    if cache != "off" and shared_cache:
        env["JAX_COMPILATION_CACHE_DIR"] = cache
    return subprocess.Popen([sys.executable, *args], env=env, text=True, **kwargs)


@pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" in os.environ,
    reason="in clean-clone CI runs of the parallel suite the run's compiled climb stalled past 30 s "
    "(a known open problem, not Ctrl-C's handling); run alone: python -m pytest -n 0 tests/test_cli.py -k ctrl_c",
)
def test_ctrl_c_stops_within_seconds_with_one_line_and_nothing_written(blobs_csv, tmp_path):
    path, _ = blobs_csv
    # seeds that never converge (tol=0), and no end to the iterations: only Ctrl-C stops this run
    code = (
        "import faulthandler, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
        "import sys, functools, jaxshift, jaxshift.cli as c; c.MAX_ITER = 10**9; c.CHUNK_MAX_STEPS = 10; "
        "jaxshift.mean_shift = functools.partial(jaxshift.mean_shift, tol=0.0); sys.exit(c.main(sys.argv[1:]))"
    )
    args = ["cluster", str(path), "--bandwidth", "1.0", "--labels-out", "labels.csv", "--quiet"]
    # its own compilations, and chunks of 10 steps: while both test workers keep the two cores busy,
    # XLA's threads for this 100-point climb wait for the scheduler at every step, and clean-clone
    # runs saw a chunk of 500 steps (a few milliseconds alone) run past 30 s
    pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process = _python("-c", code, *args, cwd=tmp_path, shared_cache=False, **pipes)
    try:
        assert "mean shift" in process.stdout.readline() + process.stdout.readline()
        time.sleep(4)  # compiled by now, iterating
        assert process.poll() is None
        sent = time.perf_counter()
        process.send_signal(signal.SIGINT)
        try:
            status = process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # say where it is stuck: every thread's stack
            process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            process.kill()
            ps = subprocess.run(["ps", "-eo", "pid,ppid,pcpu,etime,args"], capture_output=True, text=True).stdout
            threads = process.stderr.read()[-8000:]
            pytest.fail(f"no exit 30 s after Ctrl-C; the process's threads:\n{threads}\nprocesses:\n{ps[-4000:]}")
        waited = time.perf_counter() - sent
        err = process.stderr.read()
    finally:
        process.kill()
        process.wait()  # reaped: no "still running" warning in a later test
        process.stdout.close()
        process.stderr.close()
    assert status == 130 and err == "jaxshift: interrupted; nothing written\n"
    assert waited < 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blobs.csv"]


def test_a_closed_pipe_ends_the_run_quietly(blobs_csv):
    path, _ = blobs_csv
    process = _python("-m", "jaxshift", "cluster", str(path), "--quiet", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()  # then close the pipe, as `| head -1` does
    process.stdout.close()
    status = process.wait(timeout=120)
    err = process.stderr.read()
    process.stderr.close()
    assert "100 points" in first
    assert status == 128 + signal.SIGPIPE and err == ""


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


def test_the_command_compiles_with_the_older_fusion_code_generator_unless_told_otherwise(monkeypatch):
    from jaxshift import cli

    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    cli._use_fast_compiler()
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_cpu_use_fusion_emitters=false"
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_fusion_emitters=true")
    cli._use_fast_compiler()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_use_fusion_emitters=true"
