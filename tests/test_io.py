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
