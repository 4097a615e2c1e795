"""jaxshift.image: OpenCV's mean-shift filter reproduced on photos, segmentation of known regions,
batches, and named errors. Images are 64x64 crops so that each test compiles and runs in about a
second."""

import sys

import jax
import numpy as np
import pytest

from jaxshift import image as ji

cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")
adjusted_rand_score = pytest.importorskip("sklearn.metrics").adjusted_rand_score


def crops():
    return {
        "coffee": skdata.coffee()[100:164, 200:264],
        "astronaut": skdata.astronaut()[40:104, 200:264],
        "chelsea": skdata.chelsea()[80:144, 160:224],
    }


def opencv(img, sp, sr, max_iter=5, eps=1.0):
    criteria = (cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, max_iter, eps)
    return cv2.pyrMeanShiftFiltering(np.ascontiguousarray(img), sp, sr, maxLevel=0, termcrit=criteria)


@pytest.mark.parametrize("sp, sr, max_iter", [(8, 16, 5), (4, 10.5, 3)])
def test_filter_agrees_with_opencv_on_photos(sp, sr, max_iter):
    for name, img in crops().items():
        ours = np.asarray(ji.filter(img, sp, sr, max_iter=max_iter))
        theirs = opencv(img, sp, sr, max_iter)
        assert ours.dtype == np.uint8 and ours.shape == img.shape
        gap = np.abs(ours.astype(int) - theirs.astype(int)).max(axis=-1)
        assert np.mean(gap <= 2) >= 0.95, name
        # the same rounding as OpenCV's: identical, not just close
        assert np.mean(gap == 0) >= 0.999, name


def pieces(seed=0, noise=8.0, size=64):
    """A piecewise-constant image of five regions (two rectangles, a disc, two halves) plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    truth = (xx >= size // 2).astype(int)
    truth[20:44, 10:30] = 2
    truth[40:60, 40:60] = 3
    truth[(yy - 16) ** 2 + (xx - 48) ** 2 < 100] = 4
    colours = np.array([[40, 40, 40], [200, 60, 60], [60, 200, 60], [60, 60, 200], [220, 220, 60]])
    img = np.clip(colours[truth] + rng.normal(0, noise, (size, size, 3)), 0, 255).astype(np.uint8)
    return img, truth


def test_segment_recovers_known_regions():
    for seed in range(2):
        img, truth = pieces(seed)
        labels, filtered = ji.segment(img, 5, 24, min_size=20)
        labels = np.asarray(labels)
        assert labels.shape == truth.shape and filtered.shape == img.shape
        assert adjusted_rand_score(truth.ravel(), labels.ravel()) >= 0.95
        assert labels.min() == 0 and np.bincount(labels.ravel()).min() >= 20


def test_segment_float_image_and_its_labels_are_consecutive():
    img, truth = pieces(1)
    labels, filtered = ji.segment(img.astype(np.float32) / 255, 5, 24 / 255, min_size=20)
    labels = np.asarray(labels)
    assert filtered.dtype == np.float32
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) >= 0.95
    assert set(np.unique(labels)) == set(range(labels.max() + 1))


def test_vmap_over_a_batch_equals_a_loop():
    batch = np.stack(list(crops().values()))
    one_by_one = np.stack([np.asarray(ji.filter(img, 6, 12)) for img in batch])
    np.testing.assert_array_equal(np.asarray(jax.vmap(lambda img: ji.filter(img, 6, 12))(batch)), one_by_one)
    np.testing.assert_array_equal(np.asarray(ji.filter(batch, 6, 12)), one_by_one)
    labels, _ = ji.segment(batch, 6, 12)
    assert labels.shape == batch.shape[:3]
    np.testing.assert_array_equal(labels[1], ji.segment(batch[1], 6, 12)[0])


def test_grey_float_gaussian_and_channels():
    img = crops()["coffee"]
    grey = np.asarray(ji.filter(img[..., 0], 6, 12))
    assert grey.shape == (64, 64) and grey.dtype == np.uint8
    four = np.concatenate([img, img[..., :1]], axis=-1)
    out = np.asarray(ji.filter(four, 6, 12))
    np.testing.assert_array_equal(out[..., 3], out[..., 0])  # a copied channel stays a copy
    flat = np.asarray(ji.filter(img, 6, 12)).astype(int)
    smooth = np.asarray(ji.filter(img, 6, 12, kernel="gaussian"))
    assert smooth.dtype == np.uint8
    # weights that favour the centre smooth less than the flat window, but smooth
    roughness = [np.abs(np.diff(a.astype(int), axis=0)).mean() for a in (img, smooth, flat)]
    assert roughness[0] > roughness[1] > roughness[2]
    as_float = np.asarray(ji.filter(img.astype(np.float64) / 255, 6, 12 / 255))
    assert as_float.dtype == np.float64
    assert np.mean(np.abs(as_float * 255 - np.asarray(ji.filter(img, 6, 12))) <= 2) >= 0.9


def test_luv_needs_three_channels_and_scikit_image(monkeypatch):
    img = crops()["coffee"]
    out = ji.filter(img, 6, 6, color_space="luv")
    assert out.dtype == np.uint8 and out.shape == img.shape
    with pytest.raises(ValueError, match="color_space: 'lab' needs 3-channel"):
        ji.filter(img[..., :2], 6, 6, color_space="lab")
    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(ImportError, match=r"pip install 'jaxshift\[image\]'"):
        ji.filter(img, 6, 6, color_space="luv")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda img: ji.filter(img.astype(np.int16), 8, 16), "image: expected uint8 or floating-point"),
        (lambda img: ji.filter(img[None, ..., None], 8, 16), r"image: expected shape \(H, W\)"),
        (lambda img: ji.filter(np.zeros((4, 4, 5), np.uint8), 8, 16), "image: expected 1 to 4 channels"),
        (lambda img: ji.filter(img[0, 0], 8, 16), r"image: expected shape \(H, W\)"),
        (lambda img: ji.filter("photo.png", 8, 16), "image: expected an"),
        (lambda img: ji.filter(np.full((8, 8), np.nan, np.float32), 8, 16), "image: has non-finite"),
        (lambda img: ji.filter(img, 2.5, 16), "spatial_radius: must be an integer >= 1"),
        (lambda img: ji.filter(img, 0, 16), "spatial_radius: must be an integer >= 1"),
        (lambda img: ji.filter(img, 8, 0), "range_radius: must be > 0"),
        (lambda img: ji.filter(img, 8, -1), "range_radius: must be a finite number >= 0"),
        (lambda img: ji.filter(img, 8, 16, max_iter=0), "max_iter: must be an integer >= 1"),
        (lambda img: ji.filter(img, 8, 16, tol=-1), "tol: must be a finite number >= 0"),
        (lambda img: ji.filter(img, 8, 16, kernel="epanechnikov"), "kernel: expected one of"),
        (lambda img: ji.filter(img, 8, 16, color_space="hsv"), "color_space: expected one of"),
        (lambda img: ji.segment(img, 8, 16, min_size=0), "min_size: must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(crops()["coffee"])


def test_segment_command_writes_the_image_and_the_labels(tmp_path, capsys):
    iio = pytest.importorskip("imageio.v3")
    from jaxshift.cli import main

    img, truth = pieces(0)
    iio.imwrite(tmp_path / "photo.png", img)
    out, labels_out = tmp_path / "segmented.png", tmp_path / "labels.npy"
    argv = ["segment", str(tmp_path / "photo.png"), "--spatial", "5", "--range", "24", "--out", str(out)]
    assert main(argv + ["--labels-out", str(labels_out)]) == 0
    labels = np.load(labels_out)
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) >= 0.95
    painted = iio.imread(out)
    assert painted.shape == img.shape and len(np.unique(painted.reshape(-1, 3), axis=0)) == labels.max() + 1
    assert "5 regions" in capsys.readouterr().out
    assert main(argv[:2] + ["--labels-out", str(tmp_path / "labels.csv")]) == 2
    assert "--labels-out: expected a .npy path" in capsys.readouterr().err
