"""The kernel reduction's entry point: :func:`kernel_sums`, checked and compiled."""

from __future__ import annotations

import jax

from jaxshift.api import validation as v
from jaxshift.kernels import Kernel, get_kernel
from jaxshift.reduce import DEFAULT_DATA_BLOCK, DEFAULT_QUERY_BLOCK, KernelSums, blockwise, sharding

Array = jax.Array

_kernel_sums = jax.jit(
    blockwise.kernel_sums,
    static_argnames=("kernel", "profile", "with_moment", "query_block", "data_block", "data_axis"),
)


@v.keeps_half_precision("data")
@sharding.follow_data("data")
def kernel_sums(
    queries: Array,
    data: Array,
    bandwidth: Array,
    *,
    kernel: Kernel | str,
    weights: Array | None = None,
    profile: str = "shadow",
    with_moment: bool = True,
    query_groups: Array | None = None,
    data_groups: Array | None = None,
    query_block: int = DEFAULT_QUERY_BLOCK,
    data_block: int = DEFAULT_DATA_BLOCK,
) -> KernelSums:
    """Kernel sums for every query, blockwise over queries and data (see :mod:`jaxshift.reduce`).

    Args:
      queries: (m, d) query points.
      data: (n, d) data points.
      bandwidth: scalar or (d,) bandwidth.
      kernel: a :class:`~jaxshift.kernels.Kernel` or its name.
      weights: optional (n,) non-negative weights.
      profile: ``"shadow"`` or ``"density"``.
      with_moment: whether to compute the weighted sums of the data.
      query_groups, data_groups: optional (m,) and (n,) ints (both or neither); a pair whose
        query and data point are in the same group is left out. With the data as queries and
        ``groups = arange(n)`` this is leave-one-out; with fold numbers, k-fold.
      query_block, data_block: tile sizes; peak memory is O(query_block · data_block · d).

    Returns:
      :class:`KernelSums` with (m,) ``log_scale`` and ``total`` and (m, d) ``moment``.

    Called with sharded data (:mod:`jaxshift.reduce.sharding`) it runs under
    :func:`jax.shard_map`, each device over its shard of the data.

    Raises:
      ValueError: for bad input, naming the argument (values are only checked outside ``jit``).
    """
    kernel = get_kernel(kernel)
    v.check_choice(profile, "profile", ("shadow", "density"))
    data = v.as_points(data, "data")
    n, dim = data.shape
    queries = v.as_points(queries, "queries", dim=dim).astype(data.dtype)
    bandwidth = v.as_bandwidth(bandwidth, dim, data.dtype)
    weights = v.as_weights(weights, n, data.dtype, scale_free=False)  # the sums are the weights'
    if (query_groups is None) != (data_groups is None):
        raise ValueError("query_groups and data_groups: give both or neither")
    if query_groups is not None:
        query_groups = v.check_groups(query_groups, "query_groups", queries.shape[0])
        data_groups = v.check_groups(data_groups, "data_groups", n)
    v.check_blocks(query_block, data_block)
    placement = sharding.current()
    if placement is not None and n % placement.size:
        placement = None
    return _kernel_sums(
        queries,
        data,
        bandwidth,
        kernel=kernel,
        weights=weights,
        profile=profile,
        with_moment=bool(with_moment),
        query_groups=query_groups,
        data_groups=data_groups,
        query_block=query_block,
        data_block=data_block,
        data_axis=placement,
    )
