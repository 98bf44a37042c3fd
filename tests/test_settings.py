"""scripts.settings: the cross-field checks the config schema cannot express."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from scripts.settings import settings_errors

ROOT = Path(__file__).resolve().parent.parent


def valid_config():
    """The defaults of workflow/schemas/config.schema.yaml, as validation fills them."""
    return {
        "input": "example/images",
        "threshold": {"method": "otsu", "value": None},
        "morphology": {"footprint_connectivity": 1, "steps": []},
        "label": {"connectivity": 2},
        "colorize": {
            "colors": ["greenyellow", "green", "yellow", "yellowgreen"],
            "overlay": False,
            "alpha": 0.3,
            "bg_color": "black",
        },
        "rescale": {"percentiles": None},
    }


def changed(**sections):
    config = copy.deepcopy(valid_config())
    for section, values in sections.items():
        config[section].update(values)
    return config


def test_valid_config_has_no_errors():
    assert settings_errors(valid_config()) == []


def test_bundled_config_has_no_errors():
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    defaults = valid_config()
    for section in ("threshold", "colorize", "rescale"):
        config[section] = {**defaults[section], **config.get(section, {})}
    assert settings_errors(config) == []


@pytest.mark.parametrize(
    "sections",
    [
        {"threshold": {"method": "manual", "value": 27}},
        {"threshold": {"method": "manual", "value": 0}},
        {"threshold": {"method": "otsu", "value": 27}},
        {"rescale": {"percentiles": [0.5, 99.5]}},
        {"rescale": {"percentiles": [0, 100]}},
        {"colorize": {"bg_color": None}},
        {"colorize": {"colors": ["magenta"], "bg_color": "white"}},
    ],
)
def test_valid_variants_have_no_errors(sections):
    assert settings_errors(changed(**sections)) == []


def test_manual_without_value_names_the_key():
    errors = settings_errors(changed(threshold={"method": "manual", "value": None}))
    assert errors == ["threshold.value: required (a number) when threshold.method is 'manual'"]


@pytest.mark.parametrize("percentiles", [[99.5, 0.5], [50, 50]])
def test_percentiles_out_of_order_name_the_key(percentiles):
    (error,) = settings_errors(changed(rescale={"percentiles": percentiles}))
    assert error.startswith("rescale.percentiles: ")
    assert str(percentiles) in error
    assert "low < high" in error


def test_unknown_colour_names_the_key_and_the_colour():
    (error,) = settings_errors(changed(colorize={"colors": ["green", "greenish"]}))
    assert error.startswith("colorize.colors: unknown colour 'greenish'")
    assert "skimage.color.color_dict" in error


def test_unknown_background_colour_names_its_key():
    (error,) = settings_errors(changed(colorize={"bg_color": "pitch"}))
    assert error.startswith("colorize.bg_color: unknown colour 'pitch'")


def test_colour_names_are_case_sensitive_as_in_skimage():
    (error,) = settings_errors(changed(colorize={"colors": ["Green"]}))
    assert "'Green'" in error


def test_every_error_is_reported_once():
    config = changed(
        threshold={"method": "manual", "value": None},
        rescale={"percentiles": [90, 10]},
        colorize={"colors": ["nope", "green", "nada"], "bg_color": "zilch"},
    )
    errors = settings_errors(config)
    assert [error.split(":")[0] for error in errors] == [
        "threshold.value",
        "rescale.percentiles",
        "colorize.colors",
        "colorize.colors",
        "colorize.bg_color",
    ]
    assert "'nope'" in errors[2] and "'nada'" in errors[3] and "'zilch'" in errors[4]


# ---------------------------------------------------------------------------
# schema_errors: every message names the key and what is allowed
# ---------------------------------------------------------------------------

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def schema_messages(**changes):
    from scripts.settings import schema_errors

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(changes)
    return schema_errors(config, SCHEMA)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"unknown_key": 1}, "unknown_key: unknown key; allowed at the top level: "),
        ({"threshold": {"method": "otsu", "metod": "li"}},
         "threshold.metod: unknown key; allowed in threshold: method, value"),
        ({"threshold": {"method": "magic"}},
         "threshold.method: 'magic' is not one of ['otsu', 'li', "),
        ({"max_pixels": "many"}, "max_pixels: 'many' is not of type 'integer'"),
        ({"on_unreadable": "ignore"}, "on_unreadable: 'ignore' is not one of ['fail', 'skip']"),
        ({"morphology": {"steps": [{"operation": "erosion", "iterations": -2}]}},
         "morphology.steps.0.iterations: -2 is less than the minimum of 0"),
        ({"rescale": {"percentiles": [1, 2, 3]}},
         "rescale.percentiles: [1, 2, 3] is not valid under any of the given schemas; "
         "allowed: null for min-max, or [low, high] percentiles"),
    ],
    ids=["unknown-key", "unknown-nested-key", "method", "wrong-type", "on-unreadable",
         "negative-iterations", "percentiles-shape"],
)
def test_schema_messages_name_the_key_and_what_is_allowed(changes, expected):
    messages = schema_messages(**changes)
    assert len(messages) == 1
    assert messages[0].startswith(expected), messages


def test_unknown_top_level_key_lists_every_known_key():
    (message,) = schema_messages(unknown_key=1)
    known = yaml.safe_load(SCHEMA.read_text())["properties"]
    assert message.endswith(", ".join(sorted(known)))


def test_cleanup_area_range_must_not_be_empty():
    config = changed()
    config["cleanup"] = {"min_area": 50, "max_area": 10}
    assert settings_errors(config) == [
        "cleanup.min_area: 50 is larger than cleanup.max_area 10"
    ]
    config["cleanup"] = {"min_area": 10, "max_area": 10}
    assert settings_errors(config) == []
