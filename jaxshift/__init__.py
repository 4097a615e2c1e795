"""jaxshift: mean-shift clustering in JAX.

The layers, each importing only those before it (see ``docs/architecture.md``):
:mod:`~jaxshift.kernels` -> :mod:`~jaxshift.reduce` -> :mod:`~jaxshift.solvers` ->
:mod:`~jaxshift.density` -> :mod:`~jaxshift.api` (re-exported here) -> the applications
(:mod:`jaxshift.sklearn`, :mod:`jaxshift.cli`, :mod:`jaxshift.plot`, :mod:`jaxshift.io`, :mod:`jaxshift.demo`).
"""

from jaxshift.api import checking, kde
from jaxshift.api.bandwidth import (
    bandwidth_sweep,
    clustering_bandwidth,
    quantile_bandwidth,
    rule_of_thumb,
    select_bandwidth,
)
from jaxshift.api.clustering import bin_seeds, blurring_mean_shift, grid_mean_shift, mean_shift
from jaxshift.api.reduce import kernel_sums
from jaxshift.api.significance import merge_insignificant, mode_significance
from jaxshift.density.clustering import SweepResult
from jaxshift.density.selection import BandwidthResult
from jaxshift.density.significance import AutoReport, ModeSignificance
from jaxshift.kernels import KERNEL_NAMES, Kernel, get_kernel
from jaxshift.reduce import KernelSums, prepare_data
from jaxshift.solvers.blurring import BlurringResult
from jaxshift.solvers.grid import GridMeanShiftResult
from jaxshift.solvers.mean_shift import MeanShiftInfo, MeanShiftResult, MeanShiftState, init, run, step

__version__ = "0.1.0"

__all__ = [
    "KERNEL_NAMES",
    "AutoReport",
    "BandwidthResult",
    "BlurringResult",
    "GridMeanShiftResult",
    "Kernel",
    "KernelSums",
    "MeanShiftInfo",
    "MeanShiftResult",
    "MeanShiftState",
    "ModeSignificance",
    "SweepResult",
    "bandwidth_sweep",
    "bin_seeds",
    "blurring_mean_shift",
    "checking",
    "clustering_bandwidth",
    "get_kernel",
    "grid_mean_shift",
    "init",
    "kde",
    "kernel_sums",
    "mean_shift",
    "merge_insignificant",
    "mode_significance",
    "prepare_data",
    "quantile_bandwidth",
    "rule_of_thumb",
    "run",
    "select_bandwidth",
    "step",
]
