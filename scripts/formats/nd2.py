"""Nikon ND2 files, read with the package nd2 (BSD-3).

Each XY position of a multipoint acquisition (loop P) is one image; a file
without positions is one image. Pixel size and z step come from the
file's volume calibration (µm; none when the file says the axes are not
calibrated), channel names from its channel metadata. Time series (T > 1)
and other loops are refused. NIS-Elements stores a stitched large image as
one frame, which is read whole; tiles of a grid acquired as separate
positions are separate images (they are not stitched here).
"""

from __future__ import annotations

import numpy as np

from scripts.formats import assemble, channel_list, pick_scene, reading, require, spacing_um
from scripts.imaging import DEFAULT_MAX_PIXELS, Calibration

KIND = "ND2"


def _open(path):
    nd2 = require("nd2", "nd2", ".nd2", path)
    return nd2.ND2File(str(path))


def _listed(handle):
    count = handle.sizes.get("P", 1)
    names = [None] * count
    for loop in handle.experiment or ():
        if getattr(loop, "type", None) == "XYPosLoop":
            points = loop.parameters.points
            names = [getattr(point, "name", None) or None for point in points][:count]
            names += [None] * (count - len(names))
    return list(enumerate(names))


def scenes(path):
    """``[(index, name), ...]`` of the XY positions of an ND2 (header only).

    A file without a position loop is one image, index 0; `name` is the
    position's name set in NIS-Elements, or None.
    """
    with reading(path, KIND), _open(path) as handle:
        return _listed(handle)


def scene_sizes(sizes):
    """The dimensions of one position: `sizes` of the file without P."""
    return {axis: size for axis, size in sizes.items() if axis != "P"}


def frame_index(loop_indices, wanted):
    """Sequence number of the first frame at the loop indices `wanted`.

    Parameters
    ----------
    loop_indices : sequence of dict
        ``ND2File.loop_indices``: for each frame in file order, its index
        along each loop (``{"T": 0, "P": 1, "Z": 2}``); a loop the file does
        not have is absent, and counts as index 0.
    wanted : dict of str to int
        E.g. ``{"T": 0, "P": 1, "Z": 2}``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When no frame has these indices.
    """
    for number, indices in enumerate(loop_indices):
        if all(indices.get(axis, 0) == value for axis, value in wanted.items()):
            return number
    raise ValueError(f"no frame at {wanted}")


def read_plane(handle, position, c, z, t=0):
    """One plane of an open ND2File: channel `c` at `z`, time `t`, of XY
    position `position`; shape (Y, X), or (Y, X, S) for RGB."""
    sizes = handle.sizes
    loop_indices = handle.loop_indices
    channel_loop = bool(loop_indices) and "C" in loop_indices[0]
    channels = 1 if channel_loop else sizes.get("C", 1)
    samples = sizes.get("S", 1)
    wanted = {"T": t, "P": position, "Z": z, **({"C": c} if channel_loop else {})}
    frame = np.asarray(handle.read_frame(frame_index(loop_indices, wanted)))
    frame = frame.reshape(channels, sizes["Y"], sizes["X"], samples)[0 if channel_loop else c]
    return frame[..., 0] if samples == 1 else frame


def _calibration(handle, sizes):
    """Pixel size and z step (µm) when the file says its axes are calibrated."""
    x, _, z = handle.voxel_size()
    calibrated = (True, True, True)
    channels = handle.metadata.channels if handle.metadata else None
    if channels:
        calibrated = tuple(getattr(channels[0].volume, "axesCalibrated", calibrated))
    pixel_size = spacing_um(x) if calibrated[0] else None
    z_step = spacing_um(z) if calibrated[2] and sizes.get("Z", 1) > 1 else None
    return Calibration(pixel_size, z_step)


def _channel_names(handle):
    channels = handle.metadata.channels if handle.metadata else None
    return [channel.channel.name or "" for channel in channels or ()]


def channel_names(path, scene=None):
    """Names of the channels of position `scene` in file order, from the
    file's channel metadata ("" where NIS-Elements stores none); ``[]`` for
    one channel (gray or RGB). Every position has the same channels;
    `scene` must still be one of the file's (None for a file of one
    position), as for :func:`read`. Header only."""
    with reading(path, KIND), _open(path) as handle:
        pick_scene(path, _listed(handle), scene, "positions")
        count = scene_sizes(dict(handle.sizes)).get("C", 1)
        return channel_list(_channel_names(handle), count)


def header_shape(path, scene=None):
    """(shape, itemsize) of every plane of one position (all positions are
    the same size, so `scene` only has to exist)."""
    with reading(path, KIND), _open(path) as handle:
        if scene is not None:
            pick_scene(path, _listed(handle), scene, "positions")
        return tuple(scene_sizes(dict(handle.sizes)).values()), handle.dtype.itemsize


def read(path, scene=None, channel=None, volume="refuse", max_pixels=DEFAULT_MAX_PIXELS):
    """One XY position of an ND2 file as :func:`scripts.imaging.open_image`
    gives it.

    Parameters
    ----------
    path : str or Path
    scene : int, str or None
        Index in :func:`scenes`, or the position's name; None for a file of
        one position.
    channel : int, str or None
        Index or name of the channel (required when there are several).
    volume : {"refuse", "3d", "max_projection"}
    max_pixels : int
        Refuse a position declaring more pixels (every channel and plane).

    Returns
    -------
    scripts.imaging.ImageData
        Pixels as stored, shape (Y, X) or (Z, Y, X) (RGB converted to gray
        as for TIFF); calibration in µm.
    """
    with reading(path, KIND), _open(path) as handle:
        listed = _listed(handle)
        position = pick_scene(path, listed, scene, "positions")
        one = scene_sizes(dict(handle.sizes))
        notes = []
        if len(listed) > 1:
            name = f" {listed[position][1]!r}" if listed[position][1] else ""
            notes.append(f"reading position {position}{name} of {len(listed)}")

        def plane(c, z):
            return read_plane(handle, position, c, z)

        return assemble(
            path, one, _channel_names(handle), plane, _calibration(handle, one),
            channel=channel, volume=volume, max_pixels=max_pixels, notes=notes,
        )
