"""Reading data tables: the CSV fields' conversion to numbers (no JAX needed)."""

import re

import numpy as np
import pytest

from jaxshift.io import DataError, _to_numbers, load_table


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def numbers_csv(tmp_path):
    # spellings Python's float() accepts, as before
    return write(tmp_path, "a; b ;c\n1;2.5;-3\n4e1; +.5 ;1_000\n٣.٥;7.;-0\n")


def test_numbers_with_a_header(numbers_csv):
    X, names = load_table(numbers_csv)
    assert names == ["a", "b", "c"] and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[1, 2.5, -3], [40, 0.5, 1000], [3.5, 7, 0]])
    assert np.signbit(X[2, 2])  # "-0" is float("-0")
    X, names = load_table(numbers_csv, ["c", "0"])
    assert names == ["c", "a"]
    np.testing.assert_array_equal(X, [[-3, 1], [1000, 40], [0, 3.5]])


def test_numbers_without_a_header(tmp_path):
    X, names = load_table(write(tmp_path, "1,2\n3,4\n"))
    assert names == ["0", "1"]
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])


def test_missing_fields_are_nan():
    body = [["1", "", "x"], ["NA", "2", "x"], ["nan", "NaN", "x"], ["na", "nA", "x"], ["3", "-4", "x"]]
    values = _to_numbers(body, [0, 1], ["a", "b", "c"], "data.csv")
    assert values.dtype == np.float64 and values.shape == (5, 2)
    expected = [[1, np.nan], [np.nan, 2], [np.nan, np.nan], [np.nan, np.nan], [3, -4]]
    np.testing.assert_array_equal(values, expected)
    assert _to_numbers([], [0, 1], ["a", "b"], "data.csv").shape == (0, 2)


def test_rows_with_missing_values_are_named(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,\n5,6\nNA,8\n9,nan\n11,Na\n13,14\n")
    message = "4 row(s) with missing, NaN or infinite values (data rows 2, 4, 5, 6)"
    with pytest.raises(DataError, match=re.escape(message)):
        load_table(path)
    X, _ = load_table(write(tmp_path, "a,b,c\n1,2,\n3,4,NA\n"), ["a", "b"])  # only the chosen columns count
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])


@pytest.mark.parametrize("k", [1, 2, 637, 1000])
def test_the_first_non_numeric_field_is_named(tmp_path, k):
    rows = [[str(r), str(2 * r), ""] for r in range(1, 1001)]  # missing values all along, in a third column
    rows[k - 1][1] = "x7"  # data row k, column b
    if k < 1000:
        rows[k][0] = "n/a"  # a later row's bad field is not the one named
    path = write(tmp_path, "a,b,c\n" + "\n".join(",".join(row) for row in rows) + "\n")
    message = f"{path}: column 'b' is not numeric (data row {k}: 'x7'); choose numeric columns with --columns"
    with pytest.raises(DataError) as err:
        load_table(path)
    assert str(err.value) == message
    with pytest.raises(DataError, match=re.escape(f"column 'b' is not numeric (data row {k}: 'x7')")):
        load_table(path, ["b", "a"])
    if k < 1000:
        with pytest.raises(DataError, match=re.escape(f"column 'a' is not numeric (data row {k + 1}: 'n/a')")):
            load_table(path, ["a"])


def test_in_one_row_the_first_chosen_column_is_named(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n4,y,z\n")
    with pytest.raises(DataError, match=re.escape("column 'b' is not numeric (data row 2: 'y')")):
        load_table(path)
    with pytest.raises(DataError, match=re.escape("column 'c' is not numeric (data row 2: 'z')")):
        load_table(path, ["c", "b"])
    X, _ = load_table(path, ["a"])  # an unused text column is not read as numbers
    np.testing.assert_array_equal(X, [[1], [4]])


# ---------------------------------------------------------------------- hostile and odd input files


def test_a_forged_npy_header_is_compared_with_the_file_size(tmp_path):
    path = tmp_path / "forged.npy"
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 2), }"
    header += " " * (117 - len(header)) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\x00" * 16)
    assert path.stat().st_size < 200
    with pytest.raises(DataError, match=r"declares shape \(1000000000000, 2\) of float64 \(16000000000000 bytes\)"):
        load_table(path)
    np.save(tmp_path / "short.npy", np.zeros((10, 2)))
    (tmp_path / "short.npy").write_bytes((tmp_path / "short.npy").read_bytes()[:-8])  # truncated
    with pytest.raises(DataError, match="but the file holds 152 bytes"):
        load_table(tmp_path / "short.npy")


def test_npy_npz_and_upper_case_names_are_recognised_by_content(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    np.save(tmp_path / "a.npy", X)
    (tmp_path / "a.npy").rename(tmp_path / "A.NPY")
    np.testing.assert_array_equal(load_table(tmp_path / "A.NPY")[0], X)
    np.savez_compressed(tmp_path / "one.npz", points=X)
    np.testing.assert_array_equal(load_table(tmp_path / "one.npz")[0], X)
    np.savez(tmp_path / "two.npz", a=X, b=X)
    with pytest.raises(DataError, match=r"a .npz archive of 2 arrays \(a, b\); save the one to use alone"):
        load_table(tmp_path / "two.npz")
    np.save(tmp_path / "objects.npy", np.array([[1, "x"]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="holds Python objects"):
        load_table(tmp_path / "objects.npy")
    with pytest.raises(DataError, match="not a NumPy file"):
        load_table(write(tmp_path, "1,2\n", name="text.npy"))


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff1,2\n3,4\n".encode())
    X, names = load_table(path)
    assert names == ["0", "1"] and X.shape == (2, 2)
    path.write_bytes("\ufeffwidth,height\n3,4\n".encode())
    assert load_table(path)[1] == ["width", "height"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NA,2\n3,4\n5,6\n", "1 row(s) with missing, NaN or infinite values (data rows 1)"),
        ("1,2.O\n3,4\n5,6\n", "column '1' is not numeric (data row 1: '2.O')"),
        ("1.5\n-2.O\n3\n", "column '0' is not numeric (data row 2: '-2.O')"),
        ("2.O\n2\n3\n", "column '0' is not numeric (data row 1: '2.O')"),
    ],
)
def test_a_first_row_with_a_gap_or_a_typo_is_data_not_a_header(tmp_path, text, message):
    with pytest.raises(DataError, match=re.escape(message)):
        load_table(write(tmp_path, text))


def test_headers_are_still_found(tmp_path):
    assert load_table(write(tmp_path, ",x,y\n0,1.5,2\n1,3,4\n"))[1] == ["", "x", "y"]  # pandas' index column
    assert load_table(write(tmp_path, "x,label\n1,a\n2,b\n"), ["x"])[1] == ["x"]  # over a text column


def test_odd_files_get_one_line(tmp_path):
    with pytest.raises(DataError, match=r"line 2: field larger than field limit \(131072\)"):
        load_table(write(tmp_path, "1,2\n3," + "4" * 140_000 + "\n"))
    with pytest.raises(DataError, match="is a directory, not a data file"):
        load_table(tmp_path)
    with pytest.raises(DataError, match="NUL bytes"):
        load_table(write(tmp_path, "1,2\x00\n"))
    with pytest.raises(DataError, match="not UTF-8"):
        (tmp_path / "latin.csv").write_bytes(b"\xe9,1\n")
        load_table(tmp_path / "latin.csv")


def test_a_fifo_is_read_to_its_end(tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("a,b\n1,2\n3,4\n"))
    writer.start()
    X, names = load_table(fifo)
    writer.join()
    assert names == ["a", "b"] and X.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(DataError, match=r"not a regular file or a pipe \(a character device\)"):
        load_table("/dev/zero")


# ------------------------------------------------------------------------------------ writing outputs


def test_outputs_keep_modes_links_and_special_files(tmp_path):
    import os
    import stat

    from jaxshift.io import write_outputs

    existing = tmp_path / "existing.csv"
    existing.write_text("old")
    existing.chmod(0o640)
    target = tmp_path / "target.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target.name)
    first = tmp_path / "first.csv"
    first.write_text("old")
    second = tmp_path / "second.csv"
    os.link(first, second)
    new = tmp_path / "new.csv"
    mask = os.umask(0o027)
    try:
        write_outputs([(str(p), b"new") for p in (existing, link, first, new)] + [("/dev/null", b"new")])
    finally:
        os.umask(mask)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640 and existing.read_text() == "new"
    assert link.is_symlink() and target.read_text() == "new"  # the link kept, its target written
    assert second.read_text() == "new" and first.stat().st_ino == second.stat().st_ino  # written in place
    assert stat.S_IMODE(new.stat().st_mode) == 0o640  # 0o666 under the umask
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.csv", "first.csv", "link.csv", "new.csv"] + [
        "second.csv",
        "target.csv",
    ]


def test_a_failed_or_interrupted_write_touches_nothing_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    import os

    from jaxshift.io import write_outputs

    kept = tmp_path / "kept.csv"
    kept.write_text("old")
    for error in (OSError("disk full"), KeyboardInterrupt()):

        def fail(*args, error=error):
            raise error

        monkeypatch.setattr(os, "fsync", lambda fd: None)
        calls = []

        def fsync_then_fail(fd, calls=calls, fail=fail):
            calls.append(fd)
            if len(calls) == 2:  # the second output's temporary file
                fail()

        monkeypatch.setattr(os, "fsync", fsync_then_fail)
        with pytest.raises(type(error)):
            write_outputs([(str(kept), b"new"), (str(tmp_path / "other.csv"), b"new")])
        assert kept.read_text() == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]


def test_outputs_are_checked_before_anything_is_computed(tmp_path):
    from jaxshift.io import check_outputs

    data = write(tmp_path, "1,2\n")
    (tmp_path / "alias.csv").symlink_to(data)
    cases = [
        ({"--labels-out": str(tmp_path)}, "is a directory"),
        ({"--labels-out": str(data)}, "is the input file"),
        ({"--labels-out": str(tmp_path / "alias.csv")}, "is the input file"),
        ({"--labels-out": str(tmp_path / "no" / "x.csv")}, "its folder does not exist"),
        ({"--labels-out": str(tmp_path / "a.csv"), "--plot": str(tmp_path / "a.csv")}, "the same file as --labels-out"),
        ({"--labels-out": "-", "--centers-out": "-"}, "the same file as --labels-out -"),
    ]
    for outputs, message in cases:
        with pytest.raises(DataError, match=re.escape(message)):
            check_outputs(outputs, inputs=[str(data)])
    check_outputs({"--labels-out": "/dev/null", "--centers-out": str(tmp_path / "c.csv"), "--plot": None}, [str(data)])
