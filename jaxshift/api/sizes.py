"""Size classes: eager calls pad the number of points to one of a few sizes, so that a program
called with many different ``n`` compiles a handful of times, not once per ``n``.

The sizes are ``2^e · (1 + j/4)``, four per octave (at least :data:`MIN_SIZE`): padding adds at most
a quarter, and at the sizes people pick (1000, 3000, 10000, 20000) 2-5%. Padding rows are copies of
the first row with weight zero, so the kernel sums, the bounding box and the results are the
unpadded ones; padding seeds are dropped (see :func:`jaxshift.solvers.mean_shift.solve`).
Calls inside ``jit``/``vmap``/``grad`` (traced data) are never padded: their shapes are the caller's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxshift.solvers.clusters import cluster_sizes
from jaxshift.solvers.mean_shift import MeanShiftResult

MIN_SIZE = 16
CLASSES_PER_OCTAVE = 4


def size_class(n: int) -> int:
    """The smallest size class at or above ``n``."""
    if n <= MIN_SIZE:
        return MIN_SIZE
    octave = (n - 1).bit_length() - 1  # 2^octave < n <= 2^(octave + 1)
    step = max(1, (1 << octave) // CLASSES_PER_OCTAVE)
    return -(-n // step) * step


def power_of_two_rows(k: int, minimum: int) -> int:
    """Rows that ``k`` clusters are padded to: the next power of two, at least ``minimum``, so
    results whose cluster counts are near each other share one compilation."""
    return max(minimum, 1 << (max(k, 1) - 1).bit_length())


def padded_rows(a: jax.Array, size: int) -> jax.Array:
    """(n, ...) ``a`` with copies of its first row appended up to ``size`` rows (on the host: an
    eager operation of its own would compile once per shape, which is what the padding avoids)."""
    extra = size - a.shape[0]
    if extra == 0:
        return a
    if isinstance(a, jax.core.Tracer):  # e.g. seeds being differentiated
        return jnp.concatenate([a, jnp.broadcast_to(a[:1], (extra,) + a.shape[1:])])
    host = np.asarray(a)
    return jnp.asarray(np.concatenate([host, np.repeat(host[:1], extra, axis=0)]))


def padded_weights(weights: jax.Array | None, n: int, size: int, dtype) -> jax.Array:
    """Weights for ``size`` rows: the given ones (or ones), then zeros."""
    if isinstance(weights, jax.core.Tracer):
        return jnp.concatenate([weights, jnp.zeros((size - n,), weights.dtype)])
    w = np.ones((n,), dtype) if weights is None else np.asarray(weights)
    return jnp.asarray(np.concatenate([w, np.zeros((size - n,), w.dtype)]))


def unpadded(result: MeanShiftResult, n: int, m: int, rows: int) -> MeanShiftResult:
    """The result for the first ``n`` points, ``m`` seeds and ``rows`` centre rows."""
    if result.labels.shape[0] == n and result.modes.shape[0] == m and result.centers.shape[0] == rows:
        return result
    labels = _head(result.labels, n)
    if isinstance(labels, jax.core.Tracer):
        counts = cluster_sizes(labels, rows)
    else:
        host = np.asarray(labels)  # cluster_sizes on the host, for the same reason as _head
        counts = jnp.asarray(np.bincount(host[host >= 0], minlength=rows)[:rows].astype(np.int32))
    return result._replace(
        modes=_head(result.modes, m),
        converged=_head(result.converged, m),
        dropped=_head(result.dropped, m),
        mode_labels=_head(result.mode_labels, m),
        labels=labels,
        centers=_head(result.centers, rows),
        cluster_sizes=counts,
    )


def _head(a: jax.Array, k: int) -> jax.Array:
    if isinstance(a, jax.core.Tracer):  # a traced bandwidth, seeds or weights (vmap, grad): sliced in the trace
        return a[:k]
    # through the host, like the padding: slicing on the device compiles once per shape
    return jnp.asarray(np.asarray(a)[:k])


def seeds_count(m: int) -> jax.Array:
    """``m`` as a traced argument (a new ``m`` within the same size class does not recompile)."""
    return jnp.asarray(m, jnp.int32)
