"""Gradients of mean-shift modes by implicit differentiation at the fixed point.

A converged mode ``m`` is a fixed point of the mean-shift map,

    m = M(m; X, w, h) = Σ_i w_i g(r_i) x_i / Σ_i w_i g(r_i),    r_i = |(m - x_i) / h|²,

so ``F(m, θ) = M(m; θ) - m = 0`` and, by the implicit function theorem, ``dm/dθ = -(∂F/∂m)⁻¹ ∂F/∂θ``
for the data ``X``, the weights ``w`` and the bandwidth ``h``. :func:`fixed_points` attaches this
derivative to the modes any solver found (the ``lax.while_loop`` of :mod:`jaxshift.solvers.mean_shift`,
which reverse mode cannot differentiate), by :func:`jax.lax.custom_root`: the loop runs forward only
and is never unrolled. A derivative costs one pass of the blockwise reduction for ``∂F/∂θ``
(reverse or forward mode, memory O(block) as the forward pass) plus ``d`` forward passes for the
(d, d) blocks of ``∂F/∂m`` and a d x d solve per mode. ``∂F/∂m`` is block diagonal: each mode
depends on its own position only.

What a mode returns:

- a seed's starting point gets zero gradient (a converged mode does not move with its start);
- at a mode ``∂F/∂m = -h² ∇² log f̂`` (Gaussian) is positive definite. Where it is singular or
  nearly so (two modes about to merge, a saddle), ``dm/dθ`` is unbounded; such a mode (smallest
  singular value of ``∂F/∂m`` below :data:`SINGULAR`) gets a zero gradient instead of inf/NaN, and
  :func:`curvature` tells which modes these are;
- a seed that did not converge is differentiated as if its last position were the fixed point
  (check ``converged``);
- compact kernels: the flat and Epanechnikov steps are piecewise constant in the position, so
  ``∂F/∂m = -I`` almost everywhere and ``dm/dx_i`` is the weight of ``x_i`` in the window's mean;
  the derivative in the bandwidth is zero almost everywhere (the window's edge is where it jumps).

See ``docs/math.md`` for the derivation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxshift.kernels import Kernel
from jaxshift.reduce import kernel_sums

Array = jax.Array

SINGULAR = 1e-6  # smallest singular value of ∂F/∂m below which a mode is degenerate (1 at a sharp mode)


def mean_map(
    positions: Array, data: Array, bandwidth: Array, weights: Array | None = None, *, kernel: Kernel, data_axis=None
):
    """The mean-shift map ``M``: the shadow-weighted mean of the data around each position; a
    position with no data in reach (compact kernels) is its own mean."""
    sums = kernel_sums(positions, data, bandwidth, kernel=kernel, weights=weights, data_axis=data_axis)
    empty = sums.total <= 0
    mean = sums.moment / jnp.where(empty, 1.0, sums.total)[:, None]
    return jnp.where(empty[:, None], positions, mean)


def _jacobian_blocks(linear, like: Array) -> Array:
    """The (m, d, d) diagonal blocks of a block-diagonal linear map on (m, d) arrays like ``like``:
    column k of every block is the map applied to the k-th unit vector in every row."""
    dim = like.shape[1]
    columns = [linear(jnp.zeros_like(like).at[:, k].set(1.0)) for k in range(dim)]
    return jnp.stack(columns, axis=-1)


def _safe_solve(blocks: Array, rhs: Array) -> Array:
    """Solve each (d, d) block against its row of ``rhs``; a nearly singular block gives zeros."""
    regular = jnp.linalg.svd(blocks, compute_uv=False)[:, -1] > SINGULAR  # False for NaN too
    safe = jnp.where(regular[:, None, None], blocks, jnp.eye(blocks.shape[-1], dtype=blocks.dtype))
    solution = jnp.linalg.solve(safe, rhs[..., None])[..., 0]
    return jnp.where(regular[:, None], solution, 0.0)


def _tangent_solve(linear, rhs):
    blocks = jax.lax.stop_gradient(_jacobian_blocks(linear, rhs))
    return _safe_solve(blocks, rhs)


def fixed_points(
    modes: Array, data: Array, bandwidth: Array, weights: Array | None = None, *, kernel: Kernel, data_axis=None
):
    """``modes``, made differentiable in ``data``, ``weights`` and ``bandwidth`` at the fixed point.

    Args:
      modes: (m, d) fixed points of the mean-shift map, found by any solver whose own derivative is
        not wanted (it gets none: what made ``modes`` receives zero gradient, seeds included).
      data, bandwidth, weights, kernel, data_axis: what defines the mean-shift map.
    """

    def residual(positions):
        return mean_map(positions, data, bandwidth, weights, kernel=kernel, data_axis=data_axis) - positions

    return jax.lax.custom_root(residual, jax.lax.stop_gradient(modes), lambda _, found: found, _tangent_solve)


def curvature(modes: Array, data: Array, bandwidth: Array, weights: Array | None = None, *, kernel: Kernel):
    """The (m,) smallest singular value of ``∂F/∂m`` at each mode: in (0, 1] at a mode of the Gaussian
    (``∂F/∂m = -h² ∇² log f̂``, unitless), 1 for the compact kernels' piecewise constant steps, near 0
    where the implicit gradient is degenerate (below :data:`SINGULAR` it is zeroed, see the module)."""

    def residual(positions):
        return mean_map(positions, data, bandwidth, weights, kernel=kernel) - positions

    _, linear = jax.linearize(residual, modes)
    return jnp.linalg.svd(_jacobian_blocks(linear, modes), compute_uv=False)[:, -1]
