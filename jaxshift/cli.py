"""The ``jaxshift`` command line: ``cluster``, ``bandwidth`` and ``demo``.

Each subcommand is a :class:`Command` in :data:`COMMANDS` (its arguments and the function that runs
it); :func:`register` adds one. Every command follows the same contract: it prints what it will do
before computing, checks every output path before reading the data, writes its outputs together
at the end (see :mod:`jaxshift.io`), and exits 0 on success, 2 with one line on standard error for
unusable input, 130 on Ctrl-C (with nothing written) and 141 when its output pipe closes.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jaxshift import cli_image

NAMED_BANDWIDTHS = ("auto", "scott", "silverman", "normal_gradient")
LARGE = 10_000  # above this many points, `cluster` climbs from grid-cell seeds unless --all-seeds
CHUNK_SECONDS = 0.5  # Ctrl-C is answered between chunks of mean-shift iterations of about this long
CHUNK_MAX_STEPS = 500  # ... and of at most this many iterations (see climb_in_chunks)
MAX_ITER = 300

CACHE_HELP = """\
Compiled programs are kept between runs in $XDG_CACHE_HOME/jaxshift/jax (by default
~/.cache/jaxshift/jax), which makes later runs start faster. JAXSHIFT_CACHE=off turns this off;
JAXSHIFT_CACHE=DIR keeps them in DIR; JAX_COMPILATION_CACHE_DIR, if set, is used as it is."""


@dataclass(frozen=True)
class Command:
    """A subcommand: ``add_arguments(parser)`` declares its arguments, ``run(args, say)`` runs it and
    returns the exit status (``say(text)`` prints a line of the report)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Callable[[str], None]], int]
    description: str | None = None


COMMANDS: dict[str, Command] = {}


def register(command: Command) -> None:
    """Add a subcommand (its name must be new)."""
    if command.name in COMMANDS:
        raise ValueError(f"command {command.name!r} is already registered")
    COMMANDS[command.name] = command


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("jaxshift")
    except Exception:  # not installed: the source tree's version
        import jaxshift

        return jaxshift.__version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxshift",
        description="Mean-shift clustering in JAX.",
        epilog=CACHE_HELP,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"jaxshift {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            epilog=CACHE_HELP,
            formatter_class=_Formatter,
        )
        command.add_arguments(sub)
    return parser


# ------------------------------------------------------------------------------------ shared parts


def _data_argument(parser) -> None:
    parser.add_argument(
        "data",
        help="the points, one per row: a CSV file (delimiter detected, header optional, UTF-8), a .npy "
        "array or a .npz archive of one array; '-' reads standard input",
    )
    parser.add_argument(
        "--columns",
        nargs="+",
        metavar="COL",
        help="the columns to use, by name (with a header) or 0-based index (default: all)",
    )


def _quiet_argument(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar (it is drawn only on a terminal)")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe(path, X, names) -> str:
    n, d = X.shape
    return f"{path}: {_plural(n, 'point')}, {_plural(d, 'dimension')} ({', '.join(names)})"


def _numbers(values, precision: int = 4) -> str:
    """A scalar, a vector or a matrix on one line, as every bandwidth is printed."""
    import numpy as np

    values = np.asarray(values, np.float64)
    if values.ndim == 0:
        return f"{float(values):.{precision}g}"
    if values.ndim == 1:
        return "[" + ", ".join(f"{x:.{precision}g}" for x in values) + "]"
    return "[" + "; ".join(", ".join(f"{x:.{precision}g}" for x in row) for row in values) + "]"


def _progress_bar(label: str, total: int, quiet: bool, unit: str, show, stream=None):
    """A ``progress(iteration, value)`` callback drawing a tqdm bar on standard error, with a ``close()``;
    None with --quiet, off a terminal, or without tqdm (an optional dependency: ``jaxshift[progress]``).

    ``show(iteration, value)`` gives the bar's position (out of ``total``) and the text after it."""
    stream = sys.stderr if stream is None else stream
    if quiet or not stream.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        print("install 'jaxshift[progress]' for a progress bar", file=stream)
        return None
    # miniters=0: redraw on time alone (at most every 0.1 s), also when the position stands still
    bar = tqdm(total=total, desc=label, unit=unit, file=stream, leave=False, miniters=0)

    def update(iteration, value):
        position, text = show(int(iteration), value)
        bar.set_postfix_str(text, refresh=False)
        bar.update(position - bar.n)

    update.close = bar.close
    return update


def _bandwidth_arg(text: str):
    if text in NAMED_BANDWIDTHS:
        return text
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--bandwidth: expected {', '.join(NAMED_BANDWIDTHS)} or a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"--bandwidth: must be > 0 and finite, got {text}")
    return value


def _require_matplotlib(option: str) -> None:
    """Fail before any computation when a figure is asked for and matplotlib is missing."""
    import importlib.util

    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError(f"{option} needs matplotlib: pip install 'jaxshift[plot]'")


def _array_bytes(path: str, array, header: list[str] | None = None, fmt: str = "%.10g") -> bytes:
    """``array`` as ``.npy`` (for a .npy path) or CSV text."""
    import numpy as np

    from jaxshift.io import render

    if path.lower().endswith(".npy"):
        return render(lambda f: np.save(f, array))
    text = io.StringIO()
    np.savetxt(text, array, delimiter=",", fmt=fmt, header=",".join(header) if header else "", comments="")
    return text.getvalue().encode()


def _figure_bytes(fig) -> bytes:
    import matplotlib.pyplot as plt

    from jaxshift.io import render

    try:
        return render(lambda f: fig.savefig(f, format="png"))
    finally:
        plt.close(fig)


class _Frame:
    """The data centred on its mean and scaled by a power of two in float64, then converted to float32
    (what the computation runs in): values far from the origin keep their precision. Lengths
    (bandwidths) are divided by the same exact power of two."""

    def __init__(self, X):
        import numpy as np

        X = np.asarray(X, np.float64)
        peak = float(np.max(np.abs(X))) if X.size else 0.0
        self.exponent = math.frexp(peak)[1] if peak > 0 else 0  # X * 2^-exponent lies in [-1, 1]
        unit = np.ldexp(X, -self.exponent)
        self.origin = unit.mean(axis=0)
        spread = float(np.max(unit.std(axis=0))) if len(X) > 1 else 0.0
        if spread > 0:
            shift = math.frexp(spread)[1]
            unit = np.ldexp(unit - self.origin, -shift)
            self.exponent += shift
            self.origin = np.ldexp(self.origin, -shift)
        else:
            unit = unit - self.origin
        self.points = unit.astype(np.float32)

    def length(self, value):
        """A length (bandwidth) in the frame's units."""
        import numpy as np

        return np.ldexp(np.asarray(value, np.float64), -self.exponent)

    def to_data(self, length):
        """A length in the frame's units back in the data's."""
        import numpy as np

        return np.ldexp(np.asarray(length, np.float64), self.exponent)

    def positions(self, points):
        """Points in the frame's coordinates back in the data's (float64)."""
        import numpy as np

        return np.ldexp(np.asarray(points, np.float64) + self.origin, self.exponent)


# ---------------------------------------------------------------------------------------- cluster


def _cluster_arguments(parser) -> None:
    from jaxshift.kernels import KERNEL_NAMES

    _data_argument(parser)
    parser.add_argument(
        "--bandwidth",
        default="auto",
        metavar="H",
        help=f"the kernel's scale, in the data's units: a positive number or one of {', '.join(NAMED_BANDWIDTHS)} "
        "(default: auto, chosen for clustering on a random subsample of at most 2000 points)",
    )
    parser.add_argument(
        "--kernel",
        default="gaussian",
        choices=KERNEL_NAMES,
        help="the kernel whose density's modes are the clusters (default: gaussian; flat is scikit-learn's)",
    )
    parser.add_argument(
        "--labels",
        choices=("basin", "nearest"),
        help="how points get clusters: basin (the cluster of the mode the point itself climbs to; every point "
        "a seed) or nearest (the nearest centre). Default: basin when every point is a seed, else nearest",
    )
    seeding = parser.add_mutually_exclusive_group()
    seeding.add_argument(
        "--bin-seeding",
        action="store_true",
        help="climb from the centres of grid cells of one bandwidth, not from every point "
        f"(the default above {LARGE} points)",
    )
    seeding.add_argument(
        "--all-seeds",
        action="store_true",
        help=f"climb from every point, also above {LARGE} points (exact but slow: time grows with n^2)",
    )
    parser.add_argument(
        "--min-bin-freq",
        type=int,
        default=1,
        metavar="K",
        help="with grid-cell seeds, the points a cell needs to be a seed (default: 1)",
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help="grid mean shift (MeanShift++) instead: fast and approximate, 1-6 dimensions, needs a number "
        "for --bandwidth (the cell side)",
    )
    parser.add_argument(
        "--labels-out",
        metavar="FILE",
        help="write one label per row: .npy, else CSV with a 'label' header ('-': standard output)",
    )
    parser.add_argument(
        "--centers-out", metavar="FILE", help="write the centres, one per row: .npy, else CSV with the column names"
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="draw the clusters to a PNG (needs matplotlib; above 4 dimensions, the 4 that best separate them)",
    )
    _quiet_argument(parser)


def _cluster(args, say) -> int:
    import numpy as np

    from jaxshift.demo import CompileClock
    from jaxshift.io import check_outputs, load_table

    bandwidth = _bandwidth_arg(args.bandwidth)
    if args.min_bin_freq < 1:
        raise ValueError(f"--min-bin-freq: must be at least 1, got {args.min_bin_freq}")
    if args.bin_seeding and args.labels == "basin":
        raise ValueError("--labels basin needs every point as a seed; drop --bin-seeding or use --labels nearest")
    if args.grid:
        if isinstance(bandwidth, str):
            raise ValueError("--grid: needs a number for --bandwidth (the cell side)")
        if args.bin_seeding or args.all_seeds or args.labels:
            raise ValueError(
                "--grid: every point moves and gets its own cell's cluster; drop --bin-seeding, --all-seeds, --labels"
            )
    outputs = {"--labels-out": args.labels_out, "--centers-out": args.centers_out, "--plot": args.plot}
    check_outputs(outputs, inputs=[args.data])
    if args.plot:
        _require_matplotlib("--plot")
    X, names = load_table(args.data, args.columns)
    n, d = X.shape
    say(_describe(args.data, X, names))
    frame = _Frame(X)
    if args.grid:
        from jaxshift.solvers.grid import MAX_DIM

        if d > MAX_DIM:
            raise ValueError(
                f"--grid: grid mean shift supports at most {MAX_DIM} dimensions, got {d}; drop --grid for mean shift"
            )
        say(f"grid mean shift (MeanShift++), cell side {bandwidth:.4g}")
        with CompileClock() as clock:
            start = time.perf_counter()
            found = _grid(frame, bandwidth)
            elapsed = time.perf_counter() - start
    else:
        all_seeds = args.all_seeds or args.labels == "basin" or (n <= LARGE and not args.bin_seeding)
        rule = args.labels or ("basin" if all_seeds else "nearest")
        how = f"bandwidth {bandwidth}" if isinstance(bandwidth, str) else f"bandwidth {bandwidth:.4g}"
        if bandwidth == "auto" and n > 2000:
            how += " (chosen on a random subsample of 2000 points)"
        if all_seeds:
            seeding = "every point a seed"
        elif args.bin_seeding:
            seeding = "seeds at grid cells of one bandwidth"
        else:
            seeding = f"seeds at grid cells of one bandwidth, as {n} points are many (--all-seeds: every point)"
        accelerated = " (SQUAREM-accelerated)" if _accelerated(args.kernel, rule) else ""
        say(f"mean shift{accelerated}, {args.kernel} kernel, {how}; {seeding}; labels: {rule}")
        with CompileClock() as clock:
            start = time.perf_counter()
            found = _mean_shift(frame, bandwidth, args, all_seeds, rule, say)
            elapsed = time.perf_counter() - start
    centers, sizes, labels, note, n_iter = found
    k = len(centers)
    say(f"{_plural(k, 'cluster')}, {_plural(n_iter, 'iteration')}, {elapsed:.2f} s{clock.note()}{note}")
    shown = min(k, 20)
    digits = _digits(centers, X)
    say(f"{'cluster':>7} {'size':>7}  centre ({', '.join(names)})")
    for i in range(shown):
        say(f"{i:>7} {sizes[i]:>7}  (" + ", ".join(f"{c:.{digits}g}" for c in centers[i]) + ")")
    if k > shown:
        say(f"... and {k - shown} more (smallest {_plural(int(sizes[shown:].min()), 'point')})")
    orphans = int(np.sum(labels < 0))
    if orphans:
        say(f"{_plural(orphans, 'point')} without a cluster (label -1)")
    files = []
    if args.plot:
        from jaxshift import plot

        fig = plot.clusters(X, labels, centers, feature_names=names, title=f"{Path(args.data).name}: {k} clusters")
        files.append((args.plot, _figure_bytes(fig), "figure"))
    if args.labels_out:
        files.append((args.labels_out, _array_bytes(args.labels_out, labels.reshape(-1, 1), ["label"], "%d"), "labels"))
    if args.centers_out:
        files.append((args.centers_out, _array_bytes(args.centers_out, centers, names, "%.17g"), "centres"))
    _write(files, say)
    return 0


def _digits(centers, X) -> int:
    """Significant digits that show centres to a ten-thousandth of the data's spread (at least 4), so
    that data far from the origin do not print as equal centres."""
    import numpy as np

    spread = float(np.max(np.std(X, axis=0))) if len(X) > 1 else 0.0
    peak = float(np.max(np.abs(centers))) if np.size(centers) else 0.0
    if spread <= 0 or peak <= 0:
        return 4
    return int(min(max(math.ceil(math.log10(peak / spread)) + 4, 4), 17))


def _write(files, say) -> None:
    from jaxshift.io import write_outputs

    write_outputs((path, content) for path, content, _ in files)
    for path, _, what in files:
        if path != "-":
            say(f"{what} written to {path}")


def _grid(frame, bandwidth):
    import numpy as np

    from jaxshift import grid_mean_shift

    result = grid_mean_shift(frame.points, frame.length(bandwidth).astype(np.float32))
    k = int(result.n_clusters)
    unconverged = int(np.sum(~np.asarray(result.converged)))
    note = "" if unconverged == 0 else f"; {_plural(unconverged, 'point')} stopped at max_iter=100"
    centers = frame.positions(np.asarray(result.centers[:k]))
    return centers, np.asarray(result.cluster_sizes[:k]), np.asarray(result.labels), note, int(result.n_iter)


def _mean_shift(frame, bandwidth, args, all_seeds: bool, rule: str, say):
    import numpy as np

    from jaxshift import bin_seeds
    from jaxshift.api.bandwidth import on_a_lattice
    from jaxshift.api.clustering import resolve_named
    from jaxshift.kernels import get_kernel

    X = frame.points
    selection, rounded = None, False
    if isinstance(bandwidth, str):
        h, selection = resolve_named(X, bandwidth, get_kernel(args.kernel))
        h = np.float32(h)
        how = bandwidth
        rounded = bandwidth == "auto" and on_a_lattice(X)
        if bandwidth == "auto":
            how = "auto: plug-in, the data look rounded" if rounded else "auto: gradient cross-validation"
        say(f"bandwidth {float(frame.to_data(h)):.4g} ({how})")
    else:
        h = frame.length(bandwidth).astype(np.float32)
    seeds = X
    if not all_seeds:
        seeds = bin_seeds(X, h, args.min_bin_freq)
        if len(seeds) < len(X):
            say(f"{_plural(len(seeds), 'seed')} (grid cells holding at least {_plural(args.min_bin_freq, 'point')})")
        else:
            say(f"{_plural(len(seeds), 'seed')}: every point has a cell of its own")
    m = len(seeds)

    def show(i, moving):
        return m - int(moving), f"iteration {i}, {int(moving)} moving"

    bar = _progress_bar("mean shift", m, args.quiet, "seed", show)
    try:
        result, n_iter = climb_in_chunks(
            X, h, seeds, kernel=args.kernel, progress=bar, accelerate=_accelerated(args.kernel, rule)
        )
    finally:
        if bar is not None:
            bar.close()
    if bandwidth == "auto":  # as the library's "auto": the clusters that are not significant merged
        from jaxshift.api.significance import auto_merge

        modes = int(result.n_clusters)
        result = auto_merge(X, result, selection, kernel=get_kernel(args.kernel), rounded=rounded)
        merged = modes - int(result.n_clusters)
        say(f"{_plural(modes, 'mode')}; {merged} merged into a neighbour as not significant (bootstrap valley test)")
    k = int(result.n_clusters)
    if rule == "basin":  # every point is a seed, in order: its label is its own mode's cluster
        labels = np.asarray(result.mode_labels)
        sizes = np.bincount(labels[labels >= 0], minlength=k)[:k]
    else:
        labels = np.asarray(result.labels)
        sizes = np.asarray(result.cluster_sizes[:k])
    unconverged = int(np.sum(~np.asarray(result.converged) & ~np.asarray(result.dropped)))
    note = "" if unconverged == 0 else f"; {_plural(unconverged, 'seed')} stopped at max_iter={MAX_ITER}"
    centers = frame.positions(np.asarray(result.centers[:k]))
    return centers, sizes, labels, note, n_iter


def _accelerated(kernel: str, rule: str) -> bool:
    """Gaussian climbs whose points take the nearest centre run SQUAREM cycles: the same modes in far
    fewer steps at the small bandwidths ``auto`` picks on well-separated clusters (1e5 points: 124
    steps, 9 cycles); "basin" labels follow each point's own plain climb, so they keep plain steps."""
    return kernel == "gaussian" and rule == "nearest"


def climb_in_chunks(
    X, bandwidth, seeds, *, kernel="gaussian", max_iter=None, progress=None, chunk_seconds=None, accelerate=False
):
    """``jaxshift.mean_shift(X, bandwidth, seeds=seeds, labels="nearest", accelerate=accelerate)`` run as
    a series of calls of a few iterations each, every call starting from the previous one's modes, so
    that Python answers Ctrl-C between calls (a compiled loop cannot be interrupted). The chunks are
    sized to take about ``chunk_seconds`` (default :data:`CHUNK_SECONDS`); a new ``max_iter``
    recompiles nothing.

    A seed that has converged takes one more step at the start of each later chunk, which moves it
    by less than ``tol`` bandwidths (toward its mode); the clusters and labels are those of one call.

    Returns:
      (the last call's result, the iterations run in all).
    """
    from jaxshift import mean_shift
    from jaxshift.io import raise_if_interrupted

    chunk_seconds = CHUNK_SECONDS if chunk_seconds is None else chunk_seconds
    max_iter = MAX_ITER if max_iter is None else max_iter
    done = 0

    def report(i, moving):
        progress(done + int(i), moving)

    chunk, current = 1, seeds
    while True:
        start = time.perf_counter()
        result = mean_shift(
            X,
            bandwidth,
            kernel=kernel,
            seeds=current,
            labels="nearest",
            max_iter=min(chunk, max_iter - done),
            progress=None if progress is None else report,
            accelerate=accelerate,
        )
        steps = int(result.n_iter)  # waits for the result
        seconds = time.perf_counter() - start
        raise_if_interrupted()
        done += steps
        if bool(result.all_converged) or done >= max_iter or steps == 0:
            return result, done
        current = result.modes
        if done > 1:  # the first call compiles: size the chunks from the second
            sized = chunk_seconds * steps / max(seconds, 1e-6)
            # at most 4x the last chunk and CHUNK_MAX_STEPS: a call's time can grow far past what the
            # last one measured when other processes crowd the cores (steps of a few microseconds then
            # take milliseconds), and Ctrl-C waits for the call
            chunk = int(min(max(sized, 1), 4 * chunk, CHUNK_MAX_STEPS, max_iter))


# -------------------------------------------------------------------------------------- bandwidth


def _bandwidth_arguments(parser) -> None:
    _data_argument(parser)
    parser.add_argument(
        "--form",
        choices=("scalar", "diagonal", "full"),
        default="scalar",
        help="the bandwidth's form: one number, one per dimension, or a full matrix (a covariance, in squared "
        "units) (default: scalar)",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="draw the leave-one-out likelihood against the bandwidth to a PNG (needs matplotlib)",
    )
    _quiet_argument(parser)


def _bandwidth(args, say) -> int:
    import numpy as np

    from jaxshift import bandwidth_sweep, clustering_bandwidth, rule_of_thumb, select_bandwidth
    from jaxshift.demo import CompileClock
    from jaxshift.io import check_outputs, load_table

    check_outputs({"--plot": args.plot}, inputs=[args.data])
    if args.plot:
        _require_matplotlib("--plot")
    X, names = load_table(args.data, args.columns)
    unique, counts = np.unique(X, axis=0, return_counts=True)  # in the file's own precision
    if len(unique) < 2:
        raise ValueError(f"{args.data}: all {len(X)} rows are the same point; no bandwidth can be fitted to it")
    say(_describe(args.data, X, names))
    duplicates = len(X) - len(unique)
    if duplicates:
        say(f"{_plural(duplicates, 'duplicate row')}: each distinct row counted once, weighted by its copies")
    say(f"choosing a {args.form} bandwidth by leave-one-out likelihood (at most 100 steps) ...")
    frame = _Frame(X)
    points = (np.ldexp(unique, -frame.exponent) - frame.origin).astype(np.float32)
    square = 2 if args.form == "full" else 1  # a full bandwidth is a covariance: squared units

    def to_data(value):
        return frame.to_data(frame.to_data(value)) if square == 2 else frame.to_data(value)

    progress = _progress_bar(
        "likelihood", 100, args.quiet, "step", lambda step, value: (step, f"log-likelihood {float(value):.4f}")
    )
    with CompileClock() as clock:
        start = time.perf_counter()
        try:
            chosen = select_bandwidth(points, form=args.form, weights=counts if duplicates else None, progress=progress)
            bandwidth = to_data(np.asarray(chosen.bandwidth, np.float64))
        finally:
            if progress is not None:
                progress.close()
        elapsed = time.perf_counter() - start
    d = X.shape[1]
    objective = float(chosen.objective) - d * frame.exponent * math.log(2.0)  # the density in the data's units
    status = "converged" if bool(chosen.converged) else "did NOT converge"
    steps = _plural(int(chosen.n_iter), "step")
    say(f"leave-one-out likelihood ({args.form}): {status} in {steps}, {elapsed:.2f} s{clock.note()}")
    say(f"  mean log-likelihood per point: {objective:.5g}")
    say(f"  bandwidth: {_numbers(bandwidth)}")
    all_points = frame.points
    for rule in ("scott", "silverman", "normal_gradient"):
        value = to_data(np.asarray(rule_of_thumb(all_points, rule, form=args.form), np.float64))
        say(f"{rule + ' rule':>22}: {_numbers(value)}")
    auto = float(frame.to_data(float(clustering_bandwidth(all_points))))
    say(f"{'for clustering (auto)':>22}: {auto:.4g} (scalar, Gaussian kernel)")
    if args.plot:
        from jaxshift import plot

        scalar = _rms_scale(bandwidth)
        hs = np.geomspace(scalar / 4, scalar * 4, 25)
        sweep = bandwidth_sweep(all_points, frame.length(hs).astype(np.float32), clusters=False)
        sweep = sweep._replace(
            bandwidths=frame.to_data(np.asarray(sweep.bandwidths)),
            loo_log_likelihood=np.asarray(sweep.loo_log_likelihood, np.float64) - d * frame.exponent * math.log(2.0),
        )
        title = f"{Path(args.data).name}: leave-one-out likelihood"
        if args.form != "scalar":
            title += f"\n(scalar h; chosen: the rms scale of the {args.form} bandwidth)"
        fig = plot.bandwidth_objective(sweep, chosen=scalar, title=title)
        _write([(args.plot, _figure_bytes(fig), "figure")], say)
    return 0


def _rms_scale(bandwidth):
    """One number for a bandwidth of any form: the root mean square of its per-dimension scales."""
    import numpy as np

    variances = np.diag(bandwidth) if bandwidth.ndim == 2 else np.square(np.atleast_1d(bandwidth))
    return float(np.sqrt(np.mean(variances)))


# ------------------------------------------------------------------------------------------- demo


def _demo_arguments(parser) -> None:
    parser.add_argument("--plot", default="demo.png", metavar="FILE", help="the figure to write (default: demo.png)")
    parser.add_argument("--no-plot", action="store_true", help="print the clusters only, draw nothing")
    parser.add_argument(
        "--bandwidth", default="auto", metavar="H", help="'auto' (default) or a positive number (the tutorial: 2)"
    )


def _demo(args, say) -> int:
    from jaxshift.demo import run_demo
    from jaxshift.io import check_outputs

    bandwidth = _bandwidth_arg(args.bandwidth)
    plot_path = None if args.no_plot else args.plot
    check_outputs({"--plot": plot_path})
    return run_demo(plot_path, bandwidth, out=say)


register(Command("cluster", "cluster the rows of a CSV or .npy file", _cluster_arguments, _cluster))
register(
    Command(
        "bandwidth",
        "choose a bandwidth for a CSV or .npy file (and compare the rules)",
        _bandwidth_arguments,
        _bandwidth,
    )
)
register(Command("demo", "cluster the tutorial's two-blob example and draw it", _demo_arguments, _demo))
register(
    Command(
        "segment",
        "segment an image by mean shift (jaxshift.image)",
        cli_image.add_segment_arguments,
        cli_image.run_segment,
        cli_image.DESCRIPTION,
    )
)


# ------------------------------------------------------------------------------------------- main


def _use_compilation_cache() -> None:
    """Keep compiled programs between runs of the command (JAX's persistent compilation cache): see
    :data:`CACHE_HELP`."""
    import jax

    setting = os.environ.get("JAXSHIFT_CACHE", "").strip()
    if setting.lower() in ("off", "0", "no", "false", "none"):
        return
    if os.environ.get("JAX_COMPILATION_CACHE_DIR") or jax.config.jax_compilation_cache_dir:
        return
    if setting:
        cache = Path(setting).expanduser()
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jaxshift" / "jax"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


FAST_COMPILER_FLAG = "--xla_cpu_use_fusion_emitters=false"


def _use_fast_compiler() -> None:
    """XLA's older CPU fusion code generator for this process: the first call compiles 22-27% faster
    and runs as fast (experiments/results/2026-11-28-xla-flags.md). Read when JAX's CPU back end
    starts, so it only acts before the first computation; a choice already in XLA_FLAGS is kept."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_use_fusion_emitters" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {FAST_COMPILER_FLAG}".strip()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    command = COMMANDS[args.command]
    to_stdout = "-" in (getattr(args, "labels_out", None), getattr(args, "centers_out", None))
    stream = sys.stderr if to_stdout else sys.stdout  # the report never mixes with data on standard output

    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    from jaxshift.io import DataError

    held = _hold_interrupts()
    try:
        _use_fast_compiler()
        _use_compilation_cache()
        status = command.run(args, say)
        sys.stdout.flush()
        return status
    except (DataError, ValueError, OSError, ImportError) as err:
        if isinstance(err, BrokenPipeError) or getattr(err, "errno", None) == 32:
            return _broken_pipe()
        print(f"jaxshift: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxshift: interrupted; nothing written", file=sys.stderr)
        _exit_now(130)
        return 130  # not reached
    finally:
        _release_interrupts(held)


def _hold_interrupts():
    """Block Ctrl-C (SIGINT) in this thread, and so in every thread XLA starts from it, until
    :func:`_release_interrupts`, and let one idle thread of our own receive it instead: Python
    then raises ``KeyboardInterrupt`` in the main thread as usual, and no XLA worker thread is
    interrupted (a signal delivered to one of them interrupts its system calls). A precaution: it
    was added while chasing a stall of the Ctrl-C test in clean-clone CI runs, which it did not
    cure (see that test's skip reason). (Where no thread can receive it, the run asks between
    chunks of work: :func:`jaxshift.io.raise_if_interrupted`.) Returns the previous mask (None
    where signal masks do not exist)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    global _RECEIVER
    if _RECEIVER is None:
        _RECEIVER = threading.Thread(target=_receive_interrupts, name="jaxshift-sigint", daemon=True)
        _RECEIVER.start()
    return previous


_RECEIVER = None


def _receive_interrupts() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Event().wait()


def _release_interrupts(previous) -> None:
    if previous is None:
        return
    if signal.SIGINT in signal.sigpending():  # after the last check: the work is done and written
        signal.sigwait({signal.SIGINT})
    signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _exit_now(status: int) -> None:
    """End the process at once with ``status``, without the interpreter's shutdown. Ctrl-C can
    arrive while XLA compiles or runs on its own threads; shutting the interpreter down under them
    crashed (SIGSEGV: 4 of 20 runs with Ctrl-C at 0.1-4 s into a run) after the message was
    printed; with this, 20 of 20 exited with 130.
    Nothing is lost: outputs are only ever renamed into place whole, with Ctrl-C held back."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _broken_pipe() -> int:
    """Standard output's reader went away (``jaxshift ... | head -1``): stop quietly, as other tools do
    (128 + SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's last flush does not fail too
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
