"""scripts.config: loading, the schema's messages and typing, the checks it cannot express."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from scripts.config.checks import settings_errors
from scripts.config.schema import load_schema, schema_errors

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


@pytest.mark.parametrize(
    ("levels", "missing"),
    [
        ({"noise_floor": None, "object_fraction": 0.5}, "noise_floor"),
        ({"noise_floor": 3.0, "object_fraction": None}, "object_fraction"),
        ({"noise_floor": None, "object_fraction": None}, "noise_floor and object_fraction"),
    ],
)
def test_dim_growth_without_its_levels_names_what_is_missing(levels, missing):
    (error,) = settings_errors(changed(threshold={"grow_dim": True, **levels}))
    assert error.startswith("threshold.grow_dim: needs threshold.noise_floor and ")
    assert f"(set {missing}, or grow_dim: false)" in error
    assert settings_errors(changed(threshold={"grow_dim": False, **levels})) == []
    at_background = {"grow_dim": True, "noise_floor": 0, "object_fraction": 0.5}
    assert settings_errors(changed(threshold=at_background)) == []


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
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(changes)
    return schema_errors(config, load_schema(SCHEMA))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"unknown_key": 1}, "unknown_key: unknown key; allowed at the top level: "),
        ({"threshold": {"method": "otsu", "metod": "li"}},
         "threshold.metod: unknown key (did you mean 'method'?); allowed in threshold: "
         "grow_dim, method, noise_floor, object_fraction, value"),
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


# ---------------------------------------------------------------------------
# The schema's choices are the code's choices
# ---------------------------------------------------------------------------


def test_schema_enums_are_the_choices_the_code_knows():
    from scripts.algorithms.preprocess import BACKGROUND_METHODS
    from scripts.config.presets import PRESETS
    from scripts.steps.morphology import OPERATIONS
    from scripts.steps.threshold import METHODS

    properties = load_schema(SCHEMA)["properties"]
    assert properties["threshold"]["properties"]["method"]["enum"] == [*METHODS, "manual"]
    operation = properties["morphology"]["properties"]["steps"]["items"]["properties"]
    assert operation["operation"]["enum"] == list(OPERATIONS)
    background = properties["preprocess"]["properties"]["background"]["enum"]
    assert background == ["none", *BACKGROUND_METHODS, "auto"]
    assert properties["preset"]["enum"] == list(PRESETS)


# ---------------------------------------------------------------------------
# load_config: the one way from what the user gave to the validated config
# ---------------------------------------------------------------------------


def load(config, overrides=None):
    from scripts.config.load import load_config

    return load_config(config, SCHEMA, overrides)


def test_loading_fills_every_default_and_keeps_the_input():
    given = {"input": "example/images", "threshold": {"method": "li"}}
    before = copy.deepcopy(given)
    config = load(given)
    assert given == before
    assert config["threshold"] == {
        "method": "li", "value": None, "noise_floor": None, "object_fraction": None,
        "grow_dim": False,
    }
    assert config["morphology"]["steps"][1] == {"operation": "dilation", "iterations": 14}
    assert config["label"]["declump"]["enabled"] is False
    assert config["preset"] == "tutorial" and config["report"] == {"max_images": 24}


def test_preset_values_sit_between_the_defaults_and_the_users():
    config = load({"preset": "nuclei", "threshold": {"method": "otsu"}})
    assert config["threshold"]["method"] == "otsu"  # the user's
    assert config["morphology"]["steps"] == []  # the preset's
    assert config["colorize"]["alpha"] == 0.3  # the schema's


def test_every_problem_is_reported_at_once():
    from scripts.config.load import ConfigError

    with pytest.raises(ConfigError) as caught:
        load({"thresold": {}, "max_pixels": "many", "rescale": {"percentiles": [1]}})
    messages = caught.value.messages
    assert len(messages) == 3
    assert messages[0].startswith("thresold: unknown key (did you mean 'threshold'?)")
    assert messages[1].startswith("max_pixels: 'many' is not of type 'integer'")
    assert messages[2].startswith("rescale.percentiles: [1] is not valid")
    assert str(caught.value).startswith("Invalid configuration:\n  thresold")


def test_an_unknown_preset_is_refused_by_name():
    from scripts.config.load import ConfigError

    with pytest.raises(ConfigError, match="preset: unknown preset 'cells'; allowed: tutorial, nuclei"):
        load({"preset": "cells"})


def test_an_unknown_key_far_from_any_gets_no_guess():
    (message,) = schema_messages(zzz=1)
    assert message.startswith("zzz: unknown key; allowed at the top level:")


# ---------------------------------------------------------------------------
# Command-line values typed by the schema
# ---------------------------------------------------------------------------


def cli(*entries):
    """--config entries as Snakemake parses them (strings inside braces)."""
    from snakemake.cli import parse_config

    return parse_config(list(entries))


@pytest.mark.parametrize(
    ("entries", "key", "expected"),
    [
        (["threshold={method: manual, value: 30}"], "threshold", {"method": "manual", "value": 30}),
        (["threshold={method: manual, value: 27.5}"], "threshold", {"method": "manual", "value": 27.5}),
        (["rescale={percentiles: [0.5, 99.5]}"], "rescale", {"percentiles": [0.5, 99.5]}),
        (["rescale={percentiles: null}"], "rescale", {"percentiles": None}),
        (["fuse_steps=true"], "fuse_steps", True),
        (["fuse_steps=false"], "fuse_steps", False),
        (["fuse_steps=True"], "fuse_steps", True),
        (["measure={enabled: false}"], "measure", {"enabled": False}),
        (["label={declump: {enabled: true, neck_ratio: 0.8}}"], "label",
         {"declump": {"enabled": True, "neck_ratio": 0.8}}),
        (["morphology={steps: [{operation: erosion, iterations: 3}]}"], "morphology",
         {"steps": [{"operation": "erosion", "iterations": 3}]}),
        (["morphology={footprint_connectivity: 2}"], "morphology", {"footprint_connectivity": 2}),
        (["label={connectivity: null}"], "label", {"connectivity": None}),
        (["colorize={bg_color: null, colors: [red, blue]}"], "colorize",
         {"bg_color": None, "colors": ["red", "blue"]}),
        (["diameter=25"], "diameter", 25),
        (["diameter=auto"], "diameter", "auto"),
        (["job_processes=auto"], "job_processes", "auto"),
        (["channel=DAPI"], "channel", "DAPI"),
        (["input=2024"], "input", "2024"),
        (["evaluation={counts: truth.csv, labels: null}"], "evaluation",
         {"counts": "truth.csv", "labels": None}),
    ],
)
def test_command_line_values_get_the_type_the_schema_wants(entries, key, expected):
    def given_part(value, like):
        """The part of `value` that `like` names (defaults fill the rest)."""
        if isinstance(like, dict):
            return {name: given_part(value[name], like[name]) for name in like}
        return value

    config = load({"input": "example/images"}, cli(*entries))
    assert given_part(config[key], expected) == expected


def test_a_value_no_type_fits_is_reported_as_typed_by_the_user():
    from scripts.config.load import ConfigError

    with pytest.raises(ConfigError) as caught:
        load({}, cli("threshold={method: manual, value: thirty}"))
    assert caught.value.messages == ["threshold.value: 'thirty' is not of type 'number', 'null'"]


@pytest.mark.parametrize("word", [".inf", "-.inf", ".nan"])
def test_an_infinite_number_is_a_config_error_not_a_traceback(word):
    from scripts.config.load import ConfigError

    with pytest.raises(ConfigError, match=rf"threshold.value: '{word}' is not of type"):
        load({}, cli(f"threshold={{method: manual, value: {word}}}"))


def test_values_from_config_files_are_not_retyped():
    from scripts.config.load import ConfigError

    with pytest.raises(ConfigError, match="threshold.value: '30' is not of type"):
        load({"threshold": {"method": "manual", "value": "30"}})


# ---------------------------------------------------------------------------
# Relative paths from another working directory (--directory)
# ---------------------------------------------------------------------------


def test_paths_of_the_project_work_from_another_working_directory(tmp_path):
    from scripts.config.load import resolve_paths

    project, run = tmp_path / "project", tmp_path / "run"
    (project / "example" / "images").mkdir(parents=True)
    (project / "truth").mkdir()
    (run / "mine").mkdir(parents=True)
    given = {
        "input": "example/images",
        "samples": None,
        "evaluation": {"counts": "mine/truth.csv", "labels": "truth/{image}_labels.tif"},
    }
    resolved = resolve_paths(given, run, project)
    assert resolved["input"] == str(project / "example" / "images")
    assert resolved["evaluation"]["counts"] == "mine/truth.csv"  # exists in the run folder
    assert resolved["evaluation"]["labels"] == str(project / "truth" / "{image}_labels.tif")
    glob = resolve_paths({"input": "example/**/*.tif"}, run, project)
    assert glob["input"] == str(project / "example" / "**" / "*.tif")
    assert resolve_paths({"input": "nowhere/x"}, run, project)["input"] == "nowhere/x"
    assert resolve_paths(given, project, project) == given  # in the project: unchanged
    assert given["input"] == "example/images"  # not changed in place
