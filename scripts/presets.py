"""Presets: named sets of config values, chosen by the config key ``preset``.

Called by ``workflow/rules/common.smk`` before the config is validated (the
validation fills in the schema's defaults). Precedence, lowest first:

1. the defaults of ``workflow/schemas/config.schema.yaml`` (the tutorial),
2. the values of the chosen preset (:data:`PRESETS`),
3. the values the user sets (``config/config.yaml``, ``--configfile``,
   ``--config``).

``tutorial`` sets nothing: the schema defaults are the scikit-image
tutorial. ``nuclei`` is the accurate chain for fluorescence nuclei measured
in README.md ("Accurate counts: the nuclei preset"): every length in it is a
multiple of ONE expected object diameter ``d`` (config keys ``diameter``,
``diameter_unit``; ``auto`` estimates ``d`` per image), every area a fraction
of the area of a disc of diameter ``d`` (``cleanup.area_unit: object``).

This module is the one source of truth of the preset values;
``benchmarks/accuracy.py`` imports it.
"""

from __future__ import annotations

import copy
import math

#: The values each preset sets, in the config's own layout (see
#: config/README.md). Lists replace lists, mappings are merged key by key.
PRESETS = {
    "tutorial": {},
    "nuclei": {
        "preprocess": {
            "smooth_sigma": 0.05,  # Gaussian sigma d / 20 ...
            "smooth_sigma_min_px": 0.5,  # ... but at least 0.5 px
        },
        "threshold": {"method": "li"},
        "morphology": {"steps": []},
        "cleanup": {
            "fill_holes": True,
            "max_hole_area": 1.0,  # holes up to one nucleus
            "min_area": 0.01,  # specks below a disc of diameter d / 10 go
            "area_unit": "object",
        },
        # the declump knobs' schema defaults are the nuclei values
        "label": {"declump": {"enabled": True}},
    },
}


def merge(base, override):
    """`base` updated by `override`, recursively for mappings (new dicts;
    the inputs are not changed). Lists and other values replace."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def apply_preset(config):
    """The user's `config` on top of the values of its ``preset``.

    Parameters
    ----------
    config : dict
        As Snakemake read it, before schema validation filled the defaults:
        only the keys the user set.

    Returns
    -------
    dict
        A new dict: the preset's values, overridden by every key the user
        set (mappings merged key by key, lists replaced). ``preset`` itself
        is kept. The schema's defaults fill the rest afterwards.

    Raises
    ------
    ValueError
        For an unknown preset name, naming the allowed ones.
    """
    name = config.get("preset", "tutorial")
    if name not in PRESETS:
        raise ValueError(
            f"preset: unknown preset {name!r}; allowed: {', '.join(PRESETS)}"
        )
    return merge(PRESETS[name], config)


# --------------------------------------------------------------------------
# The expected diameter d and the lengths and areas relative to it
# --------------------------------------------------------------------------


#: ``diameter: auto`` on an image where the estimate finds no object.
FALLBACK_DIAMETER_PX = 20.0


def preprocess_active(preprocess):
    """Whether the ``preprocess`` settings change the image at all."""
    return preprocess["smooth_sigma"] > 0 or preprocess["background"] != "none"


def cleanup_active(cleanup):
    """Whether the ``cleanup`` settings change the mask at all."""
    return (
        cleanup["fill_holes"]
        or cleanup["exclude_border"]
        or cleanup["min_area"] is not None
        or cleanup["max_area"] is not None
    )


def cleanup_needs_diameter(cleanup):
    """Whether cleanup converts areas given as fractions of the object area."""
    areas = [cleanup["min_area"], cleanup["max_area"]]
    if cleanup["fill_holes"]:
        areas.append(cleanup["max_hole_area"])
    return cleanup["area_unit"] == "object" and any(a is not None for a in areas)


def declump_intensity(label):
    """Whether the label step weights declumping by the raw image."""
    declump = label["declump"]
    return bool(declump["enabled"]) and declump["intensity_weight"] > 0


def needs_diameter(config):
    """Whether any step of the validated `config` needs the expected diameter
    ``d``; the threshold step then finds it (estimates it with ``auto``) and
    records it in ``results/threshold/<image>.json``."""
    return (
        preprocess_active(config["preprocess"])
        or cleanup_needs_diameter(config["cleanup"])
        or bool(config["label"]["declump"]["enabled"])
    )


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


def object_size_px(diameter_px, ndim=2):
    """Pixels of a disc (voxels of a ball in 3D) of diameter `diameter_px`:
    the area unit ``object``."""
    if ndim == 3:
        return math.pi / 6 * diameter_px**3
    return math.pi / 4 * diameter_px**2


def area_in_px(value, unit, diameter_px=None, pixel_um=None, ndim=2):
    """An area bound of ``cleanup`` in pixels (voxels in 3D); None passes.

    Parameters
    ----------
    value : float or None
    unit : {"px", "um2", "object"}
        Pixels; um^2 (um^3 for volumes); or fractions of the area of a disc
        of diameter ``d`` (in 3D: of the volume of a ball).
    diameter_px : float or None
        ``d``, for ``object``.
    pixel_um : float or None
        Physical size of one pixel, um^2 (um^3 for a voxel), for ``um2``.
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
    if not pixel_um:
        raise ValueError(
            "cleanup.area_unit is um2 but the image records no pixel size; "
            "give the areas in pixels (area_unit: px)"
        )
    return float(value) / float(pixel_um)


def cleanup_px(cleanup, diameter_px=None, pixel_um=None, ndim=2):
    """Keyword arguments of :func:`scripts.cleanup.cleanup` in pixels."""

    def area(key):
        return area_in_px(cleanup[key], cleanup["area_unit"], diameter_px, pixel_um, ndim)

    return {
        "fill_holes": bool(cleanup["fill_holes"]),
        "max_hole_area_px": area("max_hole_area") if cleanup["fill_holes"] else None,
        "min_area_px": area("min_area"),
        "max_area_px": area("max_area"),
        "exclude_border": bool(cleanup["exclude_border"]),
    }


def declump_px(declump, diameter_px, ndim=2):
    """Keyword arguments of :func:`scripts.declump.split_touching` (without
    `intensity` and `connectivity`) in pixels."""
    d = diameter_px
    size = object_size_px(d, ndim)
    return {
        "neck_ratio": float(declump["neck_ratio"]),
        "smooth_sigma_px": declump["smooth_sigma"] * d,
        "min_distance_px": (declump["min_distance"] * d) or None,
        "min_area_px": (declump["min_area"] * size) or None,
        "intensity_weight": float(declump["intensity_weight"]),
        "intensity_sigma_px": declump["intensity_sigma"] * d,
    }
