"""Zeiss CZI files, read with ZEISS's own libCZI (package pylibCZIrw, LGPL-3).

Each scene (S) is one image; a file without scenes is one image. Mosaics
(several tiles, M, in a plane) are stitched by libCZI: every tile is placed
at the position the microscope stored for it, later tiles over earlier
ones, without blending; the note in the log says how many tiles. Pyramid
levels below full resolution are ignored. Pixel size and z step come from
the ``Scaling`` metadata (metres), channel names from
``Information/Image/Dimensions/Channels``. Time series (T > 1) and other
dimensions larger than 1 (phase H, illumination I, rotation R, view V,
block B) are refused.
"""

from __future__ import annotations

from xml.etree import ElementTree

import numpy as np

from scripts.formats import assemble, channel_list, pick_scene, reading, require, spacing_um
from scripts.imaging import DEFAULT_MAX_PIXELS, Calibration, ImageReadError

KIND = "CZI"
#: libCZI pixel type -> (numpy dtype, samples per pixel); BGR is turned to RGB.
PIXEL_TYPES = {
    "Gray8": (np.uint8, 1),
    "Gray16": (np.uint16, 1),
    "Gray32Float": (np.float32, 1),
    "Bgr24": (np.uint8, 3),
    "Bgr48": (np.uint16, 3),
    "Bgr96Float": (np.float32, 3),
    "Bgra32": (np.uint8, 4),
}
#: Dimensions of a CZI other than the planes' X and Y.
PLANE_DIMENSIONS = ("T", "C", "Z", "H", "I", "R", "V", "B")


def _open(path):
    pyczi = require("pylibCZIrw.czi", "pylibCZIrw", ".czi", path)
    return pyczi.open_czi(str(path))


def _metadata(document):
    """(scene names by index, channel names, pixel size µm, z step µm)."""
    root = ElementTree.fromstring(document.raw_metadata)
    image = root.find("./Metadata/Information/Image")
    scene_names, channel_names = {}, []
    if image is not None:
        for element in image.findall("./Dimensions/S/Scenes/Scene"):
            index = element.get("Index")
            if index is not None and index.isdigit():
                scene_names[int(index)] = element.get("Name")
        channel_names = [
            element.get("Name") or ""
            for element in image.findall("./Dimensions/Channels/Channel")
        ]
    scaling = {}
    for element in root.findall("./Metadata/Scaling/Items/Distance"):
        try:
            scaling[element.get("Id")] = float(element.findtext("Value"))
        except (TypeError, ValueError):
            continue
    return (
        scene_names,
        channel_names,
        spacing_um(scaling.get("X"), 1e6),
        spacing_um(scaling.get("Z"), 1e6),
    )


def _scene_ids(document):
    """libCZI's scene indices in order, or [None] for a file without scenes."""
    return sorted(document.scenes_bounding_rectangle_no_pyramid) or [None]


def _listed(document):
    names, _, _, _ = _metadata(document)
    ids = _scene_ids(document)
    if ids == [None]:
        return [(0, names.get(0))]
    return [(k, names.get(scene_id)) for k, scene_id in enumerate(ids)]


def scenes(path):
    """``[(index, name), ...]`` of the scenes in a CZI (header only).

    A file without scenes is one image, index 0; `name` is the scene name
    stored by ZEN (``"P1"``) or None.
    """
    with reading(path, KIND), _open(path) as document:
        return _listed(document)


def channel_names(path, scene=None):
    """Names of the channels of `scene` in file order (header only).

    The ``Name`` of each ``Information/Image/Dimensions/Channels/Channel``
    ("" where ZEN stores none), one per index of the C dimension; ``[]``
    for one channel (gray or RGB). Every scene of a CZI has the same
    channels; `scene` must still be one of the file's (None for a file of
    one scene), as for :func:`read`.
    """
    with reading(path, KIND), _open(path) as document:
        pick_scene(path, _listed(document), scene, "scenes")
        box = document.total_bounding_box_no_pyramid
        count = box["C"][1] - box["C"][0] if "C" in box else 1
        _, names, _, _ = _metadata(document)
        return channel_list(names, count)


def _geometry(path, document, scene_id):
    """(sizes, rectangle, dtype, samples, pixel type) of one scene."""
    box = document.total_bounding_box_no_pyramid
    rectangle = (
        document.total_bounding_rectangle_no_pyramid
        if scene_id is None
        else document.scenes_bounding_rectangle_no_pyramid[scene_id]
    )
    sizes = {axis: box[axis][1] - box[axis][0] for axis in PLANE_DIMENSIONS if axis in box}
    sizes["Y"], sizes["X"] = rectangle.h, rectangle.w
    pixel_type = document.get_channel_pixel_type(0)
    if pixel_type not in PIXEL_TYPES:
        raise ImageReadError(path, f"has the unsupported CZI pixel type {pixel_type}")
    dtype, samples = PIXEL_TYPES[pixel_type]
    if samples > 1:
        sizes["S"] = samples
    return sizes, rectangle, dtype, samples, pixel_type


def _tile_count(document, plane, rectangle):
    """Full-resolution subblocks (tiles) of one plane inside `rectangle`."""
    count = 0

    def counted(index, info):
        nonlocal count
        count += 1
        return True

    roi = (rectangle.x, rectangle.y, rectangle.w, rectangle.h)
    document.enumerate_subblocks_subset(counted, plane=plane, roi=roi, only_layer0=True)
    return count


def header_shape(path, scene=None):
    """(shape, itemsize) of every plane of `scene` (the largest one if None)."""
    with reading(path, KIND), _open(path) as document:
        ids = _scene_ids(document)
        chosen = ids if scene is None else [ids[pick_scene(path, _listed(document), scene)]]
        shapes = []
        for scene_id in chosen:
            sizes, _, dtype, _, _ = _geometry(path, document, scene_id)
            shapes.append(tuple(sizes.values()))
        shape = max(shapes, key=lambda s: int(np.prod(s, dtype=np.int64)))
        return shape, np.dtype(dtype).itemsize


def read(path, scene=None, channel=None, volume="refuse", max_pixels=DEFAULT_MAX_PIXELS):
    """One scene of a CZI file as :func:`scripts.imaging.open_image` gives it.

    Parameters
    ----------
    path : str or Path
    scene : int, str or None
        Index in :func:`scenes`, or the scene's name; None for a file of one
        scene.
    channel : int, str or None
        Index or name of the channel (required when there are several).
    volume : {"refuse", "3d", "max_projection"}
    max_pixels : int
        Refuse a scene declaring more pixels (every channel and plane).

    Returns
    -------
    scripts.imaging.ImageData
        Pixels as stored (uint8, uint16 or float32; RGB converted to gray as
        for TIFF), shape (Y, X) or (Z, Y, X); calibration in µm.
    """
    with reading(path, KIND), _open(path) as document:
        listed = _listed(document)
        position = pick_scene(path, listed, scene, "scenes")
        scene_id = _scene_ids(document)[position]
        _, channel_names, pixel_size, z_step = _metadata(document)
        sizes, rectangle, _, samples, pixel_type = _geometry(path, document, scene_id)
        box = document.total_bounding_box_no_pyramid
        start = {axis: box[axis][0] for axis in ("T", "C", "Z") if axis in box}
        notes = []
        if len(listed) > 1:
            name = f" {listed[position][1]!r}" if listed[position][1] else ""
            notes.append(f"reading scene {position}{name} of {len(listed)}")
        first = {axis: start.get(axis, 0) for axis in ("T", "C", "Z")}
        tiles = _tile_count(document, first, rectangle)
        if tiles > 1:
            notes.append(
                f"mosaic of {tiles} tiles stitched by libCZI at their stored stage "
                "positions (no blending)"
            )

        def plane(c, z):
            coordinates = {"T": start.get("T", 0), "C": start.get("C", 0) + c,
                           "Z": start.get("Z", 0) + z}
            pixels = document.read(
                roi=(rectangle.x, rectangle.y, rectangle.w, rectangle.h),
                plane=coordinates,
                scene=scene_id,
                pixel_type=pixel_type,
            )
            pixels = np.array(pixels, copy=True)
            if samples == 1:
                return pixels[..., 0]
            return pixels[..., [2, 1, 0, 3][:samples]]  # BGR(A) -> RGB(A)

        return assemble(
            path, sizes, channel_names, plane, Calibration(pixel_size, z_step),
            channel=channel, volume=volume, max_pixels=max_pixels, notes=notes,
        )
