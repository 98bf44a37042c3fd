"""Every TIFF compression tifffile decodes with imagecodecs, and tiled,
BigTIFF and pyramidal OME-TIFF files (issue 13: an LZW TIFF of the Cell
Tracking Challenge could not be read).

Each file is written here from a seeded image: lossless codecs must give
the original pixels back exactly, lossy ones the right shape and dtype and
close values; decoded_megabytes() reads the decoded size from the header.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from scripts.imaging import Calibration, decoded_megabytes, open_image

LUMA = np.array([0.2125, 0.7154, 0.0721])


def smooth(dtype, shape=(64, 96), seed=0):
    """A smooth, seeded field with some noise: what lossy codecs are made for."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    top = 200 if dtype == np.uint8 else 3000
    field = top / 2 + top / 3 * np.sin(xx / 9.0) * np.cos(yy / 7.0)
    return np.clip(field + rng.normal(0, top / 100, shape), 0, top).astype(dtype)


GRAY8, GRAY16 = smooth(np.uint8), smooth(np.uint16)
RGB8 = np.stack([smooth(np.uint8, seed=s) for s in (1, 2, 3)], axis=-1)

#: id -> (pixels, tifffile options, largest difference allowed (0: exact)).
CODECS = {
    "lzw": (GRAY16, {"compression": "lzw"}, 0),
    "lzw_predictor": (GRAY16, {"compression": "lzw", "predictor": True}, 0),
    "deflate": (GRAY16, {"compression": "deflate"}, 0),
    "adobe_deflate": (GRAY16, {"compression": "adobe_deflate"}, 0),
    "zstd": (GRAY16, {"compression": "zstd"}, 0),
    "lzma": (GRAY16, {"compression": "lzma"}, 0),
    "packbits": (GRAY8, {"compression": "packbits"}, 0),
    "jpeg": (GRAY8, {"compression": "jpeg", "compressionargs": {"level": 90}}, 10),
    "jpeg_rgb": (RGB8, {"compression": "jpeg", "photometric": "rgb"}, 12),
    "jpeg2000": (GRAY16, {"compression": "jpeg2000"}, 0),
    "jpeg2000_lossy": (GRAY16, {"compression": "jpeg2000",
                                "compressionargs": {"level": 80, "reversible": False}}, 60),
    "webp": (RGB8, {"compression": "webp", "photometric": "rgb",
                    "compressionargs": {"lossless": True}}, 0),
    "webp_lossy": (RGB8, {"compression": "webp", "photometric": "rgb",
                          "compressionargs": {"level": 80, "lossless": False}}, 30),
}


def gray(pixels):
    """The plane open_image gives for `pixels` (RGB as BT.709 luma)."""
    if pixels.ndim == 2:
        return pixels
    return np.rint(pixels @ LUMA).astype(pixels.dtype)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_every_codec_is_read(tmp_path, codec):
    pixels, options, tolerance = CODECS[codec]
    path = tmp_path / f"{codec}.tif"
    tifffile.imwrite(path, pixels, **options)
    with tifffile.TiffFile(path) as tif:  # the file really uses the codec
        stored = tif.pages.first.compression.name.lower()
    assert codec.split("_")[0] in stored or (codec == "deflate" and stored == "adobe_deflate")
    image = open_image(path)
    assert image.pixels.shape == pixels.shape[:2] and image.pixels.dtype == pixels.dtype
    if tolerance == 0:
        np.testing.assert_array_equal(image.pixels, gray(pixels))
        np.testing.assert_array_equal(tifffile.imread(path), pixels)
    else:
        difference = np.abs(image.pixels.astype(float) - gray(pixels))
        assert 0 < difference.max() <= tolerance, difference.max()
    expected_mb = max(pixels.nbytes, path.stat().st_size) / 1e6
    assert decoded_megabytes(path) == pytest.approx(expected_mb)


def test_cell_tracking_challenge_style_lzw_frame(tmp_path):
    """16-bit LZW frames named t000.tif, as the challenge's data sets ship."""
    frame = smooth(np.uint16, (120, 160), seed=13)
    tifffile.imwrite(tmp_path / "t000.tif", frame, compression="lzw")
    np.testing.assert_array_equal(open_image(tmp_path / "t000.tif").pixels, frame)
    size = (tmp_path / "t000.tif").stat().st_size
    assert decoded_megabytes(tmp_path / "t000.tif") == pytest.approx(max(frame.nbytes, size) / 1e6)


def test_tiled_bigtiff(tmp_path):
    pixels = smooth(np.uint16, (300, 260), seed=4)
    path = tmp_path / "tiled.tif"
    tifffile.imwrite(path, pixels, bigtiff=True, tile=(64, 64), compression="zstd")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_bigtiff and tif.pages.first.is_tiled
    image = open_image(path)
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.notes == ()
    assert decoded_megabytes(path) == pytest.approx(max(pixels.nbytes, path.stat().st_size) / 1e6)


@pytest.fixture
def pyramid(tmp_path):
    """A 2-channel pyramidal OME-TIFF (3 levels in SubIFDs), tiled BigTIFF."""
    base = np.stack([smooth(np.uint16, (512, 384), seed=s) for s in (5, 6)])
    path = tmp_path / "pyramid.ome.tif"
    options = {"tile": (128, 128), "compression": "zstd", "photometric": "minisblack"}
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        tif.write(base, subifds=2, metadata={
            "axes": "CYX", "PhysicalSizeX": 0.325, "PhysicalSizeY": 0.325,
            "Channel": {"Name": ["DAPI", "GFP"]}}, **options)
        tif.write(base[:, ::2, ::2], subfiletype=1, **options)
        tif.write(base[:, ::4, ::4], subfiletype=1, **options)
    return path, base


def test_pyramidal_ome_tiff_segments_the_full_resolution_level(pyramid):
    path, base = pyramid
    image = open_image(path, channel="GFP")
    np.testing.assert_array_equal(image.pixels, base[1])
    assert image.calibration == Calibration(pytest.approx(0.325), None)
    assert image.notes == (
        "pyramidal TIFF: segmenting the full-resolution level (512 x 384 px) of 3 levels",
        "segmenting channel 1 'GFP' of 2; the others are ignored",
    )
    # All levels' bytes are in the file; the decoded size is level 0's.
    assert decoded_megabytes(path) == pytest.approx(max(base.nbytes, path.stat().st_size) / 1e6)
    assert decoded_megabytes(path, min_itemsize=4) == pytest.approx(base.size * 4 / 1e6)


def test_a_tiff_of_several_images_says_which_one_it_segments(tmp_path):
    """Pages of different shapes are separate series: the first is read,
    and the image's notes (its threshold log) say so."""
    path = tmp_path / "two.tif"
    first = smooth(np.uint16, (64, 48), seed=1)
    tifffile.imwrite(path, first)
    tifffile.imwrite(path, smooth(np.uint16, (32, 32), seed=2), append=True)
    image = open_image(path)
    np.testing.assert_array_equal(image.pixels, first)
    assert image.notes == (
        "holds 2 images of different shapes or positions (TIFF series); "
        "segmenting the first, axes YX, shape (64, 48)",
    )


def test_a_time_series_is_refused_before_its_pixels_are_read(tmp_path, monkeypatch):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, np.zeros((3, 16, 16), np.uint8), photometric="minisblack", metadata={"axes": "TYX"})

    def no_reading(*args, **kwargs):
        raise AssertionError("pixels read")

    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", no_reading)
    with pytest.raises(ValueError, match="is a time series"):
        open_image(path)
