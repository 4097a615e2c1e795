"""The kernel reduction and its back ends.

- :mod:`~jaxshift.reduce.blockwise`: the exact blockwise, log-stable reduction everything is built on.
- :mod:`~jaxshift.reduce.attention`: the Gaussian step as half-precision fused attention (GPUs).
- :mod:`~jaxshift.reduce.sharding`: the reduction split over a mesh axis, partial sums combined.
- :mod:`~jaxshift.reduce.cells`: compact kernels reduced over the neighbour cells in reach only
  (low dimensions).
"""

from jaxshift.reduce.blockwise import (
    DEFAULT_DATA_BLOCK,
    DEFAULT_QUERY_BLOCK,
    DataBlock,
    KernelSums,
    PreparedData,
    block_sums,
    centre,
    kernel_sums,
    log_weights,
    prepare_data,
    spatial_order,
    squared_distances,
)

__all__ = [
    "DEFAULT_DATA_BLOCK",
    "DEFAULT_QUERY_BLOCK",
    "DataBlock",
    "KernelSums",
    "PreparedData",
    "block_sums",
    "centre",
    "kernel_sums",
    "log_weights",
    "prepare_data",
    "spatial_order",
    "squared_distances",
]
