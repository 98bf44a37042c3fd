"""Units: pixels, micrometres and multiples of the expected object diameter.

The one home of every conversion between them. The config gives lengths as
multiples of the expected diameter ``d`` (``preprocess``, ``label.declump``)
and areas in pixels, um^2 or fractions of the area of a disc of diameter
``d`` (``cleanup.area_unit``); the algorithms take pixels. The pixel size
comes from the image (:class:`scripts.imaging.Calibration`, um).
"""

from __future__ import annotations

import math


def diameter_in_px(value, unit, pixel_size_um):
    """A configured diameter (a number) in pixels.

    Parameters
    ----------
    value : float > 0
    unit : {"px", "um"}
    pixel_size_um : float or None
        The image's pixel size; needed for ``unit="um"``.

    Raises
    ------
    ValueError
        For ``um`` without a pixel size.
    """
    if unit == "px":
        return float(value)
    if not pixel_size_um:
        raise ValueError(
            f"diameter: {value} um needs the pixel size, but the image records "
            "none; give the diameter in pixels (diameter_unit: px)"
        )
    return float(value) / float(pixel_size_um)


def object_size_px(diameter_px, ndim=2):
    """Pixels of a disc (voxels of a ball in 3D) of diameter `diameter_px`:
    the area unit ``object``."""
    if ndim == 3:
        return math.pi / 6 * diameter_px**3
    return math.pi / 4 * diameter_px**2


def axis_spacing_um(calibration, ndim):
    """Size of a pixel along each axis in um, for measurements: a float in 2D,
    ``(z, y, x)`` in 3D (z = the pixel size when the z spacing is unknown);
    None when the image records no pixel size."""
    size = calibration.pixel_size_um
    if not size:
        return None
    if ndim == 3:
        return (calibration.z_spacing_um or size, size, size)
    return size


def pixel_area_um(calibration, ndim):
    """Physical size of one pixel (um^2) or voxel (um^3); None when unknown."""
    size = calibration.pixel_size_um
    if not size:
        return None
    if ndim == 3:
        return size * size * (calibration.z_spacing_um or size)
    return size * size


def area_in_px(value, unit, diameter_px=None, pixel_area_um=None, ndim=2):
    """An area bound of ``cleanup`` in pixels (voxels in 3D); None passes.

    Parameters
    ----------
    value : float or None
    unit : {"px", "um2", "object"}
        Pixels; um^2 (um^3 for volumes); or fractions of the area of a disc
        of diameter ``d`` (in 3D: of the volume of a ball).
    diameter_px : float or None
        ``d``, for ``object``.
    pixel_area_um : float or None
        Physical size of one pixel, um^2 (um^3 for a voxel), for ``um2``
        (:func:`pixel_area_um`).
    ndim : {2, 3}

    Raises
    ------
    ValueError
        For ``um2`` without a pixel size.
    """
    if value is None:
        return None
    if unit == "px":
        return float(value)
    if unit == "object":
        return float(value) * object_size_px(diameter_px, ndim)
    if not pixel_area_um:
        raise ValueError(
            "cleanup.area_unit is um2 but the image records no pixel size; "
            "give the areas in pixels (area_unit: px)"
        )
    return float(value) / float(pixel_area_um)


def smoothing_sigma_px(preprocess, diameter_px):
    """Gaussian sigma of the threshold step's smoothing in pixels (0 = off):
    ``max(smooth_sigma * d, smooth_sigma_min_px)``."""
    if not preprocess["smooth_sigma"]:
        return 0.0
    return max(preprocess["smooth_sigma"] * diameter_px, preprocess["smooth_sigma_min_px"])


def background_radius_px(preprocess, diameter_px):
    """Radius of the background correction in pixels (0 = off)."""
    if preprocess["background"] == "none":
        return 0.0
    return max(preprocess["background_radius"] * diameter_px, 1.0)


def cleanup_px(cleanup, diameter_px=None, pixel_area_um=None, ndim=2):
    """Keyword arguments of :func:`scripts.algorithms.cleanup.cleanup` in
    pixels, from the ``cleanup`` config section."""

    def area(key):
        return area_in_px(cleanup[key], cleanup["area_unit"], diameter_px, pixel_area_um, ndim)

    return {
        "fill_holes": bool(cleanup["fill_holes"]),
        "max_hole_area_px": area("max_hole_area") if cleanup["fill_holes"] else None,
        "min_area_px": area("min_area"),
        "max_area_px": area("max_area"),
        "exclude_border": bool(cleanup["exclude_border"]),
    }


#: The least size of each of two touching parts that ``label.declump.max_area``
#: keeps apart, as a fraction of one expected object: a part of a nucleus's
#: size, not a bump of an outline.
CLUMP_PART = 0.4


def declump_px(declump, diameter_px, ndim=2):
    """Keyword arguments of :func:`scripts.algorithms.declump.split_touching`
    (without `intensity` and `connectivity`) in pixels, from the
    ``label.declump`` config section."""
    d = diameter_px
    size = object_size_px(d, ndim)
    return {
        "neck_ratio": float(declump["neck_ratio"]),
        "smooth_sigma_px": declump["smooth_sigma"] * d,
        "min_distance_px": (declump["min_distance"] * d) or None,
        "min_area_px": (declump["min_area"] * size) or None,
        "max_area_px": (declump.get("max_area") or 0) * size or None,
        "min_part_px": CLUMP_PART * size,
        "intensity_weight": float(declump["intensity_weight"]),
        "intensity_sigma_px": declump["intensity_sigma"] * d,
    }
