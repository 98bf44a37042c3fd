"""scripts.steps.rescale: skimage.exposure.rescale_intensity, min-max or percentiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import exposure

from scripts.imaging import read_image
from scripts.algorithms.contrast import intensity_range, rescale

TUTORIAL_PERCENTILES = (0.5, 99.5)
FOUR_CELLS = Path(__file__).resolve().parent.parent / "example" / "images" / "four_cells.tif"


def dark_image(seed=0, shape=(120, 140)):
    """Like the tutorial's four cells: uint8, values 1..52, mostly dark."""
    rng = np.random.default_rng(seed)
    image = 1 + rng.gamma(1.5, 4.0, shape)
    image[40:70, 50:90] += 15 + rng.normal(0, 3, (30, 40))
    image = np.clip(np.rint(image), 1, 52).astype(np.uint8)
    image[0, 0], image[-1, -1] = 1, 52
    return image


def skimage_percentile_rescale(image, percentiles=TUTORIAL_PERCENTILES):
    """The tutorial's code."""
    return exposure.rescale_intensity(image, in_range=tuple(np.percentile(image, percentiles)))


def test_tutorial_numbers():
    arr = np.array([2, 40, 100, 205, 250], dtype=np.uint8)
    result = rescale(arr)
    assert result.dtype == np.uint8
    assert result.tolist() == [0, 39, 100, 208, 255]


def test_dark_image_is_like_the_tutorials():
    image = dark_image()
    assert image.min() == 1 and image.max() == 52
    low, high = np.percentile(image, TUTORIAL_PERCENTILES)
    assert low == 1 and 25 <= high <= 40  # the tutorial: [1, 28]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_percentiles_equal_the_tutorial_code_on_a_dark_image(seed):
    image = dark_image(seed)
    result = rescale(image, TUTORIAL_PERCENTILES)
    expected = skimage_percentile_rescale(image)
    assert result.dtype == np.uint8 and result.shape == image.shape
    assert np.array_equal(result, expected)
    high = np.percentile(image, 99.5)
    assert (result[image >= high] == 255).all()  # clipped at the upper percentile
    assert (result[image == 1] == 0).all()


def test_min_max_equals_rescale_intensity_on_a_dark_image():
    image = dark_image()
    result = rescale(image)
    assert np.array_equal(result, exposure.rescale_intensity(image))
    assert result.min() == 0 and result.max() == 255


def test_percentiles_on_the_bundled_four_cells_example():
    image, _ = read_image(FOUR_CELLS)
    assert image.max() <= 60
    assert np.array_equal(rescale(image, TUTORIAL_PERCENTILES), skimage_percentile_rescale(image))


@pytest.mark.parametrize("percentiles", [None, TUTORIAL_PERCENTILES, (2, 98), (0, 100)])
def test_rgb_uint8_equals_rescale_intensity(percentiles):
    """The rescale step gets the colorize step's RGB uint8 image; the range
    comes from all three channels together, as rescale_intensity does."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(10, 140, (40, 50, 3), dtype=np.uint8)
    rgb[..., 1] //= 2
    result = rescale(rgb, percentiles)
    assert result.dtype == np.uint8 and result.shape == rgb.shape
    if percentiles is None:
        expected = exposure.rescale_intensity(rgb)
    else:
        expected = skimage_percentile_rescale(rgb, percentiles)
    assert np.array_equal(result, expected)


@pytest.mark.parametrize("percentiles", [None, TUTORIAL_PERCENTILES, (5, 95)])
def test_uint16_equals_rescale_intensity(percentiles):
    rng = np.random.default_rng(4)
    image = rng.integers(300, 4000, (50, 60), dtype=np.uint16)
    result = rescale(image, percentiles)
    assert result.dtype == np.uint16
    if percentiles is None:
        expected = exposure.rescale_intensity(image)
        assert result.min() == 0 and result.max() == 65535
    else:
        expected = skimage_percentile_rescale(image, percentiles)
    assert np.array_equal(result, expected)


def test_every_uint8_value_maps_as_rescale_intensity():
    """The uint8 lookup table is exact for every possible value and range."""
    image = np.random.default_rng(5).permutation(256).astype(np.uint8).reshape(16, 16)
    assert np.array_equal(rescale(image), exposure.rescale_intensity(image))
    for percentiles in [(0.5, 99.5), (10, 90), (49, 51), (0.1, 0.2)]:
        assert np.array_equal(rescale(image, percentiles),
                              skimage_percentile_rescale(image, percentiles))


def test_float_image_equals_rescale_intensity():
    rng = np.random.default_rng(6)
    image = rng.normal(0.3, 0.05, (30, 30))
    assert np.array_equal(rescale(image), exposure.rescale_intensity(image))
    assert np.array_equal(rescale(image, (1, 99)), skimage_percentile_rescale(image, (1, 99)))


@pytest.mark.parametrize("dtype, value", [(np.uint8, 0), (np.uint8, 37), (np.uint16, 900)])
@pytest.mark.parametrize("percentiles", [None, TUTORIAL_PERCENTILES])
def test_constant_image_is_unchanged(dtype, value, percentiles):
    image = np.full((8, 9), value, dtype=dtype)
    result = rescale(image, percentiles)
    assert result.dtype == dtype
    assert (result == value).all()
    assert np.array_equal(result, exposure.rescale_intensity(image))


def test_input_is_not_modified():
    image = dark_image()
    before = image.copy()
    rescale(image, TUTORIAL_PERCENTILES)
    assert np.array_equal(image, before)


# ---------------------------------------------------------------------------
# intensity_range
# ---------------------------------------------------------------------------


def test_intensity_range():
    image = np.arange(1, 201, dtype=np.uint8).reshape(10, 20)
    assert intensity_range(image) == (1.0, 200.0)
    low, high = intensity_range(image, (0.5, 99.5))
    assert (low, high) == tuple(float(v) for v in np.percentile(image, (0.5, 99.5)))
    assert intensity_range(image, (0, 100)) == (1.0, 200.0)
    assert all(isinstance(v, float) for v in intensity_range(image, (0.5, 99.5)))


@pytest.mark.parametrize(
    "percentiles",
    [(99.5, 0.5), (50, 50), (-1, 99), (1, 100.5), (-5, -1)],
)
def test_bad_percentiles_raise(percentiles):
    with pytest.raises(ValueError) as error:
        rescale(dark_image(), percentiles)
    assert "percentiles must satisfy 0 <= low < high <= 100" in str(error.value)
    assert str(percentiles) in str(error.value)


def test_wrong_number_of_percentiles_raises():
    with pytest.raises(ValueError):
        rescale(dark_image(), (1, 50, 99))
