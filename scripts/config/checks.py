"""Checks of the configuration that a JSON schema cannot express.

Run by :func:`scripts.config.load.load_config` after the schema check, before
any job. Each message names the config key and what is allowed.
"""

from __future__ import annotations

from skimage.color import color_dict


def settings_errors(config):
    """List of messages, one per invalid value (empty when all is well)."""
    errors = []
    threshold = config["threshold"]
    if threshold["method"] == "manual" and threshold["value"] is None:
        errors.append("threshold.value: required (a number) when threshold.method is 'manual'")
    if threshold.get("grow_dim"):
        missing = ["noise_floor"] if threshold.get("noise_floor") is None else []
        if not threshold.get("object_fraction"):  # 0 is off; a noise floor of 0 is a level
            missing.append("object_fraction")
        if missing:
            errors.append(
                "threshold.grow_dim: needs threshold.noise_floor and "
                f"threshold.object_fraction (set {' and '.join(missing)}, or grow_dim: false)"
            )
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
    positive = config.get("screen", {}).get("positive", {})
    if positive and not config.get("measure", {}).get("channels"):
        errors.append(
            f"screen.positive: {', '.join(positive)} must be measured: list the "
            "channels in measure.channels (or set it to all)"
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
