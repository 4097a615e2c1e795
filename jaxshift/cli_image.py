"""The ``jaxshift segment`` command: mean-shift segmentation of an image file.

    jaxshift segment photo.png --spatial 8 --range 16 --out segmented.png --labels-out labels.npy

Images are read and written with imageio (``pip install 'jaxshift[image]'``); JAX is imported only
when the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

DESCRIPTION = """Mean-shift segmentation in the joint spatial-range domain (jaxshift.image.segment):
every pixel climbs to the mean of the pixels within --spatial pixels (a square window) and --range
colour units, as OpenCV's pyrMeanShiftFiltering does; touching pixels with close results form
regions, and regions under --min-size pixels join their nearest neighbour. --out is the image
with each region painted in its mean colour (or, with --filtered, the filtered image)."""


def add_segment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="an image file (PNG, JPEG, ...: what imageio reads), grey, RGB or RGBA")
    parser.add_argument("--spatial", type=int, default=8, help="the window's half side in pixels (default 8)")
    parser.add_argument("--range", type=float, default=16.0, help="the colour radius (default 16 grey levels)")
    parser.add_argument("--min-size", type=int, default=20, help="the smallest region kept, in pixels (default 20)")
    parser.add_argument("--max-iter", type=int, default=5, help="the most mean-shift steps per pixel (default 5)")
    parser.add_argument("--kernel", choices=["flat", "gaussian"], default="flat", help="the window's weights")
    parser.add_argument(
        "--color-space", choices=["rgb", "luv", "lab"], default="rgb", help="where colours are compared (default rgb)"
    )
    parser.add_argument("--out", help="the segmented image to write (its format from the extension)")
    parser.add_argument("--filtered", action="store_true", help="write the filtered image to --out instead")
    parser.add_argument("--labels-out", help="the (H, W) region labels to write as .npy")


def _imageio():
    try:
        import imageio.v3 as iio
    except ImportError as error:
        message = "jaxshift segment reads and writes images with imageio: pip install 'jaxshift[image]'"
        raise ImportError(message) from error
    return iio


def run_segment(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    import numpy as np

    from jaxshift import image as ji

    iio = _imageio()
    for name, path in (("--out", args.out), ("--labels-out", args.labels_out)):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise ValueError(f"{name}: the folder of {path} does not exist")
    if args.labels_out is not None and not args.labels_out.endswith(".npy"):
        raise ValueError(f"--labels-out: expected a .npy path, got {args.labels_out}")
    pixels = np.asarray(iio.imread(args.image))
    if pixels.dtype != np.uint8:
        if pixels.dtype.kind not in "uif":
            raise ValueError(f"{args.image}: unsupported pixel type {pixels.dtype}")
        top = np.iinfo(pixels.dtype).max if pixels.dtype.kind in "ui" else 1.0
        pixels = np.clip(pixels.astype(np.float32) * (255.0 / top), 0, 255).round().astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"{args.image}: expected one image, got shape {pixels.shape} (an animation?)")
    labels, filtered = ji.segment(
        pixels,
        args.spatial,
        args.range,
        min_size=args.min_size,
        max_iter=args.max_iter,
        kernel=args.kernel,
        color_space=args.color_space,
    )
    labels, filtered = np.asarray(labels), np.asarray(filtered)
    count = int(labels.max()) + 1
    say(f"{args.image}: {pixels.shape[1]}x{pixels.shape[0]} pixels, {count} region{'s' if count != 1 else ''}")
    if args.out is not None:
        if args.filtered:
            picture = filtered
        else:
            flat = pixels.reshape(labels.size, -1).astype(np.float64)
            sums = np.zeros((count, flat.shape[1]))
            np.add.at(sums, labels.ravel(), flat)
            means = np.round(sums / np.bincount(labels.ravel(), minlength=count)[:, None]).astype(np.uint8)
            picture = means[labels].reshape(pixels.shape)
        iio.imwrite(args.out, picture)
        say(f"wrote {args.out}")
    if args.labels_out is not None:
        np.save(args.labels_out, labels.astype(np.int32))
        say(f"wrote {args.labels_out}")
    return 0
