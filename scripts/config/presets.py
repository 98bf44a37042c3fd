"""Presets: named sets of config values, chosen by the config key ``preset``.

Applied by :func:`scripts.config.load.load_config` before the config is
validated (the validation fills in the schema's defaults). Precedence, lowest first:

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

#: The values each preset sets, in the config's own layout (see
#: config/README.md). Lists replace lists, mappings are merged key by key.
PRESETS = {
    "tutorial": {},
    "nuclei": {
        "preprocess": {
            "smooth_sigma": 0.05,  # Gaussian sigma d / 20 ...
            "smooth_sigma_min_px": 0.5,  # ... but at least 0.5 px
            # top-hat of radius 2 d, only where the background is uneven
            "background": "auto",
        },
        "threshold": {
            "method": "li",
            "noise_floor": 3.0,  # never below background + 3 noise sigma
            "object_fraction": 0.5,  # each object cut at half its own height
            "grow_dim": True,  # ... dim ones grown down to it (not noise peaks)
        },
        "morphology": {"steps": []},
        "cleanup": {
            "fill_holes": True,
            "max_hole_area": 1.0,  # holes up to one nucleus
            "min_area": 0.01,  # specks below a disc of diameter d / 10 go
            "area_unit": "object",
        },
        # the other declump knobs' schema defaults are the nuclei values
        "label": {
            "declump": {
                "enabled": True,
                "max_texture": 2.0,  # textured chromatin: split by shape
                "max_density": 1.25,  # pieces far below d: split by shape
                "max_area": 2.5,  # nucleus-sized parts over 2.5 discs: apart
            }
        },
        "qc": {"enabled": True},  # the qc column of counts.csv
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
