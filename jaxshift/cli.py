"""The ``jaxshift`` command line."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxshift", description="Mean-shift clustering in JAX.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="cluster the tutorial's two-blob example and draw it")
    demo.add_argument("--plot", default="demo.png", metavar="FILE", help="figure to write (default: demo.png)")
    demo.add_argument("--no-plot", action="store_true", help="print the clusters only")
    demo.add_argument("--bandwidth", default="auto", help="'auto' (default) or a positive number")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from jaxshift.demo import run_demo

        bandwidth = args.bandwidth if args.bandwidth == "auto" else float(args.bandwidth)
        return run_demo(None if args.no_plot else args.plot, bandwidth)
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
