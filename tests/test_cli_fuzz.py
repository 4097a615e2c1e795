"""A deterministic fuzz run of the command line, in-process: random bytes and random CSV shapes and spellings.

The contract: exit 0 with complete, correct files, or exit 2 with one line on standard error and no file
written or touched. Valid tables are always 30 rows of 2 numbers, clustered with one numeric bandwidth, so
they share one compiled program; the other cases fail before any computation.
"""

import os

import numpy as np
import pytest

from jaxshift import cli
from jaxshift.io import load_table

N_CASES = 80
ROWS = 30


def _table(rng):
    """A 30 x 2 table in a random spelling, then perhaps broken."""
    X = np.round(rng.normal(size=(ROWS, 2)) * 3, 3)
    X[ROWS // 2 :] += 20
    sep = str(rng.choice([",", ";", "\t", " "]))
    fmt = str(rng.choice(["%.3f", "%g", "%.6e"]))
    lines = [sep.join(fmt % v for v in row) for row in X]
    header = rng.random() < 0.5
    if header:
        lines.insert(0, sep.join(["x", "y"]))
    text = "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
    if rng.random() < 0.2:
        text = "\ufeff" + text
    if rng.random() < 0.2:
        text = text.replace("\n", "\r\n")
    breakage = int(rng.integers(8))
    body = text.split("\n")
    at = int(rng.integers(1 if header else 0, ROWS))
    if breakage == 1:  # a field too many
        body[at] += sep + "1"
    elif breakage == 2:  # a missing value
        body[at] = sep.join(["NA", "1"])
    elif breakage == 3:  # a typo
        body[at] = sep.join(["2.O", "1"])
    elif breakage == 4:  # junk bytes
        return "\n".join(body).encode()[: int(rng.integers(1, 200))] + rng.bytes(int(rng.integers(1, 50))), None
    elif breakage == 5:  # truncated mid-file
        return "\n".join(body).encode()[: int(rng.integers(0, 40))], None
    text = "\n".join(body)
    return text.encode(), (X if breakage in (0, 6, 7) else None)


def _case(rng):
    kind = rng.random()
    if kind < 0.2:
        return rng.bytes(int(rng.integers(0, 300))), None, ".csv"
    if kind < 0.3:  # a .npy file, valid or with its bytes damaged
        import io

        X = np.round(rng.normal(size=(ROWS, 2)), 3)
        X[ROWS // 2 :] += 20
        buffer = io.BytesIO()
        np.save(buffer, X)
        raw = buffer.getvalue()
        if rng.random() < 0.5:
            return raw, X, ".npy"
        cut = int(rng.integers(0, len(raw)))
        return raw[:cut] + rng.bytes(int(rng.integers(0, 20))), None, str(rng.choice([".npy", ".NPY"]))
    raw, X = _table(rng)
    return raw, X, ".csv"


def test_fuzz_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_use_compilation_cache", lambda: None)
    rng = np.random.default_rng(20261128)
    folder = tmp_path / "run"
    folder.mkdir()
    ok = failed = 0
    for i in range(N_CASES):
        raw, X, suffix = _case(rng)
        data = folder / f"data{suffix}"
        data.write_bytes(raw)
        labels, centers = folder / "labels.csv", folder / "centers.npy"
        if rng.random() < 0.3:
            labels.write_text("old")
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        args = ["cluster", str(data), "--bandwidth", "1.0", "--labels-out", str(labels), "--centers-out", str(centers)]
        status = cli.main(args)
        out, err = capsys.readouterr()
        after = {p.name: p.read_bytes() for p in folder.iterdir()}
        if status == 0:
            ok += 1
            rows = len(load_table(data)[0])
            got = np.loadtxt(labels, skiprows=1, dtype=int, ndmin=1)
            assert got.shape == (rows,) and got.min() >= 0, i
            k = int(got.max()) + 1
            assert np.load(centers).shape == (k, 2), i
            if X is not None:  # the two groups 20 apart are found
                assert k >= 2 and len(set(got[: ROWS // 2]) & set(got[ROWS // 2 :])) == 0, i
        else:
            failed += 1
            assert status == 2, (i, err)
            assert err.startswith("jaxshift: error: ") and len(err.splitlines()) == 1, (i, err)
            assert after == before, i  # nothing written, nothing touched
        for path in (labels, centers):
            path.unlink(missing_ok=True)
        data.unlink()
        assert os.listdir(folder) == [], i  # no temporary file left
    assert ok >= 15 and failed >= 15, (ok, failed)


@pytest.mark.parametrize("content", [b"", b"\x93NUMPY", b"PK\x03\x04garbage"])
def test_truncated_signatures(tmp_path, capsys, monkeypatch, content):
    monkeypatch.setattr(cli, "_use_compilation_cache", lambda: None)
    (tmp_path / "d.npz").write_bytes(content)
    assert cli.main(["cluster", str(tmp_path / "d.npz")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
