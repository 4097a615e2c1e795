import os
from collections import defaultdict
from pathlib import Path

# The suite checks numbers, not speed: XLA's cheaper optimisation level, and its older CPU code
# generator for fusions (the newer one's compile time is 2.7x on the suite's programs), compile
# several times faster and compute the same values (benchmarks under experiments/ use the defaults).
_FAST_COMPILE = " ".join(
    [
        "--xla_backend_optimization_level=0",
        "--xla_llvm_disable_expensive_passes=true",
        "--xla_cpu_use_fusion_emitters=false",
    ]
)
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_FAST_COMPILE}".strip()

import jax  # noqa: E402
import pytest  # noqa: E402

from jaxshift.demo import tutorial_data as _tutorial_data  # noqa: E402

# float64 references need x64; float32 behaviour is tested by passing float32 data explicitly.
jax.config.update("jax_enable_x64", True)

# Almost all of the suite's time is XLA compilation. Compiled programs are kept on disk and shared
# by the pytest-xdist workers of one run (and by later runs): JAXSHIFT_TEST_CACHE sets the folder,
# "off" turns it off.
CACHE = os.environ.get("JAXSHIFT_TEST_CACHE", str(Path(__file__).resolve().parents[1] / ".pytest_cache" / "jax"))
if CACHE != "off":
    jax.config.update("jax_compilation_cache_dir", CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

# a script that test_sharding.py runs in a fresh process with 4 devices, not a module to import here
# (--doctest-modules would import it)
collect_ignore = ["sharded_check.py"]


@pytest.fixture
def tutorial_data():
    """The tutorial's example: two 100-point N(0, I) blobs at (3, 3) and (8, 8), seed 42."""
    return _tutorial_data()


# JAXSHIFT_PROFILE_COMPILES=1: report the compilation time of each test at the end of the run (with
# pytest-xdist, run it with -n 0); JAXSHIFT_PROFILE_COMPILES=<folder>: each worker also writes every
# compilation (test, function, seconds) to a file there.
if os.environ.get("JAXSHIFT_PROFILE_COMPILES"):
    _compile_seconds = defaultdict(float)
    _current = ["collection"]
    _log_folder = os.environ["JAXSHIFT_PROFILE_COMPILES"]
    _log = None if _log_folder == "1" else Path(_log_folder) / f"compiles-{os.getpid()}.tsv"

    def _listener(event, duration, fun_name="?", **_):
        if event == "/jax/core/compile/backend_compile_duration":
            _compile_seconds[_current[0]] += duration
            if _log is not None:
                with _log.open("a") as f:
                    f.write(f"{_current[0]}\t{fun_name}\t{duration:.3f}\n")

    jax.monitoring.register_event_duration_secs_listener(_listener)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(item):
        _current[0] = item.nodeid
        yield

    def pytest_terminal_summary(terminalreporter):
        total = sum(_compile_seconds.values())
        terminalreporter.write_line(f"compilation: {total:.1f} s in all; the largest:")
        for name, seconds in sorted(_compile_seconds.items(), key=lambda kv: -kv[1])[:40]:
            terminalreporter.write_line(f"{seconds:7.2f} s  {name}")
