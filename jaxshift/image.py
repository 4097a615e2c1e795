"""Mean-shift filtering and segmentation of images in the joint spatial-range domain.

An image is not treated as a point cloud: each pixel is a point (row, column, colour) whose
neighbours lie in a square window on the pixel grid, so a step is a stencil, not a reduction over
all pairs. :func:`filter` follows OpenCV's ``cv2.pyrMeanShiftFiltering(image, sp, sr, maxLevel=0)``:

- each pixel starts at its own position ``(y, x)`` and colour ``c``;
- a step averages the positions and colours of the *input* pixels in the window
  ``|dy|, |dx| <= spatial_radius`` around the current position whose colour is within the range,
  ``|colour - c|² <= range_radius²`` (rounded to an integer for uint8 images, as OpenCV does);
- the new position is the rounded mean, the new colour the mean (rounded for uint8 images);
- a pixel stops when its position did not change, when
  ``|Δy| + |Δx| + |Δc|² <= tol``, when no pixel is in range, or after ``max_iter`` steps;
- the output is each pixel's last colour.

Means of uint8 images are rounded as OpenCV rounds them (``cvRound(sum * (1.0 / count))`` in
double precision, reproduced in integer arithmetic, exact ties included), so the output is OpenCV's
to the bit; float images keep unrounded colours.

How it runs: the first step has every window at its own pixel, so it is a stencil over shifted
views of the padded image (a loop over the window's rows, its columns unrolled). After it, windows
follow their pixels and about a quarter of the pixels have stopped after each step, so the later
steps take the active pixels only (``jnp.nonzero`` with a fixed size), in chunks of
:data:`CHUNK`, and gather each one's window as one slice of the padded image (uint8 channels
packed into one 32-bit word, so one gather per window).

:func:`segment` filters, then joins 4-neighbours whose filtered colours are within
``range_radius / 2`` into regions (connected components by label hooking and pointer jumping)
and merges each region smaller than ``min_size`` pixels into the adjacent region of the nearest
mean colour.

Everything is jit-compiled and ``jax.vmap``-able over a stack of equally sized images; a 4-D
``(B, H, W, C)`` input is such a stack. ``color_space="luv"`` or ``"lab"`` converts with
scikit-image on the host (``pip install 'jaxshift[image]'``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxshift.api import validation as v
from jaxshift.solvers import loop

__all__ = ["filter", "segment", "KERNELS", "COLOR_SPACES", "CHUNK"]

KERNELS = ("flat", "gaussian")
COLOR_SPACES = ("rgb", "luv", "lab")
#: active pixels per gathered block in the steps after the first
CHUNK = 4096


# ---------------------------------------------------------------------------------------------
# the kernel: weights of the window's pixels


def _weights(d2, dy, dx, threshold, spatial_radius, range_radius, kernel):
    """Weight of a window pixel at offset (dy, dx) and squared colour distance d2."""
    inside = d2 <= threshold
    if kernel == "flat":
        return jnp.where(inside, jnp.float32(1), jnp.float32(0))
    # Gaussian with standard deviations of half the radii, cut at the window and the range
    spatial = (dy * dy + dx * dx) * (2.0 / spatial_radius**2)
    return jnp.where(inside, jnp.exp(-spatial - d2 * (2.0 / range_radius**2)), jnp.float32(0))


# ---------------------------------------------------------------------------------------------
# the two ways of summing a window: shifted views (every pixel at home) and gathered windows


def _stencil_sums(src, radius, threshold, range_radius, kernel):
    """Window sums for every pixel at its own position and colour: shifted views of the images.

    src: (B, C, H, W) float32. Returns n, sy, sx (offset sums), each (B, H, W), and s (C, B, H, W).
    """
    b, c, h, w = src.shape
    k = 2 * radius + 1
    padded = jnp.pad(src, ((0, 0), (0, 0), (radius, radius), (radius, radius)), constant_values=jnp.inf)

    def row(dy, acc):
        n, sy, sx, s = acc
        s = list(s)
        band = lax.dynamic_slice(padded, (0, 0, dy, 0), (b, c, h, w + 2 * radius))
        off_y = (dy - radius).astype(jnp.float32)
        for dx in range(k):
            # channels summed one by one: XLA fuses these, not a reduction over the channel axis
            view = [band[:, i, :, dx : dx + w] for i in range(c)]
            d2 = sum((view[i] - src[:, i]) ** 2 for i in range(c))
            wt = _weights(d2, off_y, float(dx - radius), threshold, radius, range_radius, kernel)
            n = n + wt
            sy = sy + wt * off_y
            sx = sx + wt * float(dx - radius)
            s = [s[i] + jnp.where(wt > 0, wt * view[i], 0.0) for i in range(c)]
        return n, sy, sx, tuple(s)

    zeros = jnp.zeros((b, h, w), jnp.float32)
    n, sy, sx, s = lax.fori_loop(0, k, row, (zeros, zeros, zeros, (zeros,) * c))
    return n, sy, sx, jnp.stack(s)


def _pack(src_u8):
    """(B, C, H, W) uint8 (C <= 4) -> (B, H, W) uint32, channel i in bits 8i..8i+7."""
    words = src_u8.astype(jnp.uint32)
    return sum(words[:, i] << (8 * i) for i in range(src_u8.shape[1]))


def _gathered_sums(table, packed, bs, ys, xs, cs, radius, shape, threshold, range_radius, kernel):
    """Window sums for K pixels of images bs at positions (ys, xs) with colours cs (C, K): one
    slice of the padded images per pixel. ``table`` is the padded images, (B, Hp, Wp) uint32 if
    ``packed`` else (B, C, Hp, Wp) float32."""
    h, w = shape
    k = 2 * radius + 1
    channels = cs.shape[0]
    if packed:
        patch = jax.vmap(lambda b, y, x: lax.dynamic_slice(table, (b, y, x), (1, k, k)))(bs, ys, xs)
        patch = patch.reshape(-1, k * k)
        values = [((patch >> (8 * i)) & 255).astype(jnp.float32) for i in range(channels)]
    else:
        zero = jnp.int32(0)
        patch = jax.vmap(lambda b, y, x: lax.dynamic_slice(table, (b, zero, y, x), (1, channels, k, k)))(bs, ys, xs)
        values = [patch[:, 0, i].reshape(-1, k * k) for i in range(channels)]
    offsets = jnp.arange(-radius, radius + 1, dtype=jnp.int32)
    rows_in = (ys[:, None] + offsets >= 0) & (ys[:, None] + offsets < h)
    cols_in = (xs[:, None] + offsets >= 0) & (xs[:, None] + offsets < w)
    valid = (rows_in[:, :, None] & cols_in[:, None, :]).reshape(-1, k * k)
    d2 = sum((values[i] - cs[i][:, None]) ** 2 for i in range(channels))
    d2 = jnp.where(valid, d2, jnp.inf)
    grid_y, grid_x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    dy = jnp.asarray(grid_y.reshape(-1), jnp.float32)
    dx = jnp.asarray(grid_x.reshape(-1), jnp.float32)
    wt = _weights(d2, dy, dx, threshold, radius, range_radius, kernel)
    n_y_x = wt @ jnp.stack([jnp.ones_like(dy), dy, dx], axis=1)
    s = jnp.stack([jnp.sum(wt * values[i], axis=1) for i in range(channels)])
    return n_y_x[:, 0], n_y_x[:, 1], n_y_x[:, 2], s


def _tie_table(max_count: int) -> np.ndarray:
    """For n = 0..max_count, how OpenCV's ``cvRound(sum * (1.0 / n))`` (double precision) settles an
    exact tie ``sum / n = m + 1/2``: the product is ``(m + 1/2)(1 + e_n)`` with ``e_n`` the
    reciprocal's relative error. Row n holds ``|e_n| 2^53`` and the sign of ``e_n``."""
    table = np.zeros((max_count + 1, 2), np.float32)
    for n in range(1, max_count + 1):
        error = Fraction(1.0 / n) * n - 1
        table[n] = (abs(float(error * 2**53)), np.sign(float(error)))
    return table


def _round_quotient(total, count, ties):
    """OpenCV's rounding of a mean of integers, ``cvRound(total * (1.0 / count))``, exactly, in
    integer arithmetic: the quotient, nearer integer; at an exact tie the double product lies just
    above or below it, or on it (then half to even) when ``|e_n|`` is under half a unit in the
    last place of ``m + 1/2``."""
    m = total // count
    twice_rem = 2 * (total - m * count)
    scaled, sign = ties[count, 0], ties[count, 1]
    half = m.astype(jnp.float32) + 0.5
    mantissa = 2.0 * jnp.frexp(half)[0]
    on_tie = scaled * mantissa <= 1.0
    up_at_tie = jnp.where(on_tie, m % 2 == 1, sign > 0)
    return m + ((twice_rem > count) | ((twice_rem == count) & up_at_tie)).astype(m.dtype)


def _update(y, x, c, sums, rounded, tol, ties, kernel):
    """OpenCV's step: the rounded mean position, the mean colour, and its stopping rule."""
    n, sy, sx, s = sums
    ok = n > 0
    if rounded and kernel == "flat":
        # integer sums (exact in float32): round each mean as OpenCV does
        count = jnp.where(ok, n, 1.0).astype(jnp.int32)
        y1 = _round_quotient(y * count + sy.astype(jnp.int32), count, ties)
        x1 = _round_quotient(x * count + sx.astype(jnp.int32), count, ties)
        c1 = _round_quotient(s.astype(jnp.int32), count, ties).astype(jnp.float32)
    else:
        count = jnp.where(ok, n, 1.0)
        y1 = jnp.round((y.astype(jnp.float32) * count + sy) / count).astype(jnp.int32)
        x1 = jnp.round((x.astype(jnp.float32) * count + sx) / count).astype(jnp.int32)
        c1 = jnp.round(s / count) if rounded else s / count
    shift = jnp.abs(y1 - y) + jnp.abs(x1 - x) + jnp.sum((c1 - c) ** 2, axis=0)
    stop = ~ok | ((y1 == y) & (x1 == x)) | (shift <= tol)
    return jnp.where(ok, y1, y), jnp.where(ok, x1, x), jnp.where(ok, c1, c), stop


def _filter_batch(src, range_radius, max_iter, tol, *, radius, kernel, rounded):
    """src: (B, C, H, W) float32 (integers for rounded, uint8 images). Returns the (B, C, H, W)
    colours. The pixels of all the images are one pool: the active ones of every image are
    compacted and gathered together."""
    batch, channels, h, w = src.shape
    per_image = h * w
    n_pix = batch * per_image
    range_radius = jnp.asarray(range_radius, jnp.float32)
    threshold = jnp.round(range_radius**2) if rounded else range_radius**2
    tol = jnp.asarray(tol, jnp.float32)

    # step 1: every window at its own pixel
    n, sy, sx, s = _stencil_sums(src, radius, threshold, range_radius, kernel)
    ys, xs = jnp.divmod(jnp.arange(n_pix, dtype=jnp.int32) % per_image, w)
    colours = jnp.moveaxis(src, 1, 0).reshape(channels, n_pix)
    sums = (n.reshape(-1), sy.reshape(-1), sx.reshape(-1), s.reshape(channels, -1))
    ties = jnp.asarray(_tie_table((2 * radius + 1) ** 2))
    ys, xs, colours, stop = _update(ys, xs, colours, sums, rounded, tol, ties, kernel)

    # later steps: the active pixels only, in chunks, each window one gathered slice
    packed = rounded and channels <= 4
    if packed:
        table = jnp.pad(_pack(src.astype(jnp.uint8)), ((0, 0), (radius, radius), (radius, radius)))
    else:
        table = jnp.pad(src, ((0, 0), (0, 0), (radius, radius), (radius, radius)))
    chunk = min(CHUNK, n_pix)
    n_slots = -(-n_pix // chunk) * chunk

    def one_chunk(state):
        j, order, ys, xs, colours, active = state
        ids = lax.dynamic_slice(order, (j * chunk,), (chunk,))
        b = jnp.minimum(ids, n_pix - 1) // per_image
        y, x, c = ys.at[ids].get(mode="clip"), xs.at[ids].get(mode="clip"), colours.at[:, ids].get(mode="clip")
        sums = _gathered_sums(table, packed, b, y, x, c, radius, (h, w), threshold, range_radius, kernel)
        y, x, c, stop = _update(y, x, c, sums, rounded, tol, ties, kernel)
        ys = ys.at[ids].set(y, mode="drop")
        xs = xs.at[ids].set(x, mode="drop")
        colours = colours.at[:, ids].set(c, mode="drop")
        active = active.at[ids].set(~stop, mode="drop")
        return (j + 1, order, ys, xs, colours, active), None

    def one_step(state):
        ys, xs, colours, active = state
        n_active = jnp.sum(active, dtype=jnp.int32)
        (order,) = jnp.nonzero(active, size=n_slots, fill_value=n_pix)
        inner = (jnp.int32(0), order.astype(jnp.int32), ys, xs, colours, active)
        inner, _, _ = loop.run(one_chunk, inner, max_iter=-(-n_active // chunk), done=lambda s: jnp.bool_(False))
        return inner[2:], None

    state = (ys, xs, colours, ~stop)
    state, _, _ = loop.run(one_step, state, max_iter=max_iter - 1, done=lambda s: ~jnp.any(s[3]))
    return jnp.moveaxis(state[2].reshape(channels, batch, h, w), 0, 1)


_filter_batch_jit = jax.jit(_filter_batch, static_argnames=("radius", "kernel", "rounded"))


@cache
def _filter_one(radius: int, kernel: str, rounded: bool):
    """The filter of one (C, H, W) image for these static settings; ``jax.vmap`` over images runs
    the batched filter (one pool of active pixels) rather than a batched loop per image."""

    def single(src, range_radius, max_iter, tol):
        out = _filter_batch_jit(src[None], range_radius, max_iter, tol, radius=radius, kernel=kernel, rounded=rounded)
        return out[0]

    @jax.custom_batching.custom_vmap
    def one(src, range_radius, max_iter, tol):
        return single(src, range_radius, max_iter, tol)

    @one.def_vmap
    def one_vmap(axis_size, in_batched, src, range_radius, max_iter, tol):
        if in_batched[0] and not any(in_batched[1:]):
            return _filter_batch_jit(
                src, range_radius, max_iter, tol, radius=radius, kernel=kernel, rounded=rounded
            ), True
        args = [
            a if batched else jnp.broadcast_to(a, (axis_size,) + jnp.shape(a))
            for a, batched in zip((src, range_radius, max_iter, tol), in_batched, strict=True)
        ]
        return jax.vmap(single)(*args), True

    return one


# ---------------------------------------------------------------------------------------------
# connected components and the merging of small regions


def _components(a, b, valid, n):
    """Labels (the smallest member's index) of the graph on n nodes with edges a[i] - b[i] where
    valid[i]: hook every edge's larger root under its smaller one, then jump pointers to roots."""

    def compress(labels):
        def jump(state):
            labels, _ = state
            nxt = labels[labels]
            return (nxt, jnp.any(nxt != labels)), None

        (labels, _), _, _ = loop.run(jump, (labels, jnp.bool_(True)), max_iter=64, done=lambda s: ~s[1])
        return labels

    def hook(state):
        labels, _ = state
        la, lb = labels[a], labels[b]
        lo, hi = jnp.minimum(la, lb), jnp.maximum(la, lb)
        labels = labels.at[jnp.where(valid & (la != lb), hi, n)].min(lo, mode="drop")
        labels = compress(labels)
        return (labels, jnp.any(valid & (labels[a] != labels[b]))), None

    start = (jnp.arange(n, dtype=jnp.int32), jnp.any(valid))
    (labels, _), _, _ = loop.run(hook, start, max_iter=n, done=lambda s: ~s[1])
    return labels


def _segment_planar(colours, join_radius, min_size):
    """colours: (C, H, W) float32 filtered colours. Returns (H, W) int32 labels 0..K-1 in raster
    order of each region's first pixel."""
    channels, h, w = colours.shape
    n = h * w
    flat = colours.reshape(channels, n)
    index = jnp.arange(n, dtype=jnp.int32)
    right, down = index + 1, index + w
    has_right, has_down = (index % w) < w - 1, index < n - w
    a = jnp.concatenate([index, index])
    b = jnp.concatenate([jnp.minimum(right, n - 1), jnp.minimum(down, n - 1)])
    near = jnp.sum((flat[:, a] - flat[:, b]) ** 2, axis=0) <= join_radius**2
    labels = _components(a, b, jnp.concatenate([has_right, has_down]) & near, n)

    edge = jnp.concatenate([has_right, has_down])
    src, dst = jnp.concatenate([a, b]), jnp.concatenate([b, a])
    edge = jnp.concatenate([edge, edge])

    def merge_small(state):
        labels, _ = state
        size = jax.ops.segment_sum(jnp.ones(n, jnp.float32), labels, n)
        mean = jax.ops.segment_sum(flat.T, labels, n) / jnp.maximum(size, 1)[:, None]
        ls, ld = labels[src], labels[dst]
        candidate = edge & (ls != ld) & (size[ls] < min_size)
        d2 = jnp.where(candidate, jnp.sum((mean[ls] - mean[ld]) ** 2, axis=1), jnp.inf)
        best = jax.ops.segment_min(d2, ls, n)
        target = jax.ops.segment_min(jnp.where(candidate & (d2 == best[ls]), ld, n), ls, n)
        merges = target < n
        roots = _components(index, jnp.minimum(target, n - 1), merges, n)
        return (roots[labels], jnp.any(merges)), None

    (labels, _), _, _ = loop.run(merge_small, (labels, jnp.bool_(True)), max_iter=64, done=lambda s: ~s[1])
    rank = jnp.cumsum(labels == index, dtype=jnp.int32) - 1
    return rank[labels].reshape(h, w)


_segment_jit = jax.jit(_segment_planar)


# ---------------------------------------------------------------------------------------------
# the public functions: validation, colour spaces, batches


def _check_image(image):
    """(array, batched, grey): the image as an array of shape (H, W), (H, W, C) or (B, H, W, C)."""
    if isinstance(image, (str, bytes)) or image is None:
        raise ValueError(f"image: expected an (H, W) or (H, W, C) array, got {image!r}")
    if v.is_concrete(image):
        image = np.asarray(image)
    dtype = np.dtype(image.dtype)
    if not (dtype == np.uint8 or dtype.kind == "f"):
        raise ValueError(f"image: expected uint8 or floating-point pixels, got dtype {dtype}")
    if image.ndim == 2:
        batched, grey = False, True
    elif image.ndim in (3, 4):
        batched, grey = image.ndim == 4, False
        if not 1 <= image.shape[-1] <= 4:
            raise ValueError(
                f"image: expected 1 to 4 channels (last axis) in shape (H, W, C) or (B, H, W, C), "
                f"got shape {tuple(image.shape)}"
            )
    else:
        raise ValueError(f"image: expected shape (H, W), (H, W, C) or (B, H, W, C), got {tuple(image.shape)}")
    spatial = image.shape[-2:] if grey else image.shape[-3:-1]
    if min(spatial) < 1:
        raise ValueError(f"image: is empty, shape {tuple(image.shape)}")
    if isinstance(image, np.ndarray) and dtype.kind == "f" and not np.all(np.isfinite(image)):
        raise ValueError("image: has non-finite pixels (nan or inf)")
    return image, batched, grey


def _check_radius(spatial_radius):
    value = np.asarray(spatial_radius) if v.is_concrete(spatial_radius) else None
    if value is None or isinstance(spatial_radius, bool) or value.shape != () or value.dtype.kind not in "iuf":
        raise ValueError(f"spatial_radius: must be an integer >= 1 (a static number), got {spatial_radius!r}")
    if not np.isfinite(value) or int(value) != value or value < 1:
        raise ValueError(f"spatial_radius: must be an integer >= 1, got {spatial_radius!r}")
    return int(value)


def _check_positive(value, name):
    v.check_non_negative(value, name)
    if v.is_concrete(value) and not float(np.asarray(value)) > 0:
        raise ValueError(f"{name}: must be > 0, got {value!r}")


def _skimage_color():
    try:
        from skimage import color
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("color_space='luv'/'lab' needs scikit-image: pip install 'jaxshift[image]'") from error
    return color


def _to_space(image, color_space):
    """The image in the filtering space, as float32 (and whether it stays on the integer grid)."""
    if color_space == "rgb":
        return image, image.dtype == np.uint8
    if not v.is_concrete(image):
        raise ValueError(
            f"color_space: {color_space!r} converts on the host with scikit-image, so the image cannot be traced "
            "(jit/vmap); pass a concrete (B, H, W, 3) stack instead"
        )
    if image.shape[-1] != 3:
        raise ValueError(f"color_space: {color_space!r} needs 3-channel RGB images, got shape {tuple(image.shape)}")
    color = _skimage_color()
    convert = color.rgb2luv if color_space == "luv" else color.rgb2lab
    rgb = image.astype(np.float64) / 255.0 if image.dtype == np.uint8 else image.astype(np.float64)
    return convert(rgb, channel_axis=-1).astype(np.float32), False


def _from_space(colours, dtype, color_space):
    """The filtered colours back in the image's space and dtype."""
    if color_space == "rgb":
        return colours.astype(dtype)
    color = _skimage_color()
    convert = color.luv2rgb if color_space == "luv" else color.lab2rgb
    rgb = convert(np.asarray(colours, np.float64), channel_axis=-1)
    if dtype == np.uint8:
        return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    return rgb.astype(dtype)


def _validate(image, spatial_radius, range_radius, max_iter, tol, kernel, color_space):
    image, batched, grey = _check_image(image)
    radius = _check_radius(spatial_radius)
    _check_positive(range_radius, "range_radius")
    v.check_positive_int(max_iter, "max_iter")
    v.check_non_negative(tol, "tol")
    v.check_choice(kernel, "kernel", KERNELS)
    v.check_choice(color_space, "color_space", COLOR_SPACES)
    return image, batched, grey, radius


def _run_filter(image, batched, grey, radius, range_radius, max_iter, tol, kernel, color_space):
    """(colours in the filtering space, shaped (..., H, W, C), and the output image)."""
    work = image[..., None] if grey else image
    work, rounded = _to_space(work, color_space)
    planar = jnp.moveaxis(jnp.asarray(work, jnp.float32), -1, -3)
    settings = dict(radius=radius, kernel=kernel, rounded=bool(rounded))
    iters = jnp.asarray(max_iter, jnp.int32)
    if batched:
        colours = _filter_batch_jit(planar, range_radius, iters, tol, **settings)
    else:
        colours = _filter_one(**settings)(planar, range_radius, iters, tol)
    colours = jnp.moveaxis(colours, -3, -1)
    out = _from_space(colours, np.dtype(image.dtype), color_space)
    return colours, (out[..., 0] if grey else out)


def filter(
    image,
    spatial_radius: int,
    range_radius: float,
    *,
    max_iter: int = 5,
    tol: float = 1.0,
    kernel: str = "flat",
    color_space: str = "rgb",
):
    """Mean-shift filter an image in the joint spatial-range domain (OpenCV's
    ``pyrMeanShiftFiltering(image, spatial_radius, range_radius, maxLevel=0)``; see the module).

    Args:
      image: (H, W) or (H, W, C) with 1 to 4 channels, uint8 or floating point; (B, H, W, C) is a
        stack of images. Works under ``jax.vmap`` and ``jax.jit`` (``spatial_radius`` static).
      spatial_radius: the window's half side, an integer >= 1.
      range_radius: the colour distance (in the image's units, or the colour space's) within which
        a window pixel counts; squared and rounded for uint8 images, as OpenCV does.
      max_iter: the most steps per pixel (OpenCV's default 5).
      tol: a pixel stops when ``|Δy| + |Δx| + |Δcolour|²`` is at most this (OpenCV's epsilon).
      kernel: ``"flat"`` (OpenCV's) or ``"gaussian"`` (weights ``exp(-2 d²/spatial_radius²
        - 2 |Δc|²/range_radius²)``, standard deviations of half the radii, cut at the radii).
      color_space: ``"rgb"`` (the image's own values), ``"luv"`` or ``"lab"`` (CIE, converted with
        scikit-image on the host: concrete images only; the radius is then in those units).

    Returns:
      The filtered image, of the input's shape and dtype.
    """
    image, batched, grey, radius = _validate(image, spatial_radius, range_radius, max_iter, tol, kernel, color_space)
    return _run_filter(image, batched, grey, radius, range_radius, max_iter, tol, kernel, color_space)[1]


def segment(
    image,
    spatial_radius: int,
    range_radius: float,
    *,
    min_size: int = 20,
    max_iter: int = 5,
    tol: float = 1.0,
    kernel: str = "flat",
    color_space: str = "rgb",
):
    """Mean-shift segmentation: :func:`filter`, then regions of 4-connected pixels whose filtered
    colours are within ``range_radius / 2``, each region of fewer than ``min_size`` pixels merged
    into the adjacent region of the nearest mean colour (until none is left or one region is).

    Args: as :func:`filter`, and ``min_size``, the smallest region kept (pixels, an integer >= 1).

    Returns:
      ``(labels, filtered)``: (H, W) int32 labels 0..K-1, numbered in raster order of each region's
      first pixel ((B, H, W) for a stack), and the filtered image.
    """
    image, batched, grey, radius = _validate(image, spatial_radius, range_radius, max_iter, tol, kernel, color_space)
    v.check_positive_int(min_size, "min_size")
    colours, filtered = _run_filter(image, batched, grey, radius, range_radius, max_iter, tol, kernel, color_space)
    run = _segment_jit if not batched else jax.vmap(_segment_jit, in_axes=(0, None, None))
    planar = jnp.moveaxis(colours, -1, -3)
    labels = run(planar, jnp.asarray(range_radius, jnp.float32) / 2, jnp.asarray(min_size, jnp.float32))
    return labels, filtered
