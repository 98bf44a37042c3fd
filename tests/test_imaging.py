"""scripts.imaging: reading microscope images, writing result TIFFs atomically."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from scripts import imaging
from scripts.imaging import (
    LUMA_WEIGHTS,
    ImageReadError,
    read_image,
    read_json,
    read_provenance,
    read_tiff,
    Calibration,
    to_grayscale,
    write_json,
    write_text,
    write_tiff,
)

PROVENANCE = {"step": "test", "parameters": {"method": "otsu"}, "source": "raw/a.tif"}


def noise(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True, dtype=dtype)


def files_in(folder):
    return sorted(path.name for path in Path(folder).iterdir())


# ---------------------------------------------------------------------------
# read_image: formats
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_read_tiff_gray(tmp_path, dtype):
    pixels = noise((30, 40), dtype)
    tifffile.imwrite(tmp_path / "a.tif", pixels)
    image, pixel_size = read_image(tmp_path / "a.tif")
    assert image.dtype == dtype
    assert image.shape == (30, 40)
    assert np.array_equal(image, pixels)
    assert pixel_size is None


def test_read_tiff_with_upper_case_suffix_and_string_path(tmp_path):
    pixels = noise((5, 6), np.uint8)
    tifffile.imwrite(tmp_path / "A.TIFF", pixels)
    image, _ = read_image(str(tmp_path / "A.TIFF"))
    assert np.array_equal(image, pixels)


def test_read_float_tiff(tmp_path):
    pixels = np.linspace(-1, 3, 20, dtype=np.float32).reshape(4, 5)
    tifffile.imwrite(tmp_path / "f.tif", pixels)
    image, _ = read_image(tmp_path / "f.tif")
    assert image.dtype == np.float32
    assert np.array_equal(image, pixels)


def test_read_boolean_tiff_as_uint8(tmp_path):
    pixels = np.eye(4, dtype=bool)
    tifffile.imwrite(tmp_path / "b.tif", pixels)
    image, _ = read_image(tmp_path / "b.tif")
    assert image.dtype == np.uint8
    assert image.tolist() == np.eye(4, dtype=np.uint8).tolist()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_read_png(tmp_path, dtype):
    pixels = noise((20, 30), dtype, seed=1)
    iio.imwrite(tmp_path / "a.png", pixels)
    image, pixel_size = read_image(tmp_path / "a.png")
    assert image.dtype == dtype
    assert np.array_equal(image, pixels)
    assert pixel_size is None


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg"])
def test_read_jpeg(tmp_path, suffix):
    pixels = np.full((16, 24), 120, dtype=np.uint8)
    pixels[:, 12:] = 40
    iio.imwrite(tmp_path / f"a{suffix}", pixels)
    image, pixel_size = read_image(tmp_path / f"a{suffix}")
    assert image.dtype == np.uint8
    assert image.shape == (16, 24)
    assert np.abs(image.astype(int) - pixels).max() <= 8  # lossy, but gray and close
    assert pixel_size is None


def test_read_rgb_converts_to_luma(tmp_path):
    rgb = noise((10, 12, 3), np.uint8, seed=2)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[0, 2] = (0, 0, 255)
    rgb[0, 3] = (10, 20, 30)
    iio.imwrite(tmp_path / "rgb.png", rgb)
    image, _ = read_image(tmp_path / "rgb.png")
    assert image.dtype == np.uint8 and image.shape == (10, 12)
    # 0.2125 * 255 = 54.19, 0.7154 * 255 = 182.43, 0.0721 * 255 = 18.39,
    # 0.2125 * 10 + 0.7154 * 20 + 0.0721 * 30 = 18.59
    assert image[0, :4].tolist() == [54, 182, 18, 19]
    assert np.array_equal(image, np.rint(rgb @ LUMA_WEIGHTS).astype(np.uint8))


def test_read_rgb_uint16_tiff_converts_to_luma(tmp_path):
    rgb = noise((10, 12, 3), np.uint16, seed=3)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    image, _ = read_image(tmp_path / "rgb.tif")
    assert image.dtype == np.uint16
    assert np.array_equal(image, np.rint(rgb @ LUMA_WEIGHTS).astype(np.uint16))


@pytest.mark.parametrize("channels", [3, 4])
def test_read_gray_saved_as_rgb_returns_the_channel_exactly(tmp_path, channels):
    gray = noise((20, 30), np.uint8, seed=4)
    planes = [gray, gray, gray] + ([noise((20, 30), np.uint8, seed=5)] if channels == 4 else [])
    iio.imwrite(tmp_path / "g.png", np.dstack(planes))
    image, _ = read_image(tmp_path / "g.png")
    assert image.dtype == np.uint8
    assert image.shape == (20, 30)
    assert np.array_equal(image, gray)


def test_read_rgba_drops_alpha_before_luma(tmp_path):
    rgba = noise((6, 7, 4), np.uint8, seed=6)
    iio.imwrite(tmp_path / "c.png", rgba)
    image, _ = read_image(tmp_path / "c.png")
    assert np.array_equal(image, np.rint(rgba[..., :3] @ LUMA_WEIGHTS).astype(np.uint8))


@pytest.mark.parametrize("channel", [0, 1, 2])
def test_channel_selection(tmp_path, channel):
    rgb = noise((8, 9, 3), np.uint8, seed=7)
    iio.imwrite(tmp_path / "rgb.png", rgb)
    image, _ = read_image(tmp_path / "rgb.png", channel=channel)
    assert np.array_equal(image, rgb[..., channel])
    assert image.flags["C_CONTIGUOUS"]


def test_channel_3_selects_alpha_of_rgba(tmp_path):
    rgba = noise((8, 9, 4), np.uint8, seed=8)
    iio.imwrite(tmp_path / "rgba.png", rgba)
    image, _ = read_image(tmp_path / "rgba.png", channel=3)
    assert np.array_equal(image, rgba[..., 3])


def test_channel_out_of_range_names_the_file_and_the_channels(tmp_path):
    iio.imwrite(tmp_path / "rgb.png", noise((8, 9, 3), np.uint8))
    with pytest.raises(ImageReadError) as error:
        read_image(tmp_path / "rgb.png", channel=3)
    assert str(error.value) == (
        f"{tmp_path / 'rgb.png'}: channel 3 requested but the image has 3 channels (0-2)"
    )


def test_channel_of_a_gray_image(tmp_path):
    tifffile.imwrite(tmp_path / "g.tif", noise((8, 9), np.uint8))
    assert read_image(tmp_path / "g.tif", channel=0)[0].shape == (8, 9)
    with pytest.raises(ImageReadError) as error:
        read_image(tmp_path / "g.tif", channel=1)
    assert str(error.value) == (
        f"{tmp_path / 'g.tif'}: channel 1 requested but the image has a single channel"
    )


def test_bundled_examples_read(example_image):
    image, pixel_size = read_image(example_image)
    assert image.ndim == 2
    assert image.dtype in (np.uint8, np.uint16)
    expected = {"four_cells.tif": 0.65, "nuclei_16bit.tif": 0.325}.get(example_image.name)
    if expected is None:
        assert pixel_size is None
    else:
        assert pixel_size == pytest.approx(expected)


# ---------------------------------------------------------------------------
# read_image: pixel size
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["um", "micron", "\\u00B5m"])
def test_pixel_size_from_imagej_tiff(tmp_path, unit):
    tifffile.imwrite(tmp_path / "ij.tif", noise((6, 6), np.uint16), imagej=True,
                     resolution=(1 / 0.325, 1 / 0.325), metadata={"unit": unit})
    assert read_image(tmp_path / "ij.tif")[1] == pytest.approx(0.325)


def test_pixel_size_from_resolution_tags_in_centimetres(tmp_path):
    tifffile.imwrite(tmp_path / "cm.tif", noise((6, 6), np.uint8),
                     resolution=(1e4 / 0.25, 1e4 / 0.25), resolutionunit="CENTIMETER")
    assert read_image(tmp_path / "cm.tif")[1] == pytest.approx(0.25)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"resolution": (300, 300), "resolutionunit": "INCH"},
        {"resolution": (2, 2), "resolutionunit": "NONE"},
        {"imagej": True, "resolution": (2, 2)},  # ImageJ without a unit
        {"imagej": True, "resolution": (2, 2), "metadata": {"unit": "pixel"}},
    ],
    ids=["no-tags", "inch", "no-unit", "imagej-no-unit", "imagej-pixel"],
)
def test_no_pixel_size_otherwise(tmp_path, options):
    tifffile.imwrite(tmp_path / "x.tif", noise((6, 6), np.uint8), **options)
    assert read_image(tmp_path / "x.tif")[1] is None


# ---------------------------------------------------------------------------
# read_image: every problem is an ImageReadError naming the file
# ---------------------------------------------------------------------------


def assert_read_error(path, *fragments, **kwargs):
    with pytest.raises(ImageReadError) as error:
        read_image(path, **kwargs)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message, message
    assert error.value.path == str(path)
    assert isinstance(error.value, ValueError)
    return message


def test_missing_file(tmp_path):
    message = assert_read_error(tmp_path / "gone.tif")
    assert message == f"{tmp_path / 'gone.tif'}: file not found"


def test_folder_is_not_a_file(tmp_path):
    (tmp_path / "dir.tif").mkdir()
    assert_read_error(tmp_path / "dir.tif", "file not found")


@pytest.mark.parametrize("name", ["zero.tif", "zero.png"])
def test_zero_byte_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    message = assert_read_error(tmp_path / name)
    assert message == f"{tmp_path / name}: empty file (0 bytes)"


def test_text_file_named_tif(tmp_path):
    (tmp_path / "notes.tif").write_text("plate layout\nA1 control\n")
    assert_read_error(tmp_path / "notes.tif", "not a readable image", "TiffFileError",
                      "not a TIFF file")


def test_text_file_named_png(tmp_path):
    (tmp_path / "notes.png").write_text("plate layout\n")
    assert_read_error(tmp_path / "notes.png", "not a readable image", "cannot identify image file")


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_truncated_tiff(tmp_path, compression):
    tifffile.imwrite(tmp_path / "full.tif", noise((64, 64), np.uint8), compression=compression)
    data = (tmp_path / "full.tif").read_bytes()
    (tmp_path / "half.tif").write_bytes(data[: len(data) // 2])
    assert_read_error(tmp_path / "half.tif", "not a readable image (")


def test_truncated_png(tmp_path):
    iio.imwrite(tmp_path / "full.png", noise((64, 64), np.uint8))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    assert_read_error(tmp_path / "half.png", "not a readable image (", "truncated")


@pytest.mark.parametrize("pages", [2, 3, 4, 5])
def test_multi_page_tiff(tmp_path, pages):
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((pages, 16, 16), np.uint8),
                     photometric="minisblack")
    message = assert_read_error(tmp_path / "stack.tif")
    assert message == (
        f"{tmp_path / 'stack.tif'}: has {pages} pages or planes (shape ({pages}, 16, 16)); "
        "only 2D grayscale or RGB(A) images are read unless the config key 'volume' "
        "is '3d' or 'max_projection'"
    )


def test_4d_tiff(tmp_path):
    tifffile.imwrite(tmp_path / "hyper.tif", np.zeros((2, 3, 8, 8), np.uint8),
                     photometric="minisblack")
    assert_read_error(tmp_path / "hyper.tif", "more than one stack axis", "(2, 3, 8, 8)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_image_with_nan_or_inf(tmp_path, bad, dtype):
    pixels = np.ones((8, 8), dtype)
    pixels[3, 4] = bad
    tifffile.imwrite(tmp_path / "f.tif", pixels)
    message = assert_read_error(tmp_path / "f.tif")
    assert message == f"{tmp_path / 'f.tif'}: contains NaN or infinite pixel values"


def test_complex_pixels_are_refused(tmp_path):
    tifffile.imwrite(tmp_path / "c.tif", np.zeros((4, 4), np.complex64))
    assert_read_error(tmp_path / "c.tif", "unsupported pixel type complex64")


def test_declared_size_over_max_pixels_tiff(tmp_path):
    tifffile.imwrite(tmp_path / "big.tif", shape=(100, 200), dtype=np.uint8)
    message = assert_read_error(tmp_path / "big.tif", max_pixels=19_999)
    assert message == (
        f"{tmp_path / 'big.tif'}: declares (100, 200) pixels (20,000), more than the "
        "limit of 19,999 (config key max_pixels): refusing a possible decompression bomb"
    )
    assert read_image(tmp_path / "big.tif", max_pixels=20_000)[0].shape == (100, 200)


def test_declared_size_is_checked_before_the_pixels_are_read(tmp_path, monkeypatch):
    """The header of a bomb declares a size the file does not hold: no read."""
    tifffile.imwrite(tmp_path / "bomb.tif", shape=(30_000, 30_000), dtype=np.uint8)

    def refuse(*args, **kwargs):
        raise AssertionError("pixels were read")

    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", refuse)
    assert_read_error(tmp_path / "bomb.tif", "declares (30000, 30000) pixels (900,000,000)",
                      max_pixels=1_000_000)


def test_declared_size_counts_every_page_of_a_stack(tmp_path, monkeypatch):
    """A stack of 4 pages of 100 x 100 holds 40,000 pixels, not 400."""
    tifffile.imwrite(tmp_path / "stack.tif", shape=(4, 100, 100), dtype=np.uint8,
                     photometric="minisblack")
    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray",
                        lambda *a, **k: pytest.fail("pixels were read"))
    assert_read_error(tmp_path / "stack.tif", "declares (4, 100, 100) pixels (40,000)",
                      max_pixels=10_000)


def test_declared_size_of_rgb_counts_pixels_not_samples(tmp_path):
    tifffile.imwrite(tmp_path / "rgb.tif", noise((100, 100, 3), np.uint8), photometric="rgb")
    assert read_image(tmp_path / "rgb.tif", max_pixels=10_000)[0].shape == (100, 100)
    assert_read_error(tmp_path / "rgb.tif", "pixels (10,000)", max_pixels=9_999)


def test_declared_size_over_max_pixels_png(tmp_path):
    iio.imwrite(tmp_path / "big.png", np.zeros((100, 200), np.uint8))
    assert_read_error(tmp_path / "big.png", "declares (100, 200) pixels (20,000)",
                      "config key max_pixels", max_pixels=19_999)


def _read_as_unprivileged_user(path):
    """read_image in a forked child that has dropped root to 'nobody'.

    chmod 000 does not stop root from reading, so as root the test forks and
    the child calls os.setuid(65534) first; the error text comes back
    through a pipe.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                read_image(path)
                message = "NO ERROR"
            except ImageReadError as error:
                message = str(error)
            except BaseException as error:  # noqa: BLE001 - report anything
                message = f"UNEXPECTED {type(error).__name__}: {error}"
            os.write(write_end, message.encode("utf-8"))
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode("utf-8")


def test_unreadable_file():
    # A folder anyone may enter: pytest's tmp_path is private to root.
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        path = Path(folder) / "locked.tif"
        tifffile.imwrite(path, noise((4, 4), np.uint8))
        os.chmod(path, 0)
        expected = f"{path}: permission denied: the file cannot be read"
        if os.geteuid() == 0:
            assert _read_as_unprivileged_user(path) == expected
        else:
            with pytest.raises(ImageReadError) as error:
                read_image(path)
            assert str(error.value) == expected


# ---------------------------------------------------------------------------
# to_grayscale
# ---------------------------------------------------------------------------


def test_to_grayscale_keeps_gray_as_is():
    gray = noise((4, 5), np.uint16)
    assert to_grayscale(gray) is gray


def test_to_grayscale_float_rgb_stays_float():
    rgb = np.zeros((2, 2, 3), np.float32)
    rgb[..., 0] = 1.0
    result = to_grayscale(rgb)
    assert result.dtype == np.float32
    assert np.allclose(result, 0.2125)


def test_a_gray_png_with_alpha_is_its_gray_plane(tmp_path):
    from PIL import Image as PILImage

    gray = np.arange(48, dtype=np.uint8).reshape(6, 8)
    pixels = np.stack([gray, np.full_like(gray, 200)], axis=-1)
    PILImage.fromarray(pixels, mode="LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(imaging.open_image(tmp_path / "la.png").pixels, gray)
    assert to_grayscale(pixels, channel=1).tolist() == [[200] * 8] * 6


@pytest.mark.parametrize("shape", [(4, 4, 5), (4,), (2, 3, 4, 3)])
def test_to_grayscale_other_shapes_raise(shape):
    with pytest.raises(ValueError, match="expected a 2D grayscale or RGB\\(A\\) image"):
        to_grayscale(np.zeros(shape, np.uint8))


# ---------------------------------------------------------------------------
# write_tiff / read_tiff / read_provenance
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pixels",
    [
        (np.eye(12, 15, dtype=np.uint8) * 255),
        noise((12, 15), np.uint16),
        np.arange(12 * 15, dtype=np.uint32).reshape(12, 15) * 70_000,
        noise((12, 15, 3), np.uint8),
    ],
    ids=["uint8-mask", "uint16", "uint32", "rgb"],
)
@pytest.mark.parametrize("pixel_size", [None, 0.65])
@pytest.mark.parametrize("compression", ["zlib", "none"])
def test_write_read_round_trip(tmp_path, pixels, pixel_size, compression):
    path = tmp_path / "out.tif"
    write_tiff(path, pixels, PROVENANCE, calibration=Calibration(pixel_size), compression=compression)
    back, calibration = read_tiff(path)
    back_size = calibration.pixel_size_um
    assert back.dtype == pixels.dtype
    assert back.shape == pixels.shape
    assert np.array_equal(back, pixels)
    assert back_size == (pytest.approx(pixel_size) if pixel_size else None)
    assert read_provenance(path) == PROVENANCE
    # The raw-image reader agrees on the pixel size (colorize reads it so).
    assert read_image(path)[1] == back_size
    assert files_in(tmp_path) == ["out.tif"]


def test_uint8_and_uint16_are_imagej_tiffs_with_info(tmp_path):
    write_tiff(tmp_path / "m.tif", np.zeros((4, 4), np.uint8), PROVENANCE, calibration=Calibration(0.5))
    with tifffile.TiffFile(tmp_path / "m.tif") as tif:
        assert tif.is_imagej
        assert tif.imagej_metadata["unit"] == "um"
        assert json.loads(tif.imagej_metadata["Info"]) == PROVENANCE
        assert tif.pages.first.compression == tifffile.COMPRESSION.ADOBE_DEFLATE


def test_uint32_is_a_plain_tiff_with_json_description(tmp_path):
    write_tiff(tmp_path / "l.tif", np.zeros((4, 4), np.uint32), PROVENANCE, calibration=Calibration(0.5))
    with tifffile.TiffFile(tmp_path / "l.tif") as tif:
        assert not tif.is_imagej
        assert json.loads(tif.pages.first.description) == PROVENANCE


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_non_ascii_provenance_round_trips(tmp_path, dtype):
    """Image ids may be any file name (discovery accepts 'Zellkern µ-ü.tif')."""
    provenance = {"step": "label", "parameters": {}, "source": "raw/Zellkern µ-ü 細胞.tif"}
    write_tiff(tmp_path / "u.tif", np.zeros((4, 4), dtype), provenance)
    assert read_provenance(tmp_path / "u.tif") == provenance


@pytest.mark.parametrize(
    "pixels",
    [np.eye(9, dtype=np.uint8), noise((9, 9), np.uint16), noise((9, 9), np.uint32),
     noise((9, 9, 3), np.uint8)],
    ids=["uint8", "uint16", "uint32", "rgb"],
)
def test_write_tiff_is_byte_identical_when_written_twice(tmp_path, pixels):
    write_tiff(tmp_path / "a.tif", pixels, PROVENANCE, calibration=Calibration(0.325))
    write_tiff(tmp_path / "b.tif", pixels.copy(), dict(PROVENANCE), calibration=Calibration(0.325))
    assert (tmp_path / "a.tif").read_bytes() == (tmp_path / "b.tif").read_bytes()


def test_provenance_key_order_does_not_change_the_bytes(tmp_path):
    reordered = dict(reversed(list(PROVENANCE.items())))
    write_tiff(tmp_path / "a.tif", np.eye(5, dtype=np.uint8), PROVENANCE)
    write_tiff(tmp_path / "b.tif", np.eye(5, dtype=np.uint8), reordered)
    assert (tmp_path / "a.tif").read_bytes() == (tmp_path / "b.tif").read_bytes()


def test_write_tiff_creates_missing_folders(tmp_path):
    path = tmp_path / "results" / "label" / "a.tif"
    write_tiff(path, np.zeros((3, 3), np.uint16), PROVENANCE)
    assert read_tiff(path)[0].shape == (3, 3)


def test_written_files_are_readable_by_others_as_open_would_make_them(tmp_path):
    write_tiff(tmp_path / "a.tif", np.zeros((3, 3), np.uint8), PROVENANCE)
    write_text(tmp_path / "b.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("a.tif", "b.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask


# ---------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------


def failing_imwrite(path, *args, **kwargs):
    Path(path).write_bytes(b"II*\x00partial")  # the file exists, half-written
    raise OSError("disk full")


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tifffile, "imwrite", failing_imwrite)
    with pytest.raises(OSError, match="disk full"):
        write_tiff(tmp_path / "out.tif", np.zeros((4, 4), np.uint8), PROVENANCE)
    assert files_in(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    write_tiff(tmp_path / "out.tif", np.eye(4, dtype=np.uint8), PROVENANCE)
    before = (tmp_path / "out.tif").read_bytes()
    monkeypatch.setattr(tifffile, "imwrite", failing_imwrite)
    with pytest.raises(OSError):
        write_tiff(tmp_path / "out.tif", np.zeros((4, 4), np.uint8), PROVENANCE)
    assert files_in(tmp_path) == ["out.tif"]
    assert (tmp_path / "out.tif").read_bytes() == before


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(path, *args, **kwargs):
        Path(path).write_bytes(b"II*\x00")
        raise KeyboardInterrupt

    monkeypatch.setattr(tifffile, "imwrite", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_tiff(tmp_path / "out.tif", np.zeros((4, 4), np.uint8), PROVENANCE)
    assert files_in(tmp_path) == []


def test_atomic_path_temporary_file_is_hidden_beside_the_target(tmp_path):
    with imaging.atomic_path(tmp_path / "sub" / "x.tif") as tmp:
        assert tmp.parent == tmp_path / "sub"
        assert tmp.name.startswith(".x.tif.") and tmp.name.endswith(".part")
        tmp.write_bytes(b"data")
        assert not (tmp_path / "sub" / "x.tif").exists()
    assert (tmp_path / "sub" / "x.tif").read_bytes() == b"data"
    assert files_in(tmp_path / "sub") == ["x.tif"]


def test_failed_text_write_leaves_no_file(tmp_path):
    with pytest.raises(TypeError):
        write_text(tmp_path / "a.txt", b"bytes, not text")
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------------------
# JSON and text
# ---------------------------------------------------------------------------


def test_json_round_trip_is_sorted_and_stable(tmp_path):
    record = {"z": 1, "a": [1.5, None], "ü": "µm"}
    write_json(tmp_path / "a.json", record)
    assert read_json(tmp_path / "a.json") == record
    text = (tmp_path / "a.json").read_text(encoding="utf-8")
    assert text == '{\n "a": [\n  1.5,\n  null\n ],\n "z": 1,\n "ü": "µm"\n}\n'
    write_json(tmp_path / "b.json", dict(reversed(list(record.items()))))
    assert (tmp_path / "b.json").read_bytes() == (tmp_path / "a.json").read_bytes()


def test_write_text_is_utf8(tmp_path):
    write_text(tmp_path / "t.csv", "image\nZelle µ\n")
    assert (tmp_path / "t.csv").read_bytes() == "image\nZelle µ\n".encode("utf-8")


# --------------------------------------------------------------------------
# Keeping written TIFFs in memory (worker processes)
# --------------------------------------------------------------------------


@pytest.fixture
def keeping():
    imaging.keep_written_tiffs(2**20)
    yield imaging._written_tiffs
    imaging.keep_written_tiffs(0)


KEPT_CASES = {
    "mask": (np.arange(30 * 40, dtype=np.uint8).reshape(30, 40), Calibration(0.65)),
    "labels uint32": (np.arange(30 * 40, dtype=np.uint32).reshape(30, 40) * 99991, Calibration(0.1)),
    "rgb": (np.arange(30 * 40 * 3, dtype=np.uint8).reshape(30, 40, 3), Calibration(1 / 3)),
    "volume": (np.arange(4 * 30 * 40, dtype=np.uint16).reshape(4, 30, 40), Calibration(0.33, 1.7)),
    "no calibration": (np.ones((30, 40), np.uint8), None),
}


@pytest.mark.parametrize("case", sorted(KEPT_CASES))
def test_a_kept_tiff_reads_back_exactly_as_the_file_does(tmp_path, keeping, case):
    pixels, calibration = KEPT_CASES[case]
    path = tmp_path / "out.tif"
    write_tiff(path, pixels, PROVENANCE, calibration=calibration)
    assert keeping.get(path) is not None
    kept_pixels, kept_calibration = read_tiff(path)
    imaging.keep_written_tiffs(0)
    disk_pixels, disk_calibration = read_tiff(path)
    assert kept_pixels.dtype == disk_pixels.dtype and kept_pixels.shape == disk_pixels.shape
    np.testing.assert_array_equal(kept_pixels, disk_pixels)
    assert kept_calibration == disk_calibration


def test_a_kept_tiff_changed_on_disk_is_read_from_the_file(tmp_path, keeping):
    path = tmp_path / "out.tif"
    write_tiff(path, np.zeros((30, 40), np.uint8), PROVENANCE)
    tifffile.imwrite(tmp_path / "other.tif", np.full((30, 40), 7, np.uint8))
    os.replace(tmp_path / "other.tif", path)  # another program replaced it
    pixels, _ = read_tiff(path)
    assert (pixels == 7).all()
    assert keeping.get(path) is None


def test_kept_tiffs_are_copies_and_stay_within_their_budget(tmp_path, keeping):
    first = tmp_path / "first.tif"
    write_tiff(first, np.zeros((512, 1024), np.uint8), PROVENANCE)  # 0.5 MiB of 1 MiB
    pixels, _ = read_tiff(first)
    pixels[:] = 9  # the caller's copy
    assert (read_tiff(first)[0] == 0).all()
    write_tiff(tmp_path / "second.tif", np.zeros((512, 1024), np.uint8), PROVENANCE)
    write_tiff(tmp_path / "third.tif", np.zeros((512, 1024), np.uint8), PROVENANCE)
    assert keeping.get(first) is None  # the oldest went first
    assert keeping.get(tmp_path / "third.tif") is not None
    write_tiff(tmp_path / "big.tif", np.zeros((1024, 1025), np.uint8), PROVENANCE)
    assert keeping.get(tmp_path / "big.tif") is None  # larger than the budget
    write_tiff(tmp_path / "thin.tif", np.zeros((1, 40), np.uint8), PROVENANCE)
    assert keeping.get(tmp_path / "thin.tif") is None  # may not read back as (1, 40)
