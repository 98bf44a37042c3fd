"""Readers of the formats acquisition software writes, beyond TIFF, PNG and JPEG.

One module per format, each with the same small interface:

``scenes(path) -> list of (index, name)``
    The images a file holds (CZI scenes, ND2 positions, LIF series,
    OME-Zarr plate fields), from the header alone. `index` counts from 0 in
    file order; `name` is the name stored in the file, or None.
``read(path, scene, channel, volume, max_pixels) -> scripts.imaging.ImageData``
    One scene's pixels as stored, the channel picked by index or name, Z
    handled by `volume` as for TIFF stacks, pixel size and z spacing in µm.
``channel_names(path, scene) -> list of str``
    The scene's channels in file order, from the header alone: each one's
    name stored in the file, or "" where it stores none; ``[]`` for a scene
    of one channel (gray or RGB). Index k of the list is the channel
    ``read(..., channel=k)`` gives.
``header_shape(path, scene) -> (shape, itemsize)``
    Every plane of the scene (largest scene when `scene` is None) as a shape
    tuple (RGB samples last), for :func:`scripts.imaging.decoded_megabytes`.

Every failure is a :class:`scripts.imaging.ImageReadError` with one line
naming the file and the problem. The readers' packages are optional
(``requirements-formats.txt``) and imported only when a file of their
format is read, so the workflow runs without them on TIFF, PNG and JPEG.
:func:`reader_for` is how :mod:`scripts.imaging` finds the module for a
path; this package imports nothing from the rest of ``scripts`` but
:mod:`scripts.imaging`.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: File suffix (lower case) -> module of this package that reads it.
SUFFIX_READERS = {".czi": "czi", ".nd2": "nd2", ".lif": "lif", ".zarr": "omezarr"}
#: Suffixes read by scripts.imaging itself: never a folder to look into.
PLAIN_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
#: Files that mark a folder as a Zarr group (Zarr v3, Zarr v2).
ZARR_MARKERS = ("zarr.json", ".zattrs", ".zgroup")
#: The file that installs every optional reader.
REQUIREMENTS = "requirements-formats.txt"
#: What one image of a file is called, per plural.
SINGULAR = {"scenes": "scene", "positions": "position", "series": "series", "fields": "field"}
#: Longest text of a library's error message kept in a one-line problem.
MAX_ERROR_CHARS = 200


def reader_for(path):
    """The reader module for `path`, or None for TIFF, PNG, JPEG and others.

    Chosen by suffix (case-insensitive); a folder without a known suffix
    that holds Zarr metadata (a plate's field ``plate.zarr/B/2/0``) is
    OME-Zarr. Imports only the small module of this package, not the
    format's library.
    """
    suffix = Path(path).suffix.lower()
    name = SUFFIX_READERS.get(suffix)
    if name is None and suffix not in PLAIN_SUFFIXES and is_zarr_group(path):
        name = "omezarr"
    return None if name is None else importlib.import_module(f"{__name__}.{name}")


def is_zarr_group(path):
    """True when `path` is a folder with Zarr group metadata in it."""
    path = Path(path)
    return path.is_dir() and any((path / marker).is_file() for marker in ZARR_MARKERS)


def require(module, package, suffix, path):
    """Import `module` of the optional `package`, or say how to install it.

    Raises
    ------
    ImageReadError
        "reading .nd2 files needs the optional package nd2: pip install -r
        requirements-formats.txt" when the package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        from scripts.imaging import ImageReadError

        raise ImageReadError(
            path,
            f"reading {suffix} files needs the optional package {package}: "
            f"pip install -r {REQUIREMENTS}",
        ) from None


def one_line(error):
    """``"TypeName: message"`` of an exception on one line, shortened."""
    text = " ".join(str(error).split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@contextmanager
def reading(path, kind):
    """Turn any error of a format's library into one ImageReadError line.

    ``with reading(path, "CZI"): ...`` re-raises an ImageReadError as it is
    and turns anything else into "not a readable CZI file (Error: text)".
    """
    from scripts.imaging import ImageReadError

    try:
        yield
    except ImageReadError:
        raise
    except Exception as error:  # a corrupt file can fail anywhere in a library
        raise ImageReadError(path, f"not a readable {kind} file ({one_line(error)})") from None


def describe(items, limit=12):
    """``0='P5', 1='P1', ...`` for error messages; None names print bare."""
    parts = [f"{index}={name!r}" if name else str(index) for index, name in items[:limit]]
    if len(items) > limit:
        parts.append(f"... {len(items) - limit} more")
    return ", ".join(parts)


def pick_scene(path, listed, scene, what="scenes"):
    """Position in `listed` (``[(index, name), ...]``) of `scene`.

    Parameters
    ----------
    path : str or Path
    listed : list of (int, str or None)
        What :func:`scenes` of the format returns.
    scene : int, str or None
        An index, a name stored in the file, or None (only for a file that
        holds one image).
    what : str
        What the format calls its images ("scenes", "positions", "series",
        "fields"), for the messages.

    Raises
    ------
    ImageReadError
        Listing the file's images, when `scene` is None for a file of
        several, unknown or out of range.
    """
    from scripts.imaging import ImageReadError

    one = SINGULAR.get(what, what)
    if not listed:
        raise ImageReadError(path, f"holds no image ({what}: none)")
    if scene is None:
        if len(listed) == 1:
            return 0
        raise ImageReadError(
            path,
            f"holds {len(listed)} {what} ({describe(listed)}): choose one by index or name",
        )
    if isinstance(scene, str):
        names = [name for _, name in listed]
        if scene not in names:
            raise ImageReadError(
                path, f"has no {one} named {scene!r}; its {what}: {describe(listed)}"
            )
        return names.index(scene)
    if not 0 <= scene < len(listed):
        raise ImageReadError(path, f"has no {one} {scene}; its {what}: {describe(listed)}")
    return int(scene)


def channel_list(names, count):
    """What ``channel_names`` returns for a scene of `count` channels.

    Parameters
    ----------
    names : list of str
        Channel names stored in the file, in order ("" where unnamed); may
        be shorter or longer than `count`.
    count : int
        Number of channels of the scene (its C dimension; 1 without one).

    Returns
    -------
    list of str
        `count` names, "" for those the file does not name; ``[]`` when
        `count` is 1 (a gray or RGB scene: no channel to choose).
    """
    if count <= 1:
        return []
    return (list(names) + [""] * count)[:count]


def spacing_um(value, unit_factor=1.0):
    """A positive pixel size or z step in µm, or None when unknown or zero."""
    if value is None:
        return None
    value = abs(float(value)) * unit_factor
    return value if value > 0 else None


def assemble(path, sizes, names, plane, calibration, *, channel, volume, max_pixels,
             notes=()):
    """One scene's pixels, read plane by plane, as :func:`open_image` gives them.

    Parameters
    ----------
    path : str or Path
        The file, for messages.
    sizes : dict of str to int
        Dimensions of the scene: ``"T"``, ``"C"``, ``"Z"``, ``"Y"``, ``"X"``
        and ``"S"`` (RGB samples, last) as the workflow knows them, and any
        other dimension the format has, by its name (refused when larger
        than 1).
    names : list of str
        Channel names stored in the file.
    plane : callable ``plane(c, z) -> ndarray``
        Reads one plane, shape (Y, X) or (Y, X, S), of channel `c` at `z`
        (time point 0).
    calibration : scripts.imaging.Calibration
    channel, volume, max_pixels
        As for :func:`scripts.imaging.open_image`.
    notes : sequence of str
        What the reader has to say already (a stitched mosaic).

    Returns
    -------
    scripts.imaging.ImageData
    """
    from scripts import imaging
    from scripts.imaging import ImageReadError

    known = {"T", "C", "Z", "Y", "X", "S"}
    for axis, size in sizes.items():
        if axis not in known and size > 1:
            raise ImageReadError(
                path, f"has a dimension {axis!r} of size {size} (dimensions {sizes}); "
                "only channels, z-planes, Y, X and RGB are supported"
            )
    if sizes.get("T", 1) > 1:
        raise ImageReadError(
            path, f"is a time series ({sizes['T']} time points, dimensions {sizes}); "
            "only one time point per image is supported"
        )
    order = [axis for axis in ("T", "C", "Z", "Y", "X", "S") if axis in sizes]
    imaging._check_size(path, tuple(sizes[axis] for axis in order), max_pixels)
    notes = list(notes)
    count, samples = sizes.get("C", 1), sizes.get("S", 1)
    sample_channel = None
    if count == 1 and samples > 1 and not isinstance(channel, str):
        index, sample_channel = 0, channel  # an index picks R, G or B as for TIFF
    elif count == 1 and channel is None:
        index = 0
    else:
        index, note = imaging._channel_index(path, count, channel, names)
        if count > 1:
            notes.append(note)
    depth = sizes.get("Z", 1)
    planes = [np.asarray(plane(index, z)) for z in range(depth)]
    if samples > 1:
        planes = [imaging._gray_or_error(path, p, sample_channel) for p in planes]
    pixels = planes[0] if depth == 1 else np.stack(planes)
    pixels = imaging._apply_volume_mode(path, pixels, volume, notes)
    return imaging.finished_image(path, pixels, calibration, notes, volume)

