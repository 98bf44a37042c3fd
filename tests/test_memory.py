"""Memory requests of the jobs follow the decoded size of the image (header only)."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from scripts.imaging import decoded_megabytes
from tests import bad_inputs


@pytest.mark.parametrize(
    ("shape", "dtype", "options"),
    [
        ((300, 400), np.uint16, {}),
        ((300, 400), np.uint16, {"compression": "zlib"}),
        ((300, 400, 3), np.uint8, {"compression": "zlib"}),
        ((5, 100, 120), np.float32, {}),
    ],
)
def test_tiff_is_its_decoded_size_whatever_the_compression(
    tmp_path, shape, dtype, options
):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros(shape, dtype), **options)
    expected = max(np.prod(shape) * np.dtype(dtype).itemsize, path.stat().st_size) / 1e6
    assert decoded_megabytes(path) == pytest.approx(expected)


@pytest.mark.parametrize(("dtype", "bytes_per_pixel"), [(np.uint8, 1), (np.uint16, 2)])
def test_png_is_its_decoded_size(tmp_path, dtype, bytes_per_pixel):
    path = tmp_path / "a.png"
    iio.imwrite(path, np.zeros((200, 300), dtype))
    assert path.stat().st_size < 200 * 300
    assert decoded_megabytes(path) == pytest.approx(200 * 300 * bytes_per_pixel / 1e6)


def test_bad_files_never_raise(tmp_path):
    written = bad_inputs.write_battery(tmp_path)
    for image_id, path in written.items():
        assert decoded_megabytes(path) >= 0, image_id
    assert decoded_megabytes(tmp_path / "missing.tif") == 0


def test_a_header_claiming_too_many_pixels_counts_as_its_file_size(tmp_path):
    path = tmp_path / "bomb.tif"
    bad_inputs.make_bomb(path)  # claims 200,000 x 200,000 pixels
    assert decoded_megabytes(path) == path.stat().st_size / 1e6
    big = tmp_path / "big.tif"
    tifffile.imwrite(big, np.zeros((100, 100), np.uint16), compression="zlib")
    assert decoded_megabytes(big) == 0.02
    assert decoded_megabytes(big, max_pixels=9_999) == big.stat().st_size / 1e6


def test_each_value_counts_at_least_min_itemsize_bytes(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros((1000, 1000), np.uint8), compression="zlib")
    assert decoded_megabytes(path) == 1.0
    assert decoded_megabytes(path, min_itemsize=2) == 2.0
