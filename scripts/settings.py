"""Checks of the configuration that a JSON schema cannot express.

Called by ``workflow/rules/common.smk`` after schema validation, before any
job runs. Each message names the config key and what is allowed.
"""

from __future__ import annotations

import json

import jsonschema
import yaml
from skimage.color import color_dict


STEPS = ("threshold", "morphology", "label", "colorize", "rescale")


def canonical(settings):
    """`settings` with keys sorted at every level: reordering keys in the
    YAML file then leaves a step's params unchanged and triggers no rerun."""
    return json.loads(json.dumps(settings, sort_keys=True))


def step_settings(config):
    """The params ``settings`` of each step rule (and the parameters its
    TIFFs record), from the validated config: ``{step: dict}``.

    The knobs of declumping are dropped while it is off: they change
    nothing, so they rerun nothing either.
    """
    settings = {step: canonical(config[step]) for step in STEPS}
    if not config["label"]["declump"]["enabled"]:
        settings["label"]["declump"] = {"enabled": False}
    return settings


def schema_errors(config, schema_path):
    """One message per place where `config` breaks the JSON schema in the
    YAML file `schema_path`.

    Each message starts with the dotted config key (``threshold.method``)
    and says what is allowed, e.g. ``threshold.method: 'magic' is not one of
    ['otsu', 'li', ...]``.
    """
    with open(schema_path, encoding="utf-8") as handle:
        validator = jsonschema.Draft202012Validator(yaml.safe_load(handle))
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.path)):
        key = ".".join(str(part) for part in error.path)
        if error.validator == "additionalProperties":  # name the unknown key
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            for unknown in sorted(set(error.instance) - set(error.schema["properties"])):
                messages.append(
                    f"{key + '.' if key else ''}{unknown}: unknown key; allowed "
                    f"{'in ' + key if key else 'at the top level'}: {allowed}"
                )
            continue
        message = error.message
        if error.validator in ("oneOf", "anyOf") and "description" in error.schema:
            message += f"; allowed: {' '.join(error.schema['description'].split())}"
        messages.append(f"{key or '(top level)'}: {message}")
    return messages


def settings_errors(config):
    """List of messages, one per invalid value (empty when all is well)."""
    errors = []
    threshold = config["threshold"]
    if threshold["method"] == "manual" and threshold["value"] is None:
        errors.append("threshold.value: required (a number) when threshold.method is 'manual'")
    percentiles = config["rescale"]["percentiles"]
    if percentiles is not None and not percentiles[0] < percentiles[1]:
        errors.append(
            f"rescale.percentiles: {percentiles} must be [low, high] with low < high, "
            "e.g. [0.5, 99.5]"
        )
    cleanup = config.get("cleanup", {})
    low, high = cleanup.get("min_area"), cleanup.get("max_area")
    if low is not None and high is not None and low > high:
        errors.append(
            f"cleanup.min_area: {cleanup['min_area']} is larger than cleanup.max_area "
            f"{cleanup['max_area']}"
        )
    colorize = config["colorize"]
    named = [("colorize.colors", name) for name in colorize["colors"]]
    if colorize["bg_color"] is not None:
        named.append(("colorize.bg_color", colorize["bg_color"]))
    for key, name in named:
        if name not in color_dict:
            errors.append(
                f"{key}: unknown colour {name!r}; allowed: the names of "
                "skimage.color.color_dict (CSS colour names such as 'green', "
                "'greenyellow', 'magenta')"
            )
    return errors
