"""Shared helpers for the benchmarks: timing, machine description, dated result tables."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn, *args, **kwargs):
    """(seconds, value) of one call; JAX values are waited for."""
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    try:
        import jax

        jax.block_until_ready(value)
    except ImportError:
        pass
    return time.perf_counter() - start, value


def median_time(fn, *args, repeats=5, **kwargs):
    """Median seconds over ``repeats`` calls (call it warm: after a first call)."""
    return statistics.median(timed(fn, *args, **kwargs)[0] for _ in range(repeats))


def machine() -> str:
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, jax {jax.__version__} "
        f"({jax.default_backend()})"
    )


def write_result(name: str, title: str, header: list[str], rows: list[list], notes: str = "") -> Path:
    """Write a dated Markdown table to ``experiments/results/`` and print it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    today = datetime.date.today().isoformat()
    lines = [f"# {title}", "", f"Date: {today}. Machine: {machine()}.", ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    if notes:
        lines += ["", notes.strip()]
    text = "\n".join(lines) + "\n"
    path = RESULTS / f"{today}-{name}.md"
    path.write_text(text)
    print(text)
    return path
