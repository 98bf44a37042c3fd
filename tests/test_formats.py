"""The formats microscopes write: OME-TIFF, ImageJ stacks, channels, volumes, 16-bit.

Every file here is made by the test itself; the real 3D stack of
../shared/data/stardist is used when that folder exists.
"""

from __future__ import annotations

import csv

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from scripts.steps import label
from scripts.steps import morphology
from scripts.algorithms import contrast
from scripts.steps import threshold
from scripts.imaging import Calibration, ImageReadError, open_image, read_tiff, write_tiff
from tests.workflow_copy import SHARED_DATA, copy_project


def blobs(shape, centres, radius, low, high, dtype):
    """Balls of `radius` px at `centres` on a flat background, as `dtype`."""
    grid = np.indices(shape)
    image = np.full(shape, low, dtype=np.float64)
    for centre in centres:
        distance = np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, centre)))
        image[distance <= radius] = high
    return image.astype(dtype)


def write_ome(path, pixels, axes, names=None, **sizes):
    metadata = {"axes": axes, **sizes}
    if names:
        metadata["Channel"] = {"Name": names}
    tifffile.imwrite(path, pixels, metadata=metadata)


# ---------------------------------------------------------------------------
# Channels
# ---------------------------------------------------------------------------


@pytest.fixture
def three_channels(tmp_path):
    pixels = np.stack([np.full((20, 30), value, np.uint16) for value in (10, 20, 30)])
    path = tmp_path / "multi.ome.tif"
    write_ome(path, pixels, "CYX", ["DAPI", "GFP", "RFP"], PhysicalSizeX=0.25,
              PhysicalSizeY=0.25, PhysicalSizeXUnit="µm")
    return path


@pytest.mark.parametrize("channel", [1, "GFP"])
def test_a_channel_is_chosen_by_index_or_by_ome_name(three_channels, channel):
    image = open_image(three_channels, channel=channel)
    assert image.pixels.shape == (20, 30)
    assert np.all(image.pixels == 20)
    assert image.calibration == Calibration(0.25, None)
    assert image.notes == ("segmenting channel 1 'GFP' of 3; the others are ignored",)


def test_a_multichannel_image_without_a_channel_lists_the_channels(three_channels):
    with pytest.raises(ImageReadError) as error:
        open_image(three_channels)
    assert str(error.value) == (
        f"{three_channels}: has 3 channels (0='DAPI', 1='GFP', 2='RFP'): set the "
        "config key 'channel' to the index or name of the one to segment"
    )


@pytest.mark.parametrize(("channel", "problem"), [("Cy5", "no channel named 'Cy5'"),
                                                   (3, "has no channel 3")])
def test_an_unknown_channel_is_refused_with_the_choices(three_channels, channel, problem):
    with pytest.raises(ImageReadError, match=problem) as error:
        open_image(three_channels, channel=channel)
    assert "0='DAPI', 1='GFP', 2='RFP'" in str(error.value)


def test_planar_rgb_is_converted_like_interleaved_rgb(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (3, 12, 16), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "planar.tif", rgb, photometric="rgb", planarconfig="separate")
    tifffile.imwrite(tmp_path / "chunky.tif", np.moveaxis(rgb, 0, -1), photometric="rgb")
    planar = open_image(tmp_path / "planar.tif").pixels
    np.testing.assert_array_equal(planar, open_image(tmp_path / "chunky.tif").pixels)
    assert planar.shape == (12, 16)


def test_a_time_series_is_refused(tmp_path):
    write_ome(tmp_path / "t.ome.tif", np.zeros((4, 10, 10), np.uint8), "TYX")
    with pytest.raises(ImageReadError, match="time series"):
        open_image(tmp_path / "t.ome.tif")


# ---------------------------------------------------------------------------
# Pixel size
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "per_unit", "expected_um"),
                         [("um", 2.0, 0.5), ("micron", 4.0, 0.25), ("nm", 0.01, 0.1),
                          ("mm", 2000.0, 0.5)])
def test_imagej_pixel_size_in_any_length_unit(tmp_path, unit, per_unit, expected_um):
    tifffile.imwrite(tmp_path / "ij.tif", np.zeros((8, 8), np.uint8), imagej=True,
                     resolution=(per_unit, per_unit), metadata={"unit": unit})
    assert open_image(tmp_path / "ij.tif").calibration.pixel_size_um == pytest.approx(
        expected_um)


def test_ome_pixel_size_in_nanometres(tmp_path):
    write_ome(tmp_path / "nm.ome.tif", np.zeros((8, 8), np.uint16), "YX",
              PhysicalSizeX=130.0, PhysicalSizeY=130.0, PhysicalSizeXUnit="nm")
    assert open_image(tmp_path / "nm.ome.tif").calibration.pixel_size_um == pytest.approx(0.13)


def test_an_inch_resolution_is_not_a_pixel_size(tmp_path):
    tifffile.imwrite(tmp_path / "dpi.tif", np.zeros((8, 8), np.uint8), resolution=(72, 72),
                     resolutionunit="INCH")
    assert open_image(tmp_path / "dpi.tif").calibration.pixel_size_um is None


# ---------------------------------------------------------------------------
# Volumes
# ---------------------------------------------------------------------------


@pytest.fixture
def stack(tmp_path):
    centres = [(3, 10, 10), (6, 25, 30), (3, 10, 32)]
    pixels = blobs((9, 40, 44), centres, 3.5, 5, 200, np.uint8)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, pixels, imagej=True, resolution=(4.0, 4.0),
                     metadata={"axes": "ZYX", "spacing": 1.5, "unit": "um"})
    return path, pixels


def test_a_stack_is_refused_unless_configured(stack):
    path, _ = stack
    with pytest.raises(ImageReadError, match="config key 'volume'"):
        open_image(path)


def test_a_stack_segments_in_3d_with_its_z_spacing(stack):
    path, pixels = stack
    image = open_image(path, volume="3d")
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.calibration == Calibration(0.25, 1.5)
    mask = threshold.apply_threshold(image.pixels, threshold.compute_threshold(image.pixels))
    labels, count = label.label_objects(morphology.apply_sequence(mask, [("opening", 1)]))
    assert labels.shape == pixels.shape and count == 3


def test_max_projection_segments_the_projected_plane(stack):
    path, pixels = stack
    image = open_image(path, volume="max_projection")
    np.testing.assert_array_equal(image.pixels, pixels.max(axis=0))
    assert image.calibration == Calibration(0.25, None)
    assert image.notes == ("segmenting the maximum projection of 9 planes",)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_volumes_round_trip_with_their_calibration(tmp_path, dtype):
    volume = np.arange(4 * 5 * 6, dtype=dtype).reshape(4, 5, 6)
    write_tiff(tmp_path / "v.tif", volume, {"step": "label"}, calibration=Calibration(0.2, 0.8))
    pixels, calibration = read_tiff(tmp_path / "v.tif")
    np.testing.assert_array_equal(pixels, volume)
    assert calibration.pixel_size_um == pytest.approx(0.2)
    assert calibration.z_spacing_um == pytest.approx(0.8)


def test_rgb_volumes_round_trip(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (3, 5, 6, 3), dtype=np.uint8)
    write_tiff(tmp_path / "rgb.tif", rgb, {"step": "colorize"}, calibration=Calibration(0.2, 0.8))
    pixels, calibration = read_tiff(tmp_path / "rgb.tif")
    np.testing.assert_array_equal(pixels, rgb)
    assert calibration.z_spacing_um == pytest.approx(0.8)


# ---------------------------------------------------------------------------
# 16-bit with a narrow range, PNG and JPEG
# ---------------------------------------------------------------------------


def test_narrow_16bit_range_thresholds_and_rescales():
    image = blobs((60, 60), [(20, 20), (40, 42)], 8, 33_000, 36_900, np.uint16)
    image[0, 0] = 33_100  # not constant outside the blobs either
    value = threshold.compute_threshold(image)
    assert 33_000 < value < 36_900
    labels, count = label.label_objects(threshold.apply_threshold(image, value))
    assert count == 2
    stretched = contrast.rescale(image)
    assert stretched.dtype == np.uint16
    assert stretched.min() == 0 and stretched.max() == 65_535


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_png_and_jpeg_inputs(tmp_path, suffix):
    image = blobs((40, 50), [(20, 25)], 9, 10, 220, np.uint8)
    iio.imwrite(tmp_path / f"a{suffix}", image)
    read = open_image(tmp_path / f"a{suffix}").pixels
    assert read.shape == (40, 50) and read.dtype == np.uint8
    mask = threshold.apply_threshold(read, threshold.compute_threshold(read))
    assert label.label_objects(mask)[1] == 1


# ---------------------------------------------------------------------------
# The workflow on volumes
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("volume", ["3d", "max_projection"])
def test_workflow_on_a_stack(tmp_path, stack, volume):
    path, pixels = stack
    project = copy_project(tmp_path / "project", with_example=False)
    images = project.root / "stacks"
    images.mkdir()
    (images / "stack.tif").write_bytes(path.read_bytes())
    (project.root / "stack.yaml").write_text(
        f"input: stacks\nvolume: {volume}\n"
        "morphology: {steps: [{operation: opening, iterations: 1}]}\n"
    )
    project.snakemake("--cores", "2", "--configfile", "stack.yaml")
    labels, calibration = read_tiff(project.root / "results" / "label" / "stack.tif")
    rgb, _ = read_tiff(project.root / "results" / "rescale" / "stack.tif")
    with open(project.root / "results" / "counts.csv", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    if volume == "3d":
        assert labels.shape == pixels.shape and rgb.shape == pixels.shape + (3,)
        assert calibration == Calibration(pytest.approx(0.25), pytest.approx(1.5))
        assert (row["objects"], row["depth"], row["z_spacing_um"]) == ("3", "9", "1.5")
    else:
        assert labels.shape == pixels.shape[1:]
        assert (row["objects"], row["depth"]) == ("3", "")


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "stardist").is_dir(), reason="../shared/data absent")
def test_workflow_on_the_real_3d_stack(tmp_path):
    project = copy_project(tmp_path / "project", with_example=False)
    images = project.root / "stacks"
    images.mkdir()
    (images / "img3d.tif").write_bytes((SHARED_DATA / "stardist" / "img3d.tif").read_bytes())
    project.snakemake("--cores", "2", "--config", "input=stacks", "volume=3d")
    labels, _ = read_tiff(project.root / "results" / "label" / "img3d.tif")
    assert labels.shape == (31, 61, 57)
    assert labels.max() >= 1
