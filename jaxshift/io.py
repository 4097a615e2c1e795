"""Reading data tables (CSV and .npy) and writing results completely or not at all."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data file that cannot be used, with a one-line reason."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_table(path: str | os.PathLike, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Load a numeric table: CSV (delimiter sniffed, header detected) or ``.npy``.

    Args:
      path: the file.
      columns: names (with a header) or 0-based indices of the columns to use; all by default.

    Returns:
      (data (n, d) float64, column names).

    Raises:
      DataError: unreadable or empty file, non-numeric columns, rows with missing or NaN values
        (naming them), unknown columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix == ".npy":
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise DataError(f"{path}: not a readable .npy file ({err})") from None
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.dtype.kind not in "fiub":
            raise DataError(f"{path}: expected a 2-D numeric array, got shape {data.shape} and dtype {data.dtype}")
        names = [str(i) for i in range(data.shape[1])]
        index = [_column_index(c, names, path) for c in columns] if columns else list(range(len(names)))
        rows, names = data[:, index].astype(np.float64), [names[i] for i in index]
    else:
        names, body = _read_csv(path)
        index = [_column_index(c, names, path) for c in columns] if columns else list(range(len(names)))
        rows, names = _to_numbers(body, index, names, path), [names[i] for i in index]
    if rows.shape[0] == 0:
        raise DataError(f"{path}: no data rows")
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if bad.size:
        shown = ", ".join(str(int(i) + 1) for i in bad[:5]) + (" ..." if bad.size > 5 else "")
        raise DataError(f"{path}: {bad.size} row(s) with missing, NaN or infinite values (data rows {shown})")
    return rows, names


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Column names (given or 0, 1, ...) and the rows of fields, all of the same width."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be read as text ({err.__class__.__name__})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t ")
    except csv.Error:
        dialect = csv.excel
    table = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO("\n".join(lines)), dialect)]
    has_header = any(cell and not _is_number(cell) for cell in table[0])
    names = table[0] if has_header else [str(i) for i in range(len(table[0]))]
    body = table[1:] if has_header else table
    for r, row in enumerate(body):
        if len(row) != len(names):
            raise DataError(f"{path}: data row {r + 1} has {len(row)} fields, expected {len(names)}")
    return names, body


# Missing fields besides "nan" in any case, which float() itself reads as NaN.
_MISSING = ("", "na", "nA", "Na", "NA")


def _to_numbers(body: list[list[str]], index: list[int], names: list[str], path: Path) -> np.ndarray:
    """The ``index`` columns of ``body`` as float64, missing fields ("", "na", "nan", any case) as NaN."""
    if not body:
        return np.empty((0, len(index)))
    cells = np.array(body, dtype=object)[:, index]
    try:
        return cells.astype(np.float64)  # float() on each field, in C
    except ValueError:
        pass
    cells = np.where(np.isin(cells, _MISSING), "nan", cells)
    try:
        return cells.astype(np.float64)
    except ValueError:
        pass
    values = np.empty(cells.shape)
    for (r, j), cell in np.ndenumerate(cells):  # row by row, to name the first field that is not a number
        try:
            values[r, j] = float(cell)
        except ValueError:
            raise DataError(
                f"{path}: column {names[index[j]]!r} is not numeric (data row {r + 1}: {cell!r}); "
                "choose numeric columns with --columns"
            ) from None
    return values


def _column_index(column: str, names: list[str], path: Path) -> int:
    if column in names:
        return names.index(column)
    if column.isdigit() and int(column) < len(names):
        return int(column)
    raise DataError(f"{path}: no column {column!r}; the columns are {', '.join(names)}")


def write_atomically(path: str | os.PathLike, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then move it into place, so the
    file is either complete or untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
