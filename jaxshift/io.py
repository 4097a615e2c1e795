"""Reading data tables (CSV, ``.npy``, one-array ``.npz``) and writing a run's output files.

Reading trusts nothing in the file: a ``.npy`` header's declared size is compared with the
file's before anything is allocated, text must be UTF-8 (a byte-order mark is dropped), and
whether the first CSV row is a header is decided against the rows below it.

Writing is in two steps, so that a run either writes every output or none:
:func:`check_outputs` refuses, before any computation, a path that cannot be written (a missing
or read-only folder, a directory, the input itself, the same file twice), and
:func:`write_outputs` writes them all at the end: each regular file to a temporary file in its
own folder, with the existing file's permissions (or the umask's for a new one), renamed over
the path once every output has been written. A symbolic link keeps pointing where it did: its
target is replaced. Special files (``-`` for standard output, devices such as ``/dev/null``,
FIFOs) and regular files with more than one hard link are written in place, so the device stays a
device and every name of a hard-linked file sees the new content (in place means not atomic:
those are written before the renames, once the temporary files are complete). No temporary file
survives an error or Ctrl-C.
"""

from __future__ import annotations

import csv
import io
import math
import os
import signal
import stat
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data file that cannot be used, or an output that cannot be written, with a one-line reason."""


STDIO = "-"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_DEFLATE_RATIO = 1100  # deflate cannot expand more than 1032:1; a larger declared size is forged


# ----------------------------------------------------------------------------------------- reading


def load_table(path: str | os.PathLike, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Load a numeric table: CSV (delimiter sniffed, header detected), ``.npy``, or a ``.npz`` holding
    one array. The format is recognised by the file's first bytes, not its name; ``-`` reads
    standard input, and a pipe (``<(command)``) is read to its end.

    Args:
      path: the file.
      columns: names (with a header) or 0-based indices of the columns to use; all by default.

    Returns:
      (data (n, d) float64, column names).

    Raises:
      DataError: unreadable or empty file, non-numeric columns, rows with missing or NaN values
        (naming them), unknown columns.
    """
    stream, size = _open_input(path)
    with stream:
        head = stream.read(len(_NPY_MAGIC))
        stream.seek(0)
        if head.startswith(_NPY_MAGIC):
            data = _read_npy(stream, size, path)
        elif head.startswith(_ZIP_MAGIC):
            data = _read_npz(stream, path)
        elif Path(str(path)).suffix.lower() in (".npy", ".npz"):
            raise DataError(f"{path}: not a NumPy file (it does not start with a .npy or .npz signature)")
        else:
            data = None
            names, body = _read_csv(stream.read(), path)
    if data is not None:
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.dtype.kind not in "fiub":
            raise DataError(f"{path}: expected a 2-D numeric array, got shape {data.shape} and dtype {data.dtype}")
        names = [str(i) for i in range(data.shape[1])]
        index = [_column_index(c, names, path) for c in columns] if columns else list(range(len(names)))
        rows, names = data[:, index].astype(np.float64), [names[i] for i in index]
    else:
        index = [_column_index(c, names, path) for c in columns] if columns else list(range(len(names)))
        rows, names = _to_numbers(body, index, names, path), [names[i] for i in index]
    if rows.shape[0] == 0:
        raise DataError(f"{path}: no data rows")
    if rows.shape[1] == 0:
        raise DataError(f"{path}: no columns")
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if bad.size:
        shown = ", ".join(str(int(i) + 1) for i in bad[:5]) + (" ..." if bad.size > 5 else "")
        raise DataError(f"{path}: {bad.size} row(s) with missing, NaN or infinite values (data rows {shown})")
    return rows, names


def _open_input(path) -> tuple[io.BufferedIOBase, int]:
    """A seekable binary stream of the input and its size in bytes. Regular files are opened as
    they are; standard input and pipes are read to their end first."""
    if str(path) == STDIO:
        raw = sys.stdin.buffer.read()
        return io.BytesIO(raw), len(raw)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path}: is a directory, not a data file")
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        raise DataError(f"{path}: not a regular file or a pipe ({_kind(info.st_mode)})")
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed by the caller)
        if stat.S_ISREG(info.st_mode):
            return stream, os.fstat(stream.fileno()).st_size
        with stream:
            raw = stream.read()
        return io.BytesIO(raw), len(raw)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "a special file"


def _read_npy(stream, size: int, path) -> np.ndarray:
    """The array of a ``.npy`` stream, after checking that its header declares no more (and no
    fewer) bytes than the file holds: a forged shape never reaches an allocation."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown format version {version}")
    except (ValueError, OSError, SyntaxError, TypeError) as err:
        raise DataError(f"{path}: not a readable .npy file ({_one_line(err)})") from None
    if dtype.hasobject:
        raise DataError(f"{path}: holds Python objects (dtype {dtype}); only numeric arrays are read")
    if dtype.kind not in "fiub":
        raise DataError(f"{path}: expected a numeric array, got dtype {dtype}")
    available = size - stream.tell()
    declared = math.prod(shape) * dtype.itemsize
    if declared != available:
        raise DataError(
            f"{path}: its header declares shape {shape} of {dtype} ({declared} bytes), "
            f"but the file holds {available} bytes of data"
        )
    raw = stream.read(declared)
    if len(raw) != declared:
        raise DataError(f"{path}: truncated while reading ({len(raw)} of {declared} bytes)")
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _read_npz(stream, path) -> np.ndarray:
    """The one array of a ``.npz`` archive (saved with ``numpy.savez`` or ``savez_compressed``)."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npz file ({_one_line(err)})") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) != 1:
            names = ", ".join(info.filename.removesuffix(".npy") for info in members[:8])
            raise DataError(
                f"{path}: a .npz archive of {len(members)} arrays ({names}{' ...' if len(members) > 8 else ''}); "
                "save the one to use alone (numpy.save)"
            )
        (member,) = members
        if member.file_size > _MAX_DEFLATE_RATIO * member.compress_size + 2**20:
            raise DataError(f"{path}: its archive declares {member.file_size} bytes, more than it can hold")
        try:
            with archive.open(member) as inner:
                if inner.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                    raise DataError(f"{path}: its member {member.filename!r} is not a .npy array")
                inner.seek(0)
                return _read_npy(inner, member.file_size, path)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as err:
            raise DataError(f"{path}: not a readable .npz file ({_one_line(err)})") from None


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return (text[:200] + " ...") if len(text) > 200 else text or err.__class__.__name__


# Missing fields besides "nan" in any case, which float() itself reads as NaN.
_MISSING = ("", "na", "nA", "Na", "NA")
_SNIFF_CHARS = 65536
_HEADER_EVIDENCE_ROWS = 200


def _read_csv(raw: bytes, path) -> tuple[list[str], list[list[str]]]:
    """Column names (given or 0, 1, ...) and the rows of fields, all of the same width."""
    try:
        text = raw.decode("utf-8-sig")  # a leading byte-order mark is dropped
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: cannot be read as text (not UTF-8: byte {err.start})") from None
    if "\x00" in text:
        raise DataError(f"{path}: cannot be read as text (it holds NUL bytes: a binary file?)")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20])[:_SNIFF_CHARS], delimiters=",;\t ")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(lines, dialect)
    try:
        table = [[cell.strip() for cell in row] for row in reader]
    except csv.Error as err:
        raise DataError(f"{path}: not a readable CSV file (line {reader.line_num}: {_one_line(err)})") from None
    has_header = _is_header(table)
    names = table[0] if has_header else [str(i) for i in range(len(table[0]))]
    body = table[1:] if has_header else table
    for r, row in enumerate(body):
        if len(row) != len(names):
            raise DataError(f"{path}: data row {r + 1} has {len(row)} fields, expected {len(names)}")
    return names, body


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(table: list[list[str]]) -> bool:
    """Whether the first row names the columns, judged against the rows below it.

    A field of the first row votes "data" when it is a number, a missing value (``NA``, ``nan``)
    or a malformed number (``2.O``: it starts like one); it votes "header" when it is other text
    over a column that is numeric below. The first row is a header only if some field votes
    header and none votes data: a first row of data with a typo or a gap is read as data (and the
    bad field is then named), never dropped silently as a header."""
    first, rest = table[0], table[1 : 1 + _HEADER_EVIDENCE_ROWS]
    header_votes = data_votes = 0
    for j, cell in enumerate(first):
        if cell == "":
            continue
        if _is_number(cell) or cell in _MISSING or cell[0] in "0123456789+-.":
            data_votes += 1
            continue
        below = [row[j] for row in rest if j < len(row)]
        if all(_is_number(value) or value in _MISSING for value in below):
            header_votes += 1
        elif not any(_is_number(value) for value in below):
            header_votes += 1  # a text column under a name
    return header_votes > 0 and data_votes == 0


def _to_numbers(body: list[list[str]], index: list[int], names: list[str], path) -> np.ndarray:
    """The ``index`` columns of ``body`` as float64, missing fields ("", "na", "nan", any case) as NaN."""
    if not body:
        return np.empty((0, len(index)))
    cells = np.array(body, dtype=object)[:, index] if index else np.empty((len(body), 0), dtype=object)
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
            shown = repr(cell) if len(cell) <= 40 else repr(cell[:40]) + f"... ({len(cell)} characters)"
            raise DataError(
                f"{path}: column {names[index[j]]!r} is not numeric (data row {r + 1}: {shown}); "
                "choose numeric columns with --columns"
            ) from None
    return values


def _column_index(column: str, names: list[str], path) -> int:
    if column in names:
        return names.index(column)
    if column.isdigit() and int(column) < len(names):
        return int(column)
    raise DataError(f"{path}: no column {column!r}; the columns are {', '.join(names)}")


# ----------------------------------------------------------------------------------------- writing


def check_outputs(outputs: dict[str, str | None], inputs: Iterable[str] = ()) -> None:
    """Refuse, before any computation, output paths that cannot be written.

    Args:
      outputs: ``{what: path}`` (``what`` names the option in messages, e.g. ``"--labels-out"``);
        None paths are skipped.
      inputs: paths that no output may overwrite.

    Raises:
      DataError: naming the path and the reason: a missing or unwritable folder, a directory, a
        socket, a read-only file, an input file, a path given twice, ``-`` given twice.
    """
    seen: dict[tuple[int, int] | str, str] = {}
    input_ids = set()
    for source in inputs:
        if source != STDIO:
            try:
                info = os.stat(source)
                input_ids.add((info.st_dev, info.st_ino))
            except OSError:
                pass
    for what, path in outputs.items():
        if path is None:
            continue
        if path == "":
            raise DataError(f"{what}: an empty path")
        if path == STDIO:
            key: tuple[int, int] | str = STDIO
        else:
            key = _check_one_output(what, path, input_ids)
        if key in seen:
            raise DataError(f"{what} {path}: the same file as {seen[key]}")
        seen[key] = f"{what} {path}"


def _check_one_output(what: str, path: str, input_ids: set) -> tuple[int, int] | str:
    target = os.path.realpath(path)  # a symbolic link's target is what gets written
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise DataError(f"{what} {path}: cannot be used ({err.strerror or err})") from None
    if info is None:
        folder = os.path.dirname(target) or "."
        if not os.path.isdir(folder):
            raise DataError(f"{what} {path}: its folder does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DataError(f"{what} {path}: its folder is not writable")
        return target
    if (info.st_dev, info.st_ino) in input_ids:
        raise DataError(f"{what} {path}: is the input file; choose another name")
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{what} {path}: is a directory")
    if stat.S_ISSOCK(info.st_mode):
        raise DataError(f"{what} {path}: is a socket")
    if not os.access(target, os.W_OK):
        raise DataError(f"{what} {path}: is not writable")
    if stat.S_ISCHR(info.st_mode):
        return f"{what}: a character device"  # /dev/null may take several outputs
    if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
        folder = os.path.dirname(target) or "."
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DataError(f"{what} {path}: its folder is not writable (the file is replaced as a whole)")
    return (info.st_dev, info.st_ino)


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C (SIGINT) is waiting, held back by a blocked signal
    mask (the command line blocks it while it runs: see ``jaxshift.cli.main``)."""
    if hasattr(signal, "sigpending") and signal.SIGINT in signal.sigpending():
        signal.sigwait({signal.SIGINT})
        raise KeyboardInterrupt


def write_outputs(outputs: Iterable[tuple[str, bytes]], stdout=None) -> None:
    """Write every ``(path, content)``: regular files through a temporary file in their own folder
    renamed into place at the end, special files, hard-linked files and ``-`` in place (see the
    module's docstring). On any error or Ctrl-C before the renames, no regular output has been
    touched and no temporary file is left; the renames themselves are not interrupted by Ctrl-C."""
    outputs = list(outputs)
    temporary: list[tuple[str, str]] = []  # (temporary file, target)
    raise_if_interrupted()
    try:
        in_place = []
        for path, content in outputs:
            if path == STDIO:
                in_place.append((path, content))
                continue
            target = os.path.realpath(path)
            try:
                info = os.stat(target)
            except FileNotFoundError:
                info = None
            if info is not None and not (stat.S_ISREG(info.st_mode) and info.st_nlink == 1):
                in_place.append((target, content))
                continue
            mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
            folder, name = os.path.split(target)
            fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
            temporary.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fchmod(handle.fileno(), mode)
                if info is not None and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(handle.fileno(), info.st_uid, info.st_gid)
                    except OSError:
                        pass
                os.fsync(handle.fileno())
        for target, content in in_place:
            if target == STDIO:
                stream = stdout if stdout is not None else sys.stdout
                stream.flush()
                stream.buffer.write(content)
                stream.buffer.flush()
            else:
                with open(target, "r+b" if os.path.isfile(target) else "wb") as handle:
                    handle.write(content)
                    if os.path.isfile(target):
                        handle.truncate()
        raise_if_interrupted()
        with _deferred_interrupt():
            while temporary:
                tmp, target = temporary[0]
                os.replace(tmp, target)
                temporary.pop(0)
    finally:
        for tmp, _ in temporary:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _deferred_interrupt:
    """Hold back Ctrl-C (SIGINT) for the duration of a ``with`` block, then raise it."""

    def __enter__(self):
        self.pending = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():

            def hold(signum, frame):
                self.pending = True

            self.previous = signal.signal(signal.SIGINT, hold)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            if self.pending and exc[0] is None:
                raise KeyboardInterrupt
        return False


def render(write: Callable[[io.BytesIO], object]) -> bytes:
    """The bytes ``write(file)`` produces (outputs are rendered in memory before any is written)."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()
