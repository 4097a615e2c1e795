"""jaxshift: mean-shift clustering in JAX."""

from jaxshift import kde
from jaxshift.bandwidth import BandwidthResult, quantile_bandwidth, rule_of_thumb, select_bandwidth
from jaxshift.blurring import BlurringResult, blurring_mean_shift
from jaxshift.grid import GridMeanShiftResult, grid_mean_shift
from jaxshift.kernels import KERNEL_NAMES, Kernel, get_kernel
from jaxshift.mean_shift import MeanShiftResult, MeanShiftState, bin_seeds, init, mean_shift, run, step
from jaxshift.reduce import KernelSums, kernel_sums, prepare_data

__version__ = "0.1.0"

__all__ = [
    "BandwidthResult",
    "kde",
    "quantile_bandwidth",
    "rule_of_thumb",
    "select_bandwidth",
    "KERNEL_NAMES",
    "BlurringResult",
    "Kernel",
    "KernelSums",
    "MeanShiftResult",
    "MeanShiftState",
    "bin_seeds",
    "blurring_mean_shift",
    "get_kernel",
    "grid_mean_shift",
    "GridMeanShiftResult",
    "init",
    "kernel_sums",
    "mean_shift",
    "prepare_data",
    "run",
    "step",
]
