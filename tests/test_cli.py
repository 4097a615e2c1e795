import subprocess
import sys

import pytest


def test_demo_prints_two_clusters_and_writes_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    out = subprocess.run(
        [sys.executable, "-m", "jaxshift", "demo", "--plot", str(tmp_path / "demo.png")],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert "2 clusters found" in out.stdout
    assert "(2.892, 3.041)" in out.stdout and "(8.099, 8.015)" in out.stdout
    png = (tmp_path / "demo.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_unknown_command_exits_with_usage():
    out = subprocess.run([sys.executable, "-m", "jaxshift", "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage: jaxshift" in out.stderr
