"""scripts.config.presets (the preset merge), scripts.config.params (what needs what) and
scripts.units (lengths and areas relative to the diameter)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml
from scripts import units
from scripts.config import params, presets
from scripts.config.schema import fill_defaults, load_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def full(config):
    """`config` as load_config makes it: preset applied, then schema defaults."""
    merged = presets.apply_preset(config)
    fill_defaults(merged, load_schema(SCHEMA))
    return merged


def test_tutorial_is_the_schema_defaults():
    assert presets.PRESETS["tutorial"] == {}
    assert full({}) == full({"preset": "tutorial"})
    config = full({})
    assert config["threshold"]["method"] == "otsu"
    assert not params.needs_diameter(config)
    assert not params.preprocess_active(config["preprocess"])
    assert not params.cleanup_active(config["cleanup"])
    assert not params.declump_intensity(config["label"])


def test_nuclei_preset_values_fill_in_under_the_schema_defaults():
    config = full({"preset": "nuclei"})
    assert config["threshold"] == {
        "method": "li", "value": None, "noise_floor": 3.0, "object_fraction": 0.5,
        "grow_dim": True,
    }
    assert config["morphology"]["steps"] == []
    assert config["morphology"]["footprint_connectivity"] == 1  # schema default
    assert config["preprocess"]["smooth_sigma"] == 0.05
    assert config["preprocess"]["background"] == "auto"
    assert config["label"]["declump"]["max_texture"] == 2.0
    assert config["qc"] == {"enabled": True}
    assert config["cleanup"]["area_unit"] == "object"
    assert config["label"]["declump"]["enabled"] is True
    assert config["label"]["declump"]["neck_ratio"] == 0.9  # schema default
    assert params.needs_diameter(config)
    assert params.declump_intensity(config["label"])


def test_values_the_user_sets_override_the_preset():
    config = full(
        {
            "preset": "nuclei",
            "threshold": {"method": "otsu"},
            "morphology": {"steps": [{"operation": "opening", "iterations": 1}]},
            "label": {"declump": {"neck_ratio": 0.7}},
        }
    )
    assert config["threshold"]["method"] == "otsu"
    assert config["morphology"]["steps"] == [{"operation": "opening", "iterations": 1}]
    # a nested key merges: the preset's `enabled` stays
    assert config["label"]["declump"] == {
        **full({"preset": "nuclei"})["label"]["declump"],
        "neck_ratio": 0.7,
    }


def test_apply_preset_changes_neither_input_nor_preset():
    user = {"preset": "nuclei", "cleanup": {"min_area": 3}}
    before, preset_before = copy.deepcopy(user), copy.deepcopy(presets.PRESETS)
    merged = presets.apply_preset(user)
    merged["cleanup"]["fill_holes"] = False
    assert user == before and presets.PRESETS == preset_before


def test_unknown_preset_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match="preset: unknown preset 'cells'; allowed: tutorial, nuclei"):
        presets.apply_preset({"preset": "cells"})


def test_bundled_config_pins_no_step_value():
    """Switching `preset: nuclei` alone must be enough: config.yaml sets no
    key a preset sets."""
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    for name, values in presets.PRESETS.items():
        assert not set(values) & set(config), name
    nuclei = full({**config, "preset": "nuclei"})
    assert nuclei == full({"input": config["input"], "preset": "nuclei"})


@pytest.mark.parametrize(
    ("value", "unit", "pixel", "expected"),
    [(30, "px", None, 30.0), (6.5, "um", 0.65, 10.0)],
)
def test_diameter_in_px(value, unit, pixel, expected):
    assert units.diameter_in_px(value, unit, pixel) == pytest.approx(expected)


def test_diameter_in_um_needs_a_pixel_size():
    with pytest.raises(ValueError, match="needs the pixel size"):
        units.diameter_in_px(10, "um", None)


def test_lengths_scale_with_the_diameter_and_keep_their_floors():
    settings = full({"preset": "nuclei"})["preprocess"]
    assert units.smoothing_sigma_px(settings, 20.0) == pytest.approx(1.0)
    assert units.smoothing_sigma_px(settings, 4.0) == 0.5
    assert units.smoothing_sigma_px(dict(settings, smooth_sigma=0), 40.0) == 0.0
    assert units.background_radius_px(settings, 20.0) == pytest.approx(40.0)  # auto
    assert units.background_radius_px(dict(settings, background="none"), 20.0) == 0.0
    tophat = dict(settings, background="tophat")
    assert units.background_radius_px(tophat, 20.0) == pytest.approx(40.0)
    assert units.background_radius_px(tophat, 0.1) == 1.0


def test_cleanup_areas_in_every_unit():
    cleanup = {
        "fill_holes": True,
        "max_hole_area": 1.0,
        "min_area": 0.01,
        "max_area": None,
        "area_unit": "object",
        "exclude_border": False,
    }
    px = units.cleanup_px(cleanup, diameter_px=20.0)
    assert px["max_hole_area_px"] == pytest.approx(math.pi * 100)
    assert px["min_area_px"] == pytest.approx(math.pi)  # disc of diameter 2
    assert px["max_area_px"] is None
    um = units.cleanup_px(dict(cleanup, area_unit="um2", min_area=10), pixel_area_um=0.25)
    assert um["min_area_px"] == pytest.approx(40.0)
    assert units.cleanup_px(dict(cleanup, area_unit="px", min_area=7))["min_area_px"] == 7
    no_fill = dict(cleanup, fill_holes=False, area_unit="px")
    assert units.cleanup_px(no_fill)["max_hole_area_px"] is None
    assert units.area_in_px(1.0, "object", 6.0, ndim=3) == pytest.approx(36 * math.pi)
    with pytest.raises(ValueError, match="no pixel size"):
        units.cleanup_px(dict(cleanup, area_unit="um2"), 20.0, None)


def test_cleanup_needs_the_diameter_only_for_object_areas():
    off = full({})["cleanup"]
    assert not params.cleanup_needs_diameter(off)
    assert not params.cleanup_needs_diameter(dict(off, fill_holes=True, area_unit="object"))
    assert params.cleanup_needs_diameter(dict(off, min_area=0.1, area_unit="object"))
    assert not params.cleanup_needs_diameter(dict(off, min_area=10))
    assert params.cleanup_active(dict(off, exclude_border=True))


def test_declump_lengths_are_the_benchmarked_multiples_of_d():
    declump = full({"preset": "nuclei"})["label"]["declump"]
    px = units.declump_px(declump, 40.0)
    assert px == pytest.approx(
        {
            "neck_ratio": 0.9,
            "smooth_sigma_px": 2.0,
            "min_distance_px": 12.0,
            "min_area_px": math.pi / 4 * 10.0**2,
            "intensity_weight": 1.0,
            "intensity_sigma_px": 2.8,
            "max_area_px": 2.5 * math.pi / 4 * 40.0**2,
            "min_part_px": 0.4 * math.pi / 4 * 40.0**2,
        }
    )
    off = units.declump_px(dict(declump, min_distance=0, min_area=0, max_area=None), 40.0)
    assert off["min_distance_px"] is None and off["max_area_px"] is None


def test_physical_areas_become_pixels_with_the_pixel_size():
    from scripts.imaging import Calibration

    assert units.pixel_area_um(Calibration(0.5), 2) == pytest.approx(0.25)
    assert units.pixel_area_um(Calibration(0.5, 2.0), 3) == pytest.approx(0.5)
    assert units.pixel_area_um(Calibration(0.5), 3) == pytest.approx(0.125)
    assert units.pixel_area_um(Calibration(None), 2) is None
    assert units.area_in_px(10.0, "um2", pixel_area_um=0.25) == pytest.approx(40.0)
    assert units.area_in_px(8.0, "um2", pixel_area_um=0.5, ndim=3) == pytest.approx(16.0)
    assert units.area_in_px(None, "um2") is None
    assert units.axis_spacing_um(Calibration(0.5, 2.0), 3) == (2.0, 0.5, 0.5)
    assert units.axis_spacing_um(Calibration(0.5), 3) == (0.5, 0.5, 0.5)
    assert units.axis_spacing_um(Calibration(0.5), 2) == 0.5
    assert units.axis_spacing_um(Calibration(None), 2) is None


def test_optional_knobs_that_are_off_stay_out_of_the_params():
    """Off (null or false), a threshold level or the clump size limit
    changes nothing, so it is not in its rule's params: the tutorial's params and TIFFs keep their
    bytes, and switching it off again reruns nothing. A noise floor of 0
    is a level (the background itself) and stays."""
    tutorial = params.step_settings(full({}))["threshold"]
    assert tutorial == {"method": "otsu", "value": None}
    nuclei = params.step_settings(full({"preset": "nuclei"}))["threshold"]
    assert nuclei["grow_dim"] is True and nuclei["noise_floor"] == 3.0
    no_growth = full({"preset": "nuclei", "threshold": {"grow_dim": False}})
    assert "grow_dim" not in params.step_settings(no_growth)["threshold"]
    zero = full({"threshold": {"noise_floor": 0}})
    assert params.step_settings(zero)["threshold"]["noise_floor"] == 0
    declumping = full({"label": {"declump": {"enabled": True}}})
    assert "max_area" not in params.step_settings(declumping)["label"]["declump"]
    assert params.step_settings(full({"preset": "nuclei"}))["label"]["declump"]["max_area"] == 2.5
