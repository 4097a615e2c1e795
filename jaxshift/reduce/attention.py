"""The Gaussian mean-shift step as softmax attention: the fast path on GPUs.

With seeds ``y`` and data ``x`` in bandwidth units, the Gaussian step's weights are
``exp(-|y - x|²/2) = exp(y·x - |x|²/2) · exp(-|y|²/2)``; the last factor is the same for every
``x``, so the weighted mean of the data is softmax attention with query ``[y, 1]``, key
``[x, -|x|²/2 + log w]`` and value ``x``. A fused attention kernel (cuDNN's flash attention, through
:func:`jax.nn.dot_product_attention`) runs it in half precision with fp32 accumulation, an order of
magnitude faster than an fp32 step.

Half precision is made to serve as follows:

- Every block of seeds is centred on its own bounding box's centre (the seeds are spatially
  ordered, so blocks are compact), which keeps every coordinate that matters small.
- Coordinates and the key's last entry are split in two half-precision parts, ``a = hi + lo``, and
  the pairs recombined by the kernel's fp32 dot products: ``q = [y_hi, y_hi, y_lo, 1, 1]``,
  ``k = [x_hi, x_lo, x_hi, c_hi, c_lo]``, so ``q·k = y·x + c`` to about 2⁻²² relative; the values
  are ``[x_hi, x_lo]``. What is left is the rounding of the kernel's half-precision output, about
  2⁻¹² of the block's extent.
- Data farther than :data:`FAR` bandwidths from the block's centre get a null key, logit
  ``-3·10⁴``: their true weight, relative to the seed's nearest data point, is below ``exp(-2000)``
  for every seed within :data:`MAX_BLOCK_RADIUS` of the centre. Blocks wider than that take the
  exact fp32 step instead.

:func:`jaxshift.mean_shift` uses it for the Gaussian kernel on GPUs and finishes with
exact fp32 steps (see ``backend`` there), so the modes returned agree with the fp32 path.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array

FAR = 128.0  # bandwidths; |x|²/2 must stay well inside float16's range (65504)
MAX_BLOCK_RADIUS = 48.0  # bandwidths; seeds this close to the centre ignore only data beyond FAR
NULL_LOGIT = -3.0e4
MAX_DIM = 42  # 3d + 2 key entries, at most the 128 a fused kernel takes
DEFAULT_QUERY_BLOCK = 32768
KEY_MULTIPLE = 128  # data padded to whole tiles of the fused kernel


def head_dim(dim: int) -> int:
    """Key width for ``dim`` coordinates: 3·dim + 2, rounded up to a multiple of 8, at least 16."""
    return max(16, -(-(3 * dim + 2) // 8) * 8)


def attention_available() -> bool:
    """Whether the default device has a fused attention kernel (an NVIDIA GPU with cuDNN)."""
    try:
        device = jax.devices()[0]
        return device.platform == "gpu" and "cuda" in device.client.platform_version.lower()
    except (RuntimeError, AttributeError):
        return False


def _split(a: Array, dtype) -> tuple[Array, Array]:
    hi = a.astype(dtype)
    return hi, (a - hi.astype(a.dtype)).astype(dtype)


def _pad(a: Array, width: int) -> Array:
    return jnp.pad(a, ((0, 0), (0, width - a.shape[1])))


def attention_means(
    queries: Array,
    data: Array,
    log_weight: Array | None = None,
    *,
    dtype=jnp.float16,
    implementation: str | None = None,
) -> Array:
    """Gaussian-weighted means of ``data`` for each query, by fused attention.

    Args:
      queries: (q, d) points in bandwidth units, spatially compact (see the module's notes).
      data: (n, d) points in bandwidth units.
      log_weight: optional (n,) log weights of the data (``-inf`` for weight 0).
      dtype: the kernel's input precision, float16 (default) or bfloat16.
      implementation: ``"cudnn"`` (:func:`jax.nn.dot_product_attention`'s fused kernel, NVIDIA
        GPUs) or ``"emulated"`` (:func:`emulated_attention`, for tests on any device).

    Returns:
      (q, d) means, in ``queries``' dtype.
    """
    q, dim = queries.shape
    centre = 0.5 * (jnp.min(queries, axis=0) + jnp.max(queries, axis=0))
    y = queries - centre
    x = data - centre
    r_sq = jnp.sum(x * x, axis=1)
    c = -0.5 * r_sq if log_weight is None else log_weight - 0.5 * r_sq
    far = (r_sq > FAR * FAR) | (c < NULL_LOGIT)
    x = jnp.where(far[:, None], 0.0, x)
    c = jnp.where(far, NULL_LOGIT, c)

    y_hi, y_lo = _split(y, dtype)
    x_hi, x_lo = _split(x, dtype)
    c_hi, c_lo = _split(c[:, None], dtype)
    ones = jnp.ones((q, 1), dtype)
    width = head_dim(dim)
    query = _pad(jnp.concatenate([y_hi, y_hi, y_lo, ones, ones], axis=1), width)
    key = _pad(jnp.concatenate([x_hi, x_lo, x_hi, c_hi, c_lo], axis=1), width)
    value = _pad(jnp.concatenate([x_hi, x_lo], axis=1), width)
    # whole tiles of data for the fused kernel: null keys (logit NULL_LOGIT, weight 0) fill the last
    extra = -data.shape[0] % KEY_MULTIPLE
    if extra:
        null = jnp.zeros((extra, width), dtype).at[:, 3 * dim].set(NULL_LOGIT)
        key = jnp.concatenate([key, null])
        value = jnp.concatenate([value, jnp.zeros((extra, width), dtype)])
    if implementation == "cudnn":
        # one batch, one head
        out = jax.nn.dot_product_attention(
            query[None, :, None, :], key[None, :, None, :], value[None, :, None, :], scale=1.0, implementation="cudnn"
        )[0, :, 0, :]
    else:
        out = emulated_attention(query, key, value)
    out = out.astype(queries.dtype)
    return out[:, :dim] + out[:, dim : 2 * dim] + centre


def emulated_attention(query: Array, key: Array, value: Array) -> Array:
    """What a flash-attention kernel computes from half-precision inputs, in plain XLA for any
    device: fp32 logits and softmax, probabilities rounded to the inputs' precision for the
    product with the values, the output rounded too. It materialises the (q, n) matrix: tests only."""
    dtype = query.dtype
    logits = query.astype(jnp.float32) @ key.astype(jnp.float32).T
    p = jnp.exp(logits - jnp.max(logits, axis=1, keepdims=True))
    out = (p.astype(dtype).astype(jnp.float32) @ value.astype(jnp.float32)) / jnp.sum(p, axis=1, keepdims=True)
    return out.astype(dtype)


def rounding_floor(radius: Array) -> Array:
    """Shifts (bandwidths) below which a step's half-precision output is rounding noise: four
    float16 spacings at the block's radius, the largest value the output holds."""
    return 4.0 * radius * 2.0**-10


def block_radius(queries: Array) -> Array:
    """Half the diagonal of the queries' bounding box (bandwidth units)."""
    half = 0.5 * (jnp.max(queries, axis=0) - jnp.min(queries, axis=0))
    return jnp.sqrt(jnp.sum(half * half))
