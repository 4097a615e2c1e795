"""The ``jaxshift`` command line: ``cluster``, ``bandwidth`` and ``demo``."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

NAMED_BANDWIDTHS = ("auto", "scott", "silverman", "normal_gradient")


def _parser() -> argparse.ArgumentParser:
    from jaxshift.kernels import KERNEL_NAMES

    parser = argparse.ArgumentParser(prog="jaxshift", description="Mean-shift clustering in JAX.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cluster = commands.add_parser("cluster", help="cluster the rows of a CSV or .npy file")
    cluster.add_argument("data", help="a CSV file (header optional, delimiter detected) or a .npy array")
    cluster.add_argument(
        "--bandwidth", default="auto", help=f"{', '.join(NAMED_BANDWIDTHS)} or a number (default auto)"
    )
    cluster.add_argument("--kernel", default="gaussian", choices=KERNEL_NAMES)
    cluster.add_argument("--columns", nargs="+", metavar="COL", help="columns to use, by name or 0-based index")
    cluster.add_argument("--labels", choices=("basin", "nearest"), help="how points get clusters (default basin)")
    cluster.add_argument("--bin-seeding", action="store_true", help="start from grid cells, not from every point")
    cluster.add_argument("--min-bin-freq", type=int, default=1, help="points a cell needs to seed (with --bin-seeding)")
    cluster.add_argument(
        "--grid",
        action="store_true",
        help="grid mean shift (MeanShift++): fast and approximate, 1-6 dimensions; --bandwidth is the cell side",
    )
    cluster.add_argument("--labels-out", metavar="FILE", help="write one label per row (.csv/.txt or .npy)")
    cluster.add_argument("--centers-out", metavar="FILE", help="write the centres (.csv or .npy)")
    cluster.add_argument("--plot", metavar="FILE", help="draw the clusters to a PNG (needs matplotlib)")
    cluster.add_argument("--quiet", action="store_true", help="no progress bar")

    bandwidth = commands.add_parser("bandwidth", help="choose a bandwidth for a CSV or .npy file")
    bandwidth.add_argument("data")
    bandwidth.add_argument("--form", choices=("scalar", "diagonal", "full"), default="scalar")
    bandwidth.add_argument("--columns", nargs="+", metavar="COL")
    bandwidth.add_argument("--plot", metavar="FILE", help="draw the likelihood curve to a PNG (needs matplotlib)")
    bandwidth.add_argument("--quiet", action="store_true", help="no progress bar")

    demo = commands.add_parser("demo", help="cluster the tutorial's two-blob example and draw it")
    demo.add_argument("--plot", default="demo.png", metavar="FILE", help="figure to write (default: demo.png)")
    demo.add_argument("--no-plot", action="store_true", help="print the clusters only")
    demo.add_argument("--bandwidth", default="auto", help="'auto' (default) or a positive number")
    return parser


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


def _check_outputs(*paths) -> None:
    for path in paths:
        if path and not Path(path).resolve().parent.is_dir():
            raise ValueError(f"{path}: its folder does not exist")


def _save_array(path: str, array, header: list[str] | None = None, fmt: str = "%.10g") -> None:
    import numpy as np

    from jaxshift.io import write_atomically

    if path.endswith(".npy"):
        write_atomically(path, lambda f: np.save(f, array))
        return

    def write(f):
        text = io.StringIO()
        np.savetxt(text, array, delimiter=",", fmt=fmt, header=",".join(header) if header else "", comments="")
        f.write(text.getvalue().encode())

    write_atomically(path, write)


def _save_figure(path: str, fig) -> None:
    from jaxshift.io import write_atomically

    write_atomically(path, lambda f: fig.savefig(f, format="png"))


def _cluster(args) -> int:
    import numpy as np

    from jaxshift import bin_seeds, mean_shift
    from jaxshift.io import load_table

    bandwidth = _bandwidth_arg(args.bandwidth)
    _check_outputs(args.labels_out, args.centers_out, args.plot)
    X, names = load_table(args.data, args.columns)
    if args.bin_seeding and args.labels == "basin":
        raise ValueError("--labels basin needs every point as a seed; drop --bin-seeding or use --labels nearest")
    if args.grid:
        if isinstance(bandwidth, str):
            raise ValueError("--grid: needs a number for --bandwidth (the cell side)")
        if args.bin_seeding or args.labels:
            raise ValueError("--grid: every point moves and gets its own cell's cluster; drop --bin-seeding / --labels")
    start = time.perf_counter()
    seeds = None
    if args.bin_seeding:
        if isinstance(bandwidth, str):
            from jaxshift.api.clustering import resolve_bandwidth
            from jaxshift.kernels import get_kernel

            bandwidth = float(resolve_bandwidth(np.asarray(X, np.float32), bandwidth, get_kernel(args.kernel)))
        seeds = bin_seeds(X, bandwidth, args.min_bin_freq)
    if args.grid:
        from jaxshift import grid_mean_shift

        result = grid_mean_shift(X.astype(np.float32), bandwidth)
        k = int(result.n_clusters)
    else:
        m = len(X) if seeds is None else len(seeds)  # the bar counts the seeds that stopped

        def show(i, moving):
            return m - int(moving), f"iteration {i}, {int(moving)} moving"

        progress = _progress_bar("mean shift", m, args.quiet, "seed", show)
        try:
            result = mean_shift(
                X.astype(np.float32), bandwidth, kernel=args.kernel, seeds=seeds, labels=args.labels, progress=progress
            )
            k = int(result.n_clusters)
        finally:
            if progress is not None:
                progress.close()
    elapsed = time.perf_counter() - start
    centers = np.asarray(result.centers[:k], np.float64)
    sizes = np.asarray(result.cluster_sizes[:k])
    labels = np.asarray(result.labels)
    h = np.atleast_1d(np.asarray(result.bandwidth, np.float64))
    how = f" ({bandwidth})" if isinstance(bandwidth, str) else ""
    print(f"{args.data}: {len(X)} points, {X.shape[1]} dimensions ({', '.join(names)})")
    if args.grid:
        print(f"grid mean shift (MeanShift++), cell side {', '.join(f'{x:.4g}' for x in h)}")
        unconverged = int(np.sum(~np.asarray(result.converged)))
        note = "" if unconverged == 0 else f"; {unconverged} points stopped at max_iter=100"
    else:
        print(f"kernel {args.kernel}, bandwidth {', '.join(f'{x:.4g}' for x in h)}{how}")
        unconverged = int(np.sum(~np.asarray(result.converged) & ~np.asarray(result.dropped)))
        note = "" if unconverged == 0 else f"; {unconverged} seeds stopped at max_iter=300"
    print(f"{k} clusters, {int(result.n_iter)} iterations, {elapsed:.2f} s{note}")
    shown = min(k, 20)
    print(f"{'cluster':>7} {'size':>7}  centre ({', '.join(names)})")
    for i in range(shown):
        print(f"{i:>7} {sizes[i]:>7}  (" + ", ".join(f"{c:.4g}" for c in centers[i]) + ")")
    if k > shown:
        print(f"... and {k - shown} more (smallest {int(sizes[shown:].min())} points)")
    orphans = int(np.sum(labels < 0))
    if orphans:
        print(f"{orphans} points without a cluster (label -1)")
    if args.plot:
        from jaxshift import plot

        fig = plot.clusters(X, labels, centers, feature_names=names, title=f"{Path(args.data).name}: {k} clusters")
        _save_figure(args.plot, fig)
    if args.labels_out:
        _save_array(args.labels_out, labels.reshape(-1, 1), header=["label"], fmt="%d")
    if args.centers_out:
        _save_array(args.centers_out, centers, header=names)
    for path, what in ((args.plot, "figure"), (args.labels_out, "labels"), (args.centers_out, "centres")):
        if path:
            print(f"{what} written to {path}")
    return 0


def _bandwidth(args) -> int:
    import numpy as np

    from jaxshift import bandwidth_sweep, clustering_bandwidth, rule_of_thumb, select_bandwidth
    from jaxshift.io import load_table

    _check_outputs(args.plot)
    X, names = load_table(args.data, args.columns)
    X32 = X.astype(np.float32)
    unique, counts = np.unique(X32, axis=0, return_counts=True)
    if len(unique) < 2:
        raise ValueError(f"{args.data}: all {len(X)} rows are the same point; no bandwidth can be fitted to it")
    progress = _progress_bar(  # select_bandwidth takes at most max_iter=100 steps
        "likelihood", 100, args.quiet, "step", lambda step, value: (step, f"log-likelihood {float(value):.4f}")
    )
    start = time.perf_counter()
    try:
        chosen = select_bandwidth(
            unique, form=args.form, weights=counts if len(unique) < len(X) else None, progress=progress
        )
        bandwidth = np.asarray(chosen.bandwidth, np.float64)
    finally:
        if progress is not None:
            progress.close()
    elapsed = time.perf_counter() - start
    print(f"{args.data}: {len(X)} points, {X.shape[1]} dimensions ({', '.join(names)})")
    if len(unique) < len(X):
        print(f"{len(X) - len(unique)} duplicate rows: each distinct row counted once, weighted by its copies")
    status = "converged" if bool(chosen.converged) else "did NOT converge"
    print(f"leave-one-out likelihood ({args.form}): {status} in {int(chosen.n_iter)} steps, {elapsed:.2f} s")
    print(f"  mean log-likelihood per point: {float(chosen.objective):.5g}")
    print("  bandwidth: " + np.array2string(bandwidth, precision=4, separator=", ").replace("\n", "\n             "))
    for rule in ("scott", "silverman", "normal_gradient"):
        value = np.asarray(rule_of_thumb(X32, rule, form=args.form), np.float64)
        print(f"{rule + ' rule':>22}: " + np.array2string(value, precision=4, separator=", ").replace("\n", " "))
    auto = float(clustering_bandwidth(X32))
    print(f"{'for clustering (auto)':>22}: {auto:.4g} (scalar, Gaussian kernel)")
    if args.plot:
        from jaxshift import plot

        scalar = _rms_scale(bandwidth)
        hs = np.geomspace(scalar / 4, scalar * 4, 25)
        sweep = bandwidth_sweep(unique if len(unique) == len(X) else X32, hs, clusters=False)
        form = "" if args.form == "scalar" else f" (scalar h; chosen: the {args.form} bandwidth's rms scale)"
        fig = plot.bandwidth_objective(
            sweep, chosen=scalar, title=f"{Path(args.data).name}: leave-one-out likelihood{form}"
        )
        _save_figure(args.plot, fig)
        print(f"figure written to {args.plot}")
    return 0


def _rms_scale(bandwidth):
    """One number for a bandwidth of any form: the root mean square of its per-dimension scales."""
    import numpy as np

    variances = np.diag(bandwidth) if bandwidth.ndim == 2 else np.square(np.atleast_1d(bandwidth))
    return float(np.sqrt(np.mean(variances)))


def _use_compilation_cache() -> None:
    """Keep compiled programs between runs of the command (JAX's persistent compilation cache)."""
    import jax

    if os.environ.get("JAX_COMPILATION_CACHE_DIR") or jax.config.jax_compilation_cache_dir:
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jaxshift" / "jax"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _use_compilation_cache()
    if args.command == "demo":
        from jaxshift.demo import run_demo

        try:
            bandwidth = _bandwidth_arg(args.bandwidth)
        except ValueError as err:
            print(f"jaxshift: error: {err}", file=sys.stderr)
            return 2
        return run_demo(None if args.no_plot else args.plot, bandwidth)
    from jaxshift.io import DataError

    try:
        return _cluster(args) if args.command == "cluster" else _bandwidth(args)
    except (DataError, ValueError, OSError, ImportError) as err:
        print(f"jaxshift: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
