"""Reading microscope images and writing results: the file I/O edge of the workflow.

TIFF, PNG and JPEG are read and every TIFF, CSV, JSON and text output is
written here (vendor formats and OME-Zarr: :mod:`scripts.formats`), so that
the algorithms (:mod:`scripts.algorithms`) stay pure functions on arrays and
the steps (:mod:`scripts.steps`) thin. Every writer is atomic: it writes a
hidden temporary file in the destination folder and renames it into place,
so a killed job never leaves a half-written file under ``results/``.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import imageio.v3 as iio
import numpy as np
import tifffile
from PIL import Image

from scripts import formats

# Pillow refuses images above ~179 MP on its own; this module applies the
# configurable limit `max_pixels` itself, before decoding.
Image.MAX_IMAGE_PIXELS = None

TIFF_SUFFIXES = (".tif", ".tiff")
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

    def __reduce__(self):
        # as it was made, so that it crosses from a worker process intact
        return type(self), (self.path, self.problem)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def to_grayscale(pixels, channel=None):
    """Reduce a 2D gray, gray+alpha, RGB or RGBA array to one 2D gray plane.

    Parameters
    ----------
    pixels : ndarray, shape (Y, X) or (Y, X, C) with C in {2, 3, 4}
        Image as read from the file, any numeric dtype.
    channel : int or None
        Index of the channel to keep. ``None`` keeps gray input as it is
        (gray+alpha: its gray plane) and
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
    if pixels.ndim != 3 or pixels.shape[-1] not in (2, 3, 4):
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
    if pixels.shape[-1] == 2:  # gray and alpha (PNG): the alpha is dropped
        return np.ascontiguousarray(pixels[..., 0])
    rgb = pixels[..., :3]
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(
        rgb[..., 0], rgb[..., 2]
    ):
        return np.ascontiguousarray(rgb[..., 0])
    luma = rgb @ LUMA_WEIGHTS
    if np.issubdtype(pixels.dtype, np.integer):
        return np.rint(luma).astype(pixels.dtype)
    return luma.astype(pixels.dtype)


#: Length units of OME and ImageJ metadata, in micrometres.
UNIT_IN_UM = {
    "um": 1.0, "µm": 1.0, "\u03bcm": 1.0, "micron": 1.0, "microns": 1.0,
    "micrometer": 1.0, "nm": 1e-3, "nanometer": 1e-3, "mm": 1e3,
    "millimeter": 1e3, "cm": 1e4, "centimeter": 1e4, "m": 1e6, "meter": 1e6,
}
#: Axes of a tifffile series that hold planes of one volume. Plain multi-page
#: TIFFs come as I (pages) or Q (unknown); ImageJ and OME stacks as Z.
PLANE_AXES = ("Z", "I", "Q")


@dataclass(frozen=True)
class Calibration:
    """Physical size of a pixel: `pixel_size_um` in Y and X (square pixels
    assumed), `z_spacing_um` between planes of a volume; None when unknown."""

    pixel_size_um: float | None = None
    z_spacing_um: float | None = None


@dataclass(frozen=True)
class ImageData:
    """A microscope image as the workflow segments it.

    `pixels` has shape (Y, X), or (Z, Y, X) for volumes; `notes` are
    sentences for the job's log about choices made while reading (channel
    picked, projection).
    """

    pixels: np.ndarray
    calibration: Calibration
    notes: tuple = ()


def unit_factor(unit):
    """Micrometres per `unit` (a length unit as files write it: "µm",
    "micron", "\\u00b5m", " nm "...), or None for an unknown unit."""
    return UNIT_IN_UM.get(str(unit).strip().lower().replace("\\u00b5", "µ"))


def _ome_metadata(tif):
    """(Calibration, channel names) from OME-XML, or (None, []) without it."""
    if not tif.is_ome or not tif.ome_metadata:
        return None, []
    root = ElementTree.fromstring(tif.ome_metadata)
    pixels = next((el for el in root.iter() if el.tag.endswith("}Pixels")), None)
    if pixels is None:
        return None, []

    def size(axis):
        value = pixels.get(f"PhysicalSize{axis}")
        factor = unit_factor(pixels.get(f"PhysicalSize{axis}Unit", "µm"))
        return None if value is None or factor is None else float(value) * factor

    names = [el.get("Name") or "" for el in pixels if el.tag.endswith("}Channel")]
    return Calibration(size("X"), size("Z")), names


def _tiff_calibration(tif):
    """Pixel size (and z spacing) from OME-XML, ImageJ metadata or the
    resolution tags in centimetres; None where the file records none."""
    ome, _ = _ome_metadata(tif)
    if ome is not None and ome.pixel_size_um is not None:
        return ome
    ij = tif.imagej_metadata or {}
    page = tif.pages.first
    factor = unit_factor(ij["unit"]) if "unit" in ij else None
    unit_tag = page.tags.get("ResolutionUnit")
    if factor is None and unit_tag is not None and int(unit_tag.value) == 3:
        factor = 1e4  # centimetre; inches mean "72 dpi", not a microscope
    pixel_size_um = None
    tag = page.tags.get("XResolution")
    if factor is not None and tag is not None and tag.value[0] and tag.value[1]:
        numerator, denominator = tag.value
        pixel_size_um = denominator / numerator * factor
    z_spacing_um = None
    if "spacing" in ij and factor is not None:
        z_spacing_um = float(ij["spacing"]) * factor
    elif not ij and page.description.startswith("{"):
        z_spacing_um = _json_or_empty(page.description).get("z_spacing_um")
    return Calibration(pixel_size_um, z_spacing_um)


def _json_or_empty(text):
    try:
        record = json.loads(text)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _pick_channel(path, data, axis, channel, names):
    """The plane of `channel` (an index, or a name from the file) along `axis`."""
    index, note = _channel_index(path, data.shape[axis], channel, names)
    return np.take(data, index, axis=axis), note


def _channel_index(path, count, channel, names):
    """(index, note for the log) of `channel` among `count` channels.

    Parameters
    ----------
    path : str or Path
        The image, for the error message.
    count : int
        Number of channels in the image.
    channel : int, str or None
        An index, or a name from `names`; None is refused (the image has
        several channels and the user must say which one).
    names : list of str
        Channel names stored in the file ("" or missing when unnamed).

    Raises
    ------
    ImageReadError
        Naming the channels of the image, when `channel` is None, unknown
        or out of range.
    """
    described = ", ".join(
        f"{index}={name!r}" if name else str(index)
        for index, name in enumerate(names[:count] + [""] * (count - len(names)))
    )
    if channel is None:
        raise ImageReadError(
            path,
            f"has {count} channels ({described}): set the config key 'channel' "
            "to the index or name of the one to segment",
        )
    if isinstance(channel, str):
        if channel not in names:
            raise ImageReadError(
                path, f"has no channel named {channel!r}; its channels: {described}"
            )
        channel = names.index(channel)
    if not 0 <= channel < count:
        raise ImageReadError(
            path, f"has no channel {channel}; its channels: {described}"
        )
    label = f" {names[channel]!r}" if channel < len(names) and names[channel] else ""
    note = f"segmenting channel {channel}{label} of {count}; the others are ignored"
    return channel, note


def _tiff_pixels(path, tif, channel, max_pixels):
    """Pixels of the first series with only Z (if any), Y, X and RGB axes left.

    The axes are checked from the header before any pixel is read."""
    series = tif.series[0]
    axes, shape = series.axes, series.shape
    samples = shape[axes.index("S")] if "S" in axes else 1
    _check_size(path, tuple(n for a, n in zip(axes, shape) if a != "S"), max_pixels)
    for axis in axes:
        if axis not in "TCSYX" + "".join(PLANE_AXES):
            raise ImageReadError(path, f"has an unsupported axis {axis!r} (axes {axes})")
    if "T" in axes:
        raise ImageReadError(
            path, f"is a time series ({shape[axes.index('T')]} time points, axes {axes})"
        )
    if sum(axis in PLANE_AXES for axis in axes) > 1:
        raise ImageReadError(
            path,
            f"has more than one stack axis (axes {series.axes}, shape {shape}); "
            "only 2D images, RGB(A) images and single z-stacks are supported",
        )
    notes = []
    if len(tif.series) > 1:
        notes.append(
            f"holds {len(tif.series)} images of different shapes or positions "
            f"(TIFF series); segmenting the first, axes {axes}, shape {shape}"
        )
    if len(series.levels) > 1:
        notes.append(
            f"pyramidal TIFF: segmenting the full-resolution level "
            f"({shape[axes.index('Y')]} x {shape[axes.index('X')]} px) of "
            f"{len(series.levels)} levels"
        )
    data = series.asarray()
    if "C" in axes:
        _, names = _ome_metadata(tif)
        data, note = _pick_channel(path, data, axes.index("C"), channel, names)
        axes = axes.replace("C", "")
        notes.append(note)
        channel = None
    if "S" in axes and axes.index("S") != len(axes) - 1:  # planar RGB: samples last
        data = np.moveaxis(data, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    if samples > 1:
        data = _gray_or_error(path, data, channel)
    elif channel not in (None, 0) and "C" not in series.axes:
        raise ImageReadError(
            path, f"channel {channel!r} requested but the image has a single channel"
        )
    return data, notes


def _gray_or_error(path, data, channel):
    try:
        return to_grayscale(data, channel)
    except ValueError as error:
        raise ImageReadError(path, str(error)) from None


def _apply_volume_mode(path, pixels, volume, notes):
    """Refuse a volume, keep it, or project it, as config key 'volume' says."""
    if pixels.ndim == 2:
        return pixels
    if volume == "3d":
        notes.append(f"segmenting the volume of {pixels.shape[0]} planes in 3D")
        return pixels
    if volume == "max_projection":
        notes.append(f"segmenting the maximum projection of {pixels.shape[0]} planes")
        return pixels.max(axis=0)
    raise ImageReadError(
        path,
        f"has {pixels.shape[0]} pages or planes (shape {pixels.shape}); only 2D "
        "grayscale or RGB(A) images are read unless the config key 'volume' is "
        "'3d' or 'max_projection'",
    )


def open_image(path, *, channel=None, volume="refuse", max_pixels=DEFAULT_MAX_PIXELS,
               scene=None):
    """Read one microscope image as the gray 2D (or 3D) array to segment.

    Parameters
    ----------
    path : str or Path
        A TIFF (plain, ImageJ or OME; multichannel, stacks, pyramids, any
        compression tifffile decodes with imagecodecs), PNG or JPEG file; a
        Zeiss CZI, Nikon ND2 or Leica LIF file, or an OME-Zarr image or plate
        folder (these need the optional packages of
        ``requirements-formats.txt``; see :mod:`scripts.formats`).
    channel : int, str or None
        The channel to segment: its index, or its name in the file's
        metadata. Required for multichannel images; for RGB(A) input see
        :func:`to_grayscale`.
    volume : {"refuse", "3d", "max_projection"}
        What to do with a stack of planes (Z, or pages): refuse it with an
        error, keep it as a 3D volume, or segment its maximum projection.
    max_pixels : int
        Refuse images whose header declares more pixels than this (all
        planes counted).
    scene : int, str or None
        The scene (CZI), position (ND2), series (LIF) or plate field
        (OME-Zarr) to read, by index or by the name stored in the file; None
        for files that hold one image. TIFF, PNG and JPEG files hold one
        image (scene 0).

    Returns
    -------
    ImageData
        Pixels as stored (integer or float, no rescaling), calibration in µm.

    Raises
    ------
    ImageReadError
        With the file name and the problem for anything unusable: missing,
        unreadable, empty, truncated, not an image, unexpected dimensions or
        channels, too large, non-finite values, an optional reader missing.
    """
    path = Path(path)
    reader = formats.reader_for(path)
    if reader is not None and path.is_dir():  # OME-Zarr: a folder
        return reader.read(path, scene=scene, channel=channel, volume=volume,
                             max_pixels=max_pixels)
    if not path.is_file():
        raise ImageReadError(path, "file not found")
    if not os.access(path, os.R_OK):
        raise ImageReadError(path, "permission denied: the file cannot be read")
    if path.stat().st_size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")
    if reader is not None:
        return reader.read(path, scene=scene, channel=channel, volume=volume,
                             max_pixels=max_pixels)
    if scene not in (None, 0):
        raise ImageReadError(path, f"holds one image; scene {scene!r} requested")
    calibration = Calibration()
    notes = []
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            with tifffile.TiffFile(path) as tif:
                pixels, notes = _tiff_pixels(path, tif, channel, max_pixels)
                calibration = _tiff_calibration(tif)
        else:
            with Image.open(path) as probe:
                _check_size(path, probe.size[::-1], max_pixels)
            pixels = iio.imread(path)
            if pixels.ndim == 3:
                pixels = _gray_or_error(path, pixels, channel)
    except ImageReadError:
        raise
    except Exception as error:  # any decoder failure: say what it was
        raise ImageReadError(
            path, f"not a readable image ({type(error).__name__}: {error})"
        ) from None
    pixels = _apply_volume_mode(path, np.asarray(pixels), volume, notes)
    return finished_image(path, pixels, calibration, notes, volume)


def finished_image(path, pixels, calibration, notes, volume):
    """The checks every reader's pixels pass, as an :class:`ImageData`.

    Booleans become uint8 0/1; other non-numeric types and NaN or infinite
    values are refused; the z spacing is kept only for a volume segmented
    in 3D.

    Parameters
    ----------
    path : str or Path
        The image, for error messages.
    pixels : ndarray, shape (Y, X) or (Z, Y, X)
        After :func:`_apply_volume_mode`.
    calibration : Calibration
    notes : list of str
    volume : {"refuse", "3d", "max_projection"}

    Raises
    ------
    ImageReadError
    """
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8)
    if not (np.issubdtype(pixels.dtype, np.integer) or np.issubdtype(pixels.dtype, np.floating)):
        raise ImageReadError(path, f"unsupported pixel type {pixels.dtype}")
    if np.issubdtype(pixels.dtype, np.floating) and not np.isfinite(pixels).all():
        raise ImageReadError(path, "contains NaN or infinite pixel values")
    if pixels.ndim == 2 or volume != "3d":
        calibration = Calibration(calibration.pixel_size_um, None)
    return ImageData(pixels, calibration, tuple(notes))


def read_image(path, *, channel=None, volume="refuse", max_pixels=DEFAULT_MAX_PIXELS,
               scene=None):
    """Short form of :func:`open_image`: ``(pixels, pixel_size_um)``."""
    image = open_image(path, channel=channel, volume=volume, max_pixels=max_pixels,
                       scene=scene)
    return image.pixels, image.calibration.pixel_size_um


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


def decoded_megabytes(path, max_pixels=DEFAULT_MAX_PIXELS, min_itemsize=1, scene=None):
    """Megabytes of an image's pixels once decoded, from its header alone.

    The memory a step needs grows with this, not with the file's size (a
    compressed TIFF or a PNG decodes to several times its size). Each value
    counts at least `min_itemsize` bytes. For files of several images (CZI
    scenes, ND2 positions, LIF series, OME-Zarr plate fields) it is the size
    of `scene`, or of the largest one when `scene` is None; for OME-Zarr
    folders the file's size is the size of its metadata only. Never raises:
    when the header cannot be read (or its optional reader is not
    installed), or declares more than `max_pixels` pixels (a file the
    threshold step refuses at once), the file's size is returned; 0 for a
    missing file.
    """
    path = Path(path)
    try:
        file_mb = path.stat().st_size / 1e6
    except OSError:
        return 0.0
    try:
        is_tiff = path.suffix.lower() in TIFF_SUFFIXES  # the common case first
        reader = None if is_tiff else formats.reader_for(path)
        if is_tiff:
            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                shape, itemsize = tuple(series.shape), series.dtype.itemsize
        elif reader is not None:
            shape, itemsize = reader.header_shape(path, scene)
        else:
            with Image.open(path) as probe:
                shape = (*probe.size[::-1], len(probe.getbands()))
                itemsize = 2 if "16" in probe.mode else 4 if probe.mode in ("I", "F") else 1
    except Exception:  # the job that reads it will say what is wrong
        return file_mb
    planes = shape[:-1] if len(shape) >= 3 and shape[-1] in (3, 4) else shape
    if int(np.prod(planes, dtype=np.int64)) > max_pixels:
        return file_mb
    itemsize = max(itemsize, min_itemsize)
    return max(file_mb, int(np.prod(shape, dtype=np.int64)) * itemsize / 1e6)


def read_tiff(path):
    """Read a TIFF written by this workflow as stored (no conversion).

    In a process that keeps what it writes (:func:`keep_written_tiffs`), a
    TIFF it wrote itself and that is unchanged since comes from memory.

    Returns
    -------
    pixels : ndarray
    calibration : Calibration
    """
    if _written_tiffs is not None:
        kept = _written_tiffs.get(path)
        if kept is not None:
            return kept
    with tifffile.TiffFile(path) as tif:
        return tif.series[0].asarray(), _tiff_calibration(tif)


class WrittenTiffs:
    """The TIFFs this process wrote last, kept decoded for the step that
    reads them next: a worker process (scripts/runtime/workers.py) runs an image's
    steps one after the other, and each step reads what the previous one
    wrote. An entry is used only while the file is the one written (same
    inode, size and modification time); the calibration kept is the one
    read back from the file's header, so a step gets exactly what reading
    the file would give. At most `max_bytes` of pixels are kept (the oldest
    go first); larger arrays are not kept.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._entries = {}  # absolute path -> (file signature, pixels, calibration)
        self._bytes = 0

    @staticmethod
    def _signature(path):
        try:
            info = os.stat(path)
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def put(self, path, pixels):
        key = os.path.abspath(path)
        self._drop(key)
        # A dimension of length 1 may not come back from the file as written.
        if pixels.nbytes > self.max_bytes or 1 in pixels.shape:
            return
        with tifffile.TiffFile(path) as tif:
            calibration = _tiff_calibration(tif)
        kept = pixels.copy()
        kept.flags.writeable = False
        self._entries[key] = (self._signature(path), kept, calibration)
        self._bytes += kept.nbytes
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def get(self, path):
        """(pixels, calibration) of `path` if kept and unchanged, else None."""
        key = os.path.abspath(path)
        entry = self._entries.get(key)
        if entry is None:
            return None
        signature, pixels, calibration = entry
        if signature is None or self._signature(path) != signature:
            self._drop(key)
            return None
        return pixels.copy(), calibration

    def _drop(self, key):
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1].nbytes


_written_tiffs = None


def keep_written_tiffs(max_bytes):
    """From now on keep up to `max_bytes` of the TIFFs this process writes
    for :func:`read_tiff` (see :class:`WrittenTiffs`); 0 stops."""
    global _written_tiffs
    _written_tiffs = WrittenTiffs(max_bytes) if max_bytes else None


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
#: Mode of every folder written as a whole (mkdtemp's 0700 likewise).
FOLDER_MODE = 0o777 & ~_umask()


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


def write_tiff(path, pixels, provenance, *, calibration=None, compression="zlib"):
    """Write an array as a TIFF that Fiji and napari open, atomically.

    uint8, uint16 and RGB uint8 arrays are written as ImageJ TIFFs (volumes
    as ImageJ stacks) with the pixel size (µm) in the resolution tags, the z
    spacing as ImageJ "spacing", and `provenance` as JSON in the ImageJ "Info"
    property (Fiji: Image > Show Info). Other dtypes (uint32 label images)
    are written as plain TIFFs with the JSON, and the z spacing under the key
    ``"z_spacing_um"``, as the image description. No timestamp is written:
    the same input gives the same bytes.

    Parameters
    ----------
    path : str or Path
    pixels : ndarray, shape ([Z,] Y, X) or ([Z,] Y, X, 3) for RGB
    provenance : dict
        JSON-serialisable; the step, its parameters and the source image.
    calibration : Calibration or None
    compression : {"zlib", "none"}
    """
    calibration = calibration or Calibration()
    pixel_size_um, z_spacing_um = calibration.pixel_size_um, calibration.z_spacing_um
    is_rgb = pixels.shape[-1] == 3 and pixels.ndim in (3, 4) and pixels.dtype == np.uint8
    is_volume = pixels.ndim - is_rgb == 3
    options = {
        "compression": None if compression == "none" else compression,
        "photometric": "rgb" if is_rgb else "minisblack",
    }
    if pixels.dtype in (np.uint8, np.uint16):
        metadata = {"Info": json.dumps(provenance, sort_keys=True, ensure_ascii=False)}
        if is_volume:
            metadata["axes"] = "ZYXS" if is_rgb else "ZYX"
        if pixel_size_um:
            options["resolution"] = (1.0 / pixel_size_um, 1.0 / pixel_size_um)
            metadata["unit"] = "um"
        if is_volume and z_spacing_um:
            metadata["spacing"] = z_spacing_um
        kwargs = {"imagej": True, "metadata": metadata}
    else:
        # TIFF ASCII tags take 7-bit text only: escape non-ASCII (a source
        # path such as "Zellen µ.tif"); json.loads reads it back unchanged.
        record = dict(provenance, z_spacing_um=z_spacing_um) if z_spacing_um else provenance
        description = json.dumps(record, sort_keys=True, ensure_ascii=True)
        kwargs = {"description": description, "metadata": None}
        if pixel_size_um:
            options["resolutionunit"] = "CENTIMETER"
            options["resolution"] = (1e4 / pixel_size_um, 1e4 / pixel_size_um)
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, pixels, **options, **kwargs)
    if _written_tiffs is not None:
        _written_tiffs.put(path, pixels)


def mask_to_uint8(mask):
    """Boolean mask as uint8 0/255, the binary-image convention of Fiji (the
    encoding of every mask TIFF this workflow writes)."""
    return mask.astype(np.uint8) * np.uint8(255)


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


def list_channels(path, scene=None):
    """The channels of an image, in order: their names in the file, or ""
    where it has none; ``[]`` for an image with one channel (gray or RGB).

    Parameters
    ----------
    path : str or Path
        A TIFF (names from OME metadata), PNG or JPEG file (always ``[]``),
        or a file of :mod:`scripts.formats` (its ``channel_names``).
    scene : int, str or None
        As for :func:`open_image`: the scene of a file holding several.

    Returns
    -------
    list of str
        Index k is the channel ``open_image(path, channel=k)`` reads.

    Raises
    ------
    ImageReadError
        For an unreadable header, or a scene the file does not have.
    """
    path = Path(path)
    reader = formats.reader_for(path)
    if reader is not None:
        return reader.channel_names(path, scene=scene)
    if scene not in (None, 0):
        raise ImageReadError(path, f"holds one image; scene {scene!r} requested")
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return []
    try:
        with tifffile.TiffFile(path) as tif:
            axes, shape = tif.series[0].axes, tif.series[0].shape
            _, names = _ome_metadata(tif)
    except Exception as error:  # the reading job says what is wrong
        raise ImageReadError(path, f"not a readable image ({type(error).__name__}: {error})") from None
    if "C" not in axes:
        return []
    count = shape[axes.index("C")]
    return (names + [""] * count)[:count]
