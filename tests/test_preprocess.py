"""Tests of scripts/algorithms/preprocess.py (smoothing, background correction) and
scripts/algorithms/diameter.py (the diameter estimate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import morphology

from scripts.algorithms import diameter
from scripts.algorithms import preprocess as pp

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"


def disc_image(
    shape=(120, 160),
    centres=((40, 40), (80, 110)),
    radius=10,
    value=100.0,
    background=10.0,
):
    yy, xx = np.indices(shape)
    image = np.full(shape, background, dtype=np.float32)
    for cy, cx in centres:
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] += value
    return image


# -------------------------------------------------------------- smoothing


def test_gaussian_smooth_float32_same_shape_and_mean():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 4096, (64, 80)).astype(np.uint16)
    out = pp.gaussian_smooth(image, 2.0)
    assert out.dtype == np.float32 and out.shape == image.shape
    assert abs(out.mean() - image.mean()) < 0.01 * image.mean()
    assert out.std() < image.std() / 2  # noise is reduced


def test_gaussian_smooth_zero_sigma_is_exact_float_copy():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = pp.gaussian_smooth(image, 0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, image.astype(np.float32))


def test_gaussian_smooth_constant_stays_constant_3d_and_per_axis():
    image = np.full((5, 20, 20), 7, dtype=np.uint16)
    np.testing.assert_allclose(pp.gaussian_smooth(image, (0.5, 2, 2)), 7.0, rtol=1e-6)
    np.testing.assert_allclose(pp.gaussian_smooth(image, 1.5), 7.0, rtol=1e-6)


def test_gaussian_smooth_per_axis_only_smooths_that_axis():
    image = np.zeros((9, 9), dtype=np.float32)
    image[4, 4] = 1
    out = pp.gaussian_smooth(image, (0, 1.0))
    assert np.count_nonzero(out[:, 4]) == 1  # nothing spread along Y
    assert np.count_nonzero(out[4]) > 1


@pytest.mark.parametrize("sigma", [-1, float("nan"), float("inf"), "2", (1, 2, 3)])
def test_gaussian_smooth_rejects_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma_px"):
        pp.gaussian_smooth(np.zeros((4, 4)), sigma)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros(4),
        np.zeros((2, 2, 2, 2)),
        np.zeros((4, 4), dtype=bool),
        np.zeros((3, 3), complex),
    ],
)
def test_rejects_bad_images(image):
    with pytest.raises(ValueError, match="image"):
        pp.gaussian_smooth(image, 1)


# -------------------------------------------------------------- background


@pytest.mark.parametrize("method", ["tophat", "rolling_ball"])
def test_subtract_background_removes_ramp_keeps_objects(method):
    image = disc_image()
    xx = np.indices(image.shape)[1]
    ramp = image + 0.5 * xx  # 0..80 grey levels across the image
    out = pp.subtract_background(ramp, radius_px=20, method=method)
    assert out.dtype == np.float32 and out.shape == image.shape
    assert out.min() >= 0
    # away from the left/right edges (an opening cannot follow a slope within
    # one radius of the image edge) the ramp is gone
    interior = np.zeros(image.shape, dtype=bool)
    interior[:, 20:-20] = True
    background = out[(image == 10) & interior]
    low, high = np.percentile(background, [1, 99])
    assert high - low < 3  # flat (the rolling ball leaves a constant offset on a slope)
    assert high < 6
    inside = out[image == 110]
    assert np.median(inside) > 85  # objects (height 100) kept


def test_estimate_background_is_below_image():
    rng = np.random.default_rng(1)
    image = disc_image() + rng.normal(0, 2, (120, 160)).astype(np.float32)
    for radius in (5, 25, 60):
        bg = pp.estimate_background(image, radius)
        assert np.all(bg <= image + 1e-4)


def test_large_radius_shrink_matches_exact_opening():
    yy, xx = np.indices((200, 240))
    image = (50 + 0.2 * xx + 0.1 * yy).astype(np.float32)
    image[(yy - 100) ** 2 + (xx - 120) ** 2 <= 20**2] += 200
    fast = pp.estimate_background(image, 40)  # shrinks by 4
    exact = morphology.opening(
        image, morphology.disk(40, decomposition="sequence"), mode="reflect"
    )
    assert np.abs(fast - exact).max() < 3.0  # grey levels, on a 250-level image


def test_background_3d():
    image = np.full((8, 40, 40), 20, dtype=np.uint16)
    image[3:6, 15:25, 15:25] = 120
    out = pp.subtract_background(image, radius_px=8)
    assert out.shape == image.shape
    assert out[4, 20, 20] == pytest.approx(100, abs=1)
    assert out[0, 0, 0] == pytest.approx(0, abs=1e-3)


def test_background_validation():
    with pytest.raises(ValueError, match="radius_px"):
        pp.subtract_background(np.zeros((8, 8)), 0.5)
    with pytest.raises(ValueError, match="tophat, rolling_ball"):
        pp.subtract_background(np.zeros((8, 8)), 3, method="median")


# -------------------------------------------------------------- preprocess


def test_preprocess_noop_returns_input_object():
    image = np.arange(20, dtype=np.uint16).reshape(4, 5)
    assert pp.preprocess(image) is image
    assert pp.preprocess(image, smooth_sigma_px=0, background_radius_px=0) is image


def test_preprocess_runs_smoothing_then_background():
    image = disc_image()
    out = pp.preprocess(image, smooth_sigma_px=1.0, background_radius_px=20)
    expected = pp.subtract_background(pp.gaussian_smooth(image, 1.0), 20)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


def test_preprocess_validates_even_when_off():
    with pytest.raises(ValueError, match="background method"):
        pp.preprocess(np.zeros((4, 4)), background_method="nope")
    with pytest.raises(ValueError, match="background_radius_px"):
        pp.preprocess(np.zeros((4, 4)), background_radius_px=-2)


# -------------------------------------------------------------- diameter


@pytest.mark.parametrize("radius", [6, 10, 20])
def test_estimate_object_diameter_of_discs(radius):
    centres = [
        (r, c)
        for r in range(3 * radius, 240 - 2 * radius, 4 * radius)
        for c in range(3 * radius, 300 - 2 * radius, 4 * radius)
    ]
    image = disc_image((240, 300), centres, radius)
    d = diameter.estimate_object_diameter(image)
    assert d == pytest.approx(2 * radius, abs=1.5)


def test_estimate_object_diameter_not_inflated_by_clumps():
    # pairs of touching discs: equivalent diameter of a pair is ~1.4x, the estimate stays ~d
    centres = [(40, 40), (40, 58), (100, 100), (100, 118), (160, 60), (160, 78)]
    image = disc_image((200, 200), centres, 10)
    assert diameter.estimate_object_diameter(image) == pytest.approx(20, abs=1.5)


def test_estimate_object_diameter_nan_without_objects():
    assert np.isnan(diameter.estimate_object_diameter(np.zeros((30, 30))))
    image = disc_image((60, 60), [(30, 30)], 5)
    assert np.isnan(
        diameter.estimate_object_diameter(image, min_area_px=200)
    )  # disc is ~80 px


def test_estimate_object_diameter_3d():
    zz, yy, xx = np.indices((30, 60, 60))
    image = np.zeros((30, 60, 60), dtype=np.float32)
    for c in ((15, 20, 20), (15, 40, 40)):
        image[(zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= 64] = 100
    assert diameter.estimate_object_diameter(image) == pytest.approx(16, abs=1.5)


@pytest.mark.skipif(
    not (SHARED / "truth.csv").is_file(), reason="../shared/data not available"
)
def test_estimate_object_diameter_on_bbbc005():
    import tifffile

    image = tifffile.imread(
        SHARED / "bbbc005/images/SIMCEPImages_A12_C48_F1_s02_w1.TIF"
    )
    # BBBC005 w1 nuclei: median equivalent diameter of the ground truth ~31 px
    assert 26 <= diameter.estimate_object_diameter(image) <= 36
