"""scripts.steps.threshold: global thresholds of skimage.filters and the mask ``image > t``."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import filters

from scripts.imaging import read_image
from scripts.steps.threshold import METHODS, apply_threshold, compute_threshold

SKIMAGE_FUNCTIONS = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "yen": filters.threshold_yen,
    "triangle": filters.threshold_triangle,
    "isodata": filters.threshold_isodata,
    "mean": filters.threshold_mean,
    "minimum": filters.threshold_minimum,
}


def bimodal(dtype, seed=0, shape=(64, 80)):
    """Dark background with bright discs, in the units of `dtype`."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    signal = np.zeros(shape)
    for r, c, radius in [(16, 20, 9), (40, 55, 12), (50, 15, 7)]:
        signal[np.hypot(rows - r, cols - c) <= radius] = 1.0
    if np.issubdtype(dtype, np.floating):
        image = 0.1 + 0.6 * signal + rng.normal(0, 0.03, shape)
        return image.astype(dtype)
    top = 200 if dtype == np.uint8 else 1000  # > 255, and threshold_minimum stays fast
    image = top * 0.05 + top * 0.8 * signal + rng.normal(0, top * 0.03, shape)
    return np.clip(np.rint(image), 0, np.iinfo(dtype).max).astype(dtype)


def skimage_threshold(method, image):
    try:
        return float(SKIMAGE_FUNCTIONS[method](image))
    except RuntimeError:
        return None


def test_methods_are_the_documented_skimage_functions():
    assert set(METHODS) == set(SKIMAGE_FUNCTIONS)
    for name, function in METHODS.items():
        assert function is SKIMAGE_FUNCTIONS[name]


@pytest.mark.parametrize("method", sorted(SKIMAGE_FUNCTIONS))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_every_method_equals_skimage(method, dtype):
    image = bimodal(dtype)
    expected = SKIMAGE_FUNCTIONS[method](image)
    result = compute_threshold(image, method)
    assert isinstance(result, float)
    assert result == float(expected)
    assert np.array_equal(apply_threshold(image, result), image > expected)


@pytest.mark.parametrize("method", sorted(SKIMAGE_FUNCTIONS))
def test_every_method_equals_skimage_on_bundled_examples(method, example_image):
    image, _ = read_image(example_image)
    if method == "minimum" and image.dtype == np.uint16:
        # skimage smooths a histogram with one bin per integer value: ~3 s
        # per call here. test_every_method_equals_skimage covers uint16.
        image = image[:64, :64]
    result = compute_threshold(image, method)
    assert result == skimage_threshold(method, image)
    mask = apply_threshold(image, result)
    assert mask.dtype == bool and mask.shape == image.shape
    assert mask.any() and not mask.all()


def test_otsu_is_the_default_and_what_the_tutorial_uses():
    image = bimodal(np.uint8)
    assert compute_threshold(image) == float(filters.threshold_otsu(image))


def test_otsu_on_uint8_separates_the_discs():
    image = bimodal(np.uint8)
    mask = apply_threshold(image, compute_threshold(image, "otsu"))
    assert mask[16, 20] and mask[40, 55] and mask[50, 15]
    assert not mask[0, 0] and not mask[30, 40]


def test_minimum_without_two_peaks_gives_none_and_an_empty_mask():
    """skimage raises RuntimeError ("Unable to find two maxima"); the step
    reports no threshold instead of failing the job."""
    image = np.tile(np.arange(256, dtype=np.uint8), (4, 1))  # flat histogram
    with pytest.raises(RuntimeError):
        filters.threshold_minimum(image)
    assert compute_threshold(image, "minimum") is None
    assert not apply_threshold(image, None).any()


# ---------------------------------------------------------------------------
# Manual
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [27, 27.5, 0, -3.0])
def test_manual_returns_the_value_as_float(value):
    image = bimodal(np.uint8)
    result = compute_threshold(image, "manual", value)
    assert isinstance(result, float) and result == float(value)


def test_manual_ignores_the_image_even_when_constant():
    image = np.full((5, 5), 7, dtype=np.uint8)
    assert compute_threshold(image, "manual", 6) == 6.0
    assert apply_threshold(image, 6.0).all()


def test_manual_without_value_raises_naming_the_key():
    with pytest.raises(ValueError, match=r"threshold method 'manual' needs threshold\.value"):
        compute_threshold(bimodal(np.uint8), "manual")


@pytest.mark.parametrize("method", ["Otsu", "local", "sauvola", ""])
def test_unknown_method_raises_listing_the_allowed_ones(method):
    with pytest.raises(ValueError) as error:
        compute_threshold(bimodal(np.uint8), method)
    message = str(error.value)
    assert f"unknown threshold method {method!r}" in message
    assert "otsu, li, yen, triangle, isodata, mean, minimum, manual" in message


# ---------------------------------------------------------------------------
# Constant images
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(SKIMAGE_FUNCTIONS))
@pytest.mark.parametrize(
    "image",
    [
        np.zeros((10, 12), dtype=np.uint8),
        np.full((10, 12), 255, dtype=np.uint8),
        np.full((10, 12), 400, dtype=np.uint16),
        np.full((10, 12), 0.25, dtype=np.float32),
        np.full((1, 1), 3.0),
    ],
    ids=["zeros-u8", "255-u8", "u16", "f32", "1x1"],
)
def test_constant_image_has_no_threshold_and_an_empty_mask(method, image):
    threshold = compute_threshold(image, method)
    assert threshold is None
    mask = apply_threshold(image, threshold)
    assert mask.dtype == bool
    assert mask.shape == image.shape
    assert not mask.any()


# ---------------------------------------------------------------------------
# apply_threshold: strictly greater is foreground
# ---------------------------------------------------------------------------


def test_pixels_equal_to_the_threshold_are_background():
    image = np.array([[0, 9, 10, 11, 255]], dtype=np.uint8)
    assert apply_threshold(image, 10.0).tolist() == [[False, False, False, True, True]]
    assert apply_threshold(image, 10.5).tolist() == [[False, False, False, True, True]]
    assert apply_threshold(image, 9.999).tolist() == [[False, False, True, True, True]]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_apply_threshold_is_image_greater_than_t(dtype):
    image = bimodal(dtype if dtype != np.int16 else np.uint8).astype(dtype)
    t = compute_threshold(image, "otsu")
    mask = apply_threshold(image, t)
    assert mask.dtype == bool
    assert mask.shape == image.shape
    assert np.array_equal(mask, image > t)
    assert np.array_equal(mask, image > filters.threshold_otsu(image))


def test_float32_threshold_keeps_pixels_equal_to_it_in_the_background():
    """The threshold of a float32 image converts to float without changing the
    comparison: a pixel exactly at the threshold stays background."""
    image = bimodal(np.float32)
    t = compute_threshold(image, "otsu")
    image = image.copy()
    image[0, 0] = np.float32(t)
    assert not apply_threshold(image, t)[0, 0]


def test_uint16_threshold_is_in_the_images_units():
    image = bimodal(np.uint16)
    t = compute_threshold(image, "otsu")
    assert 50 < t < 800  # between background (~50) and discs (~850)
    assert apply_threshold(image, t).sum() == (image > t).sum() > 0


def test_none_gives_an_all_false_mask_of_the_same_shape():
    image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    mask = apply_threshold(image, None)
    assert mask.dtype == bool and mask.shape == (3, 4) and not mask.any()


# ---------------------------------------------------------------------------
# Histogram of integer images, counted in blocks (memory of large images)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32])
def test_integer_histogram_equals_skimage(dtype):
    from skimage import exposure

    from scripts.steps.threshold import integer_histogram

    rng = np.random.default_rng(5)
    info = np.iinfo(dtype)
    image = rng.integers(max(info.min, -3000), min(info.max, 3000), (37, 53)).astype(dtype)
    counts, values = integer_histogram(image, block=100)
    expected_counts, expected_values = exposure.histogram(image, source_range="image")
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_array_equal(values, expected_values)


def test_threshold_of_a_large_integer_image_takes_little_extra_memory():
    import tracemalloc

    image = np.tile(bimodal(np.uint16), (50, 50))  # 3200 x 4000: 25.6 MB
    tracemalloc.start()
    try:
        threshold = compute_threshold(image, "otsu")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert threshold == filters.threshold_otsu(image)
    # skimage alone takes a copy and 8 bytes per pixel (5 x image.nbytes);
    # in blocks, a few blocks of 8-byte values whatever the image size.
    assert peak < image.nbytes
