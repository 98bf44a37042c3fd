"""Leica LIF files, read with the package liffile (BSD-3).

Each image series of the project (at any folder depth) is one image, named
by its path in the project (``"Folder/Series003"``). Pixel size and z step
are the series' dimension lengths divided by (elements - 1), as LAS X and
Bio-Formats compute them; channel names are the channels' LUT names
(``"Green"``, ``"Red"``), the only name a LIF stores per channel. Refused:
time series (T > 1), tile scans (M: liffile does not stitch; merge the
mosaic in LAS X first), spectral (λ, Λ) and other scans, and scans without
a Y or X dimension (XZ and line scans).
"""

from __future__ import annotations

import numpy as np

from scripts.formats import assemble, channel_list, pick_scene, reading, require, spacing_um
from scripts.imaging import DEFAULT_MAX_PIXELS, Calibration, ImageReadError, unit_factor

KIND = "LIF"
#: LIF DimID -> dimension (liffile's codes).
DIMENSION_IDS = {1: "X", 2: "Y", 3: "Z", 4: "T", 5: "λ", 6: "A", 7: "N", 8: "Q", 9: "Λ",
                 10: "M", 11: "L"}
DESCRIPTION = "./Data/Image/ImageDescription"


def _open(path):
    liffile = require("liffile", "liffile", ".lif", path)
    return liffile.LifFile(str(path))


def _listed(lif):
    return [(index, image.path) for index, image in enumerate(lif.images)]


def scenes(path):
    """``[(index, name), ...]`` of the image series in a LIF (header only);
    `name` is the series' path in the project, e.g. ``"Series003"``."""
    with reading(path, KIND), _open(path) as lif:
        return _listed(lif)


def _steps_um(image):
    """{dimension: step in µm} of the spatial dimensions of a series."""
    steps = {}
    for element in image.xml_element.findall(f"{DESCRIPTION}/Dimensions/DimensionDescription"):
        axis = DIMENSION_IDS.get(int(element.get("DimID", 0)))
        count = int(element.get("NumberOfElements", 1))
        factor = unit_factor(element.get("Unit", ""))
        if axis in ("X", "Z") and count > 1 and factor is not None:
            steps[axis] = spacing_um(float(element.get("Length", 0)) / (count - 1), factor)
    return steps


def _channel_names(image):
    return [
        element.get("LUTName") or ""
        for element in image.xml_element.findall(f"{DESCRIPTION}/Channels/ChannelDescription")
    ]


def _sizes(path, image):
    """The series' dimensions, refusing what cannot be one 2D or 3D image."""
    sizes = dict(image.sizes)
    if "M" in sizes:
        raise ImageReadError(
            path, f"series {image.path!r} is a tile scan of {sizes['M']} tiles: tile scans "
            "are not stitched here; merge the mosaic in LAS X first"
        )
    if "Y" not in sizes or "X" not in sizes:
        raise ImageReadError(
            path, f"series {image.path!r} has no {'Y' if 'X' in sizes else 'X'} dimension "
            f"(dimensions {sizes}): XZ and line scans are not supported"
        )
    frame = tuple(axis for axis in image.frames.frame_dims if axis != "S")
    if frame != ("Y", "X"):
        raise ImageReadError(
            path, f"series {image.path!r} stores {' x '.join(frame)} frames, not Y x X "
            f"(dimensions {sizes}): XZ and other non-XY scans are not supported"
        )
    return sizes


def channel_names(path, scene=None):
    """LUT names of the channels of series `scene` in file order (header
    only; "" where a channel has none); ``[]`` for one channel (gray or
    RGB). `scene` as for :func:`read`."""
    with reading(path, KIND), _open(path) as lif:
        image = lif.images[pick_scene(path, _listed(lif), scene, "series")]
        return channel_list(_channel_names(image), dict(image.sizes).get("C", 1))


def header_shape(path, scene=None):
    """(shape, itemsize) of every plane of `scene` (the largest if None)."""
    with reading(path, KIND), _open(path) as lif:
        images = list(lif.images)
        if scene is not None:
            images = [images[pick_scene(path, _listed(lif), scene, "series")]]
        image = max(images, key=lambda im: int(np.prod(im.shape, dtype=np.int64)))
        return tuple(image.shape), image.dtype.itemsize


def read(path, scene=None, channel=None, volume="refuse", max_pixels=DEFAULT_MAX_PIXELS):
    """One image series of a LIF file as :func:`scripts.imaging.open_image`
    gives it.

    Parameters
    ----------
    path : str or Path
    scene : int, str or None
        Index in :func:`scenes`, or the series' path; None for a file of one
        series.
    channel : int, str or None
        Index or LUT name of the channel (required when there are several).
    volume : {"refuse", "3d", "max_projection"}
    max_pixels : int
        Refuse a series declaring more pixels (every channel and plane).

    Returns
    -------
    scripts.imaging.ImageData
        Pixels as stored, shape (Y, X) or (Z, Y, X) (RGB converted to gray
        as for TIFF); calibration in µm.
    """
    with reading(path, KIND), _open(path) as lif:
        listed = _listed(lif)
        position = pick_scene(path, listed, scene, "series")
        image = lif.images[position]
        sizes = _sizes(path, image)
        notes = [f"reading series {position} {image.path!r} of {len(listed)}"] if len(listed) > 1 else []
        steps = _steps_um(image)

        def plane(c, z):
            indices = {axis: value for axis, value in (("C", c), ("Z", z), ("T", 0))
                       if axis in sizes}
            return image.frame(**indices)

        return assemble(
            path, sizes, _channel_names(image), plane,
            Calibration(steps.get("X"), steps.get("Z")),
            channel=channel, volume=volume, max_pixels=max_pixels, notes=notes,
        )
