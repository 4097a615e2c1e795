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
