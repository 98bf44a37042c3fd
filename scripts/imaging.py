"""Reading microscope images and writing results: the file I/O edge of the workflow.

Everything that touches a file lives here, so that the step modules
(`threshold`, `morphology`, `label`, `colorize`, `rescale`) stay pure functions
on arrays. Every writer is atomic: it writes a hidden temporary file in the
destination folder and renames it into place, so a killed job never leaves a
half-written file under ``results/``.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import tifffile

TIFF_SUFFIXES = (".tif", ".tiff")
#: Other formats read through imageio (Pillow).
OTHER_SUFFIXES = (".png", ".jpg", ".jpeg")
#: ITU-R BT.709 luma weights, the ones ``skimage.color.rgb2gray`` uses.
LUMA_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])
#: Refuse images larger than this many pixels unless configured otherwise: a
#: header claiming more is far likelier a corrupt file or a decompression bomb
#: than a real 2D micrograph (the default is 40,000 x 40,000).
DEFAULT_MAX_PIXELS = 1_600_000_000


class ImageReadError(ValueError):
    """An input image that cannot be used; the message names the file."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def to_grayscale(pixels, channel=None):
    """Reduce a 2D gray, RGB or RGBA array to one 2D gray plane.

    Parameters
    ----------
    pixels : ndarray, shape (Y, X) or (Y, X, C) with C in {3, 4}
        Image as read from the file, any numeric dtype.
    channel : int or None
        Index of the channel to keep. ``None`` keeps gray input as it is and
        converts colour input: an alpha channel is dropped; if the remaining
        R, G and B planes are identical (gray saved as RGB, common for PNG)
        the first plane is returned unchanged, otherwise the BT.709 luma
        ``0.2125 R + 0.7154 G + 0.0721 B`` is rounded back to the input dtype.

    Returns
    -------
    gray : ndarray, shape (Y, X), same dtype as `pixels`.

    Raises
    ------
    ValueError
        For any other shape, or a channel index out of range.
    """
    if pixels.ndim == 2:
        if channel not in (None, 0):
            raise ValueError(
                f"channel {channel} requested but the image has a single channel"
            )
        return pixels
    if pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
        raise ValueError(
            f"expected a 2D grayscale or RGB(A) image, got shape {pixels.shape}"
        )
    if channel is not None:
        if not 0 <= channel < pixels.shape[-1]:
            raise ValueError(
                f"channel {channel} requested but the image has "
                f"{pixels.shape[-1]} channels (0-{pixels.shape[-1] - 1})"
            )
        return np.ascontiguousarray(pixels[..., channel])
    rgb = pixels[..., :3]
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(
        rgb[..., 0], rgb[..., 2]
    ):
        return np.ascontiguousarray(rgb[..., 0])
    luma = rgb @ LUMA_WEIGHTS
    if np.issubdtype(pixels.dtype, np.integer):
        return np.rint(luma).astype(pixels.dtype)
    return luma.astype(pixels.dtype)


def _tiff_pixel_size_um(tif):
    """Pixel size in µm from ImageJ or resolution tags, or None if absent."""
    page = tif.pages.first
    ij = tif.imagej_metadata or {}
    tag = page.tags.get("XResolution")
    if tag is None:
        return None
    numerator, denominator = tag.value
    if numerator == 0 or denominator == 0:
        return None
    pixel_size = denominator / numerator  # units per pixel
    unit_tag = page.tags.get("ResolutionUnit")
    unit = ij.get("unit", "")
    if unit in ("um", "micron", "µm", "\\u00B5m"):
        return pixel_size
    if unit_tag is not None and int(unit_tag.value) == 3:  # centimetre
        return pixel_size * 1e4
    return None


def read_image(path, *, channel=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Read one 2D microscope image as a grayscale array.

    Parameters
    ----------
    path : str or Path
        A TIFF, PNG or JPEG file.
    channel : int or None
        Channel to keep from colour input; see :func:`to_grayscale`.
    max_pixels : int
        Refuse images whose header declares more pixels than this.

    Returns
    -------
    gray : ndarray, shape (Y, X)
        Integer or float pixel values as stored (no rescaling).
    pixel_size_um : float or None
        Physical pixel size in micrometres, when the file records one.

    Raises
    ------
    ImageReadError
        With the file name and the problem for anything unusable: missing,
        unreadable, empty, truncated, not an image, not 2D, too large,
        non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(path, "file not found")
    if not os.access(path, os.R_OK):
        raise ImageReadError(path, "permission denied: the file cannot be read")
    if path.stat().st_size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")
    pixel_size_um = None
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                _check_size(path, series.shape, max_pixels)
                pixels = series.asarray()
                pixel_size_um = _tiff_pixel_size_um(tif)
        else:
            import imageio.v3 as iio
            from PIL import Image

            with Image.open(path) as probe:
                _check_size(path, probe.size[::-1], max_pixels)
            pixels = iio.imread(path)
    except ImageReadError:
        raise
    except Exception as error:  # any decoder failure: say what it was
        raise ImageReadError(
            path, f"not a readable image ({type(error).__name__}: {error})"
        ) from None
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[-1] not in (3, 4):
        raise ImageReadError(
            path,
            f"has {pixels.shape[0]} pages or planes (shape {pixels.shape}); "
            "only 2D grayscale or RGB(A) images are supported",
        )
    try:
        gray = to_grayscale(pixels, channel)
    except ValueError as error:
        raise ImageReadError(path, str(error)) from None
    if gray.dtype == bool:
        gray = gray.astype(np.uint8)
    if not (np.issubdtype(gray.dtype, np.integer) or np.issubdtype(gray.dtype, np.floating)):
        raise ImageReadError(path, f"unsupported pixel type {gray.dtype}")
    if np.issubdtype(gray.dtype, np.floating) and not np.isfinite(gray).all():
        raise ImageReadError(path, "contains NaN or infinite pixel values")
    return gray, pixel_size_um


def _check_size(path, shape, max_pixels):
    # Every plane counts (a multi-page TIFF is read whole before its shape is
    # refused); only a trailing RGB(A) axis is not counted as pixels.
    shape = tuple(shape)
    planes = shape[:-1] if len(shape) >= 3 and shape[-1] in (3, 4) else shape
    n_pixels = int(np.prod(planes, dtype=np.int64))
    if n_pixels > max_pixels:
        raise ImageReadError(
            path,
            f"declares {shape} pixels ({n_pixels:,}), more than the limit of "
            f"{max_pixels:,} (config key max_pixels): refusing a possible "
            "decompression bomb",
        )


def read_tiff(path):
    """Read a TIFF written by this workflow as stored (no conversion).

    Returns
    -------
    pixels : ndarray
    pixel_size_um : float or None
    """
    with tifffile.TiffFile(path) as tif:
        return tif.series[0].asarray(), _tiff_pixel_size_um(tif)


def read_provenance(path):
    """The provenance dict stored in a TIFF written by :func:`write_tiff`."""
    with tifffile.TiffFile(path) as tif:
        ij = tif.imagej_metadata
        text = ij["Info"] if ij else tif.pages.first.description
    return json.loads(text)


# --------------------------------------------------------------------------
# Writing (atomic)
# --------------------------------------------------------------------------


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of every file written, as ``open()`` would create it (mkstemp's 0600
#: would hide results from colleagues on a shared file system).
FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` on success.

    The temporary file is hidden (leading dot) and removed if the block
    raises, so no partial file ever takes the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    os.close(handle)
    try:
        yield Path(tmp_name)
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_tiff(path, pixels, provenance, *, pixel_size_um=None, compression="zlib"):
    """Write an array as a TIFF that Fiji and napari open, atomically.

    uint8, uint16 and RGB uint8 arrays are written as ImageJ TIFFs with the
    pixel size (µm) in the resolution tags and `provenance` as JSON in the
    ImageJ "Info" property (Fiji: Image > Show Info). Other dtypes (uint32
    label images) are written as plain TIFFs with the JSON as the image
    description. No timestamp is written: the same input gives the same bytes.

    Parameters
    ----------
    path : str or Path
    pixels : ndarray, shape (Y, X) or (Y, X, 3)
    provenance : dict
        JSON-serialisable; the step, its parameters and the source image.
    pixel_size_um : float or None
    compression : {"zlib", "none"}
    """
    info = json.dumps(provenance, sort_keys=True, ensure_ascii=False)
    options = {"compression": None if compression == "none" else compression}
    if pixel_size_um:
        options["resolution"] = (1.0 / pixel_size_um, 1.0 / pixel_size_um)
    is_rgb = pixels.ndim == 3 and pixels.shape[-1] == 3
    if is_rgb:
        options["photometric"] = "rgb"
    else:
        options["photometric"] = "minisblack"
    if pixels.dtype in (np.uint8, np.uint16):
        metadata = {"Info": info}
        if pixel_size_um:
            metadata["unit"] = "um"
        kwargs = {"imagej": True, "metadata": metadata}
    else:
        # TIFF ASCII tags take 7-bit text only: escape non-ASCII (a source
        # path such as "Zellen µ.tif"); json.loads reads it back unchanged.
        description = json.dumps(provenance, sort_keys=True, ensure_ascii=True)
        kwargs = {"description": description, "metadata": None}
        if pixel_size_um:
            options["resolutionunit"] = "CENTIMETER"
            options["resolution"] = (1e4 / pixel_size_um, 1e4 / pixel_size_um)
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, pixels, **options, **kwargs)


def write_json(path, record):
    """Write a dict as sorted, indented JSON, atomically."""
    text = json.dumps(record, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    write_text(path, text)


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_text(path, text):
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
