"""What each rule gets from the validated config: its ``params``, and the
switches that change which files the workflow reads and writes.

:func:`rule_params` is the one place where config keys become rule
parameters (``workflow/rules/*.smk`` read ``PARAMS[<rule>]``). A rule reruns
when its params change (Snakemake's params trigger), so what is in them is
exactly what changes a rule's outputs:

* keys are sorted at every level (:func:`canonical`): reordering the YAML
  file reruns nothing;
* an option that is off is ``None``, whatever its other keys say: changing a
  knob of an unused option reruns nothing either;
* keys that change how jobs run, not what they write
  (:data:`EXECUTION_KEYS`), are in no rule's params.

Config key -> rule: ``threshold``, ``preprocess``, ``diameter`` -> threshold;
``morphology``, ``cleanup`` -> morphology; ``label`` (with ``declump``),
``measure`` -> label; ``colorize`` -> colorize; ``rescale`` -> rescale;
``qc`` -> threshold and label;
``channel``, ``volume``, ``max_pixels`` -> every rule that reads a raw image.
"""

from __future__ import annotations

import json

from scripts.steps import STEPS

#: Config keys that change how jobs run, not what they write: not recorded
#: in any params (nor in results/report/parameters.yaml), so changing them
#: reruns nothing.
EXECUTION_KEYS = ("job_processes", "fuse_steps")
#: Keys of the ``threshold`` section that are left out of its params while
#: null (off).
OPTIONAL_THRESHOLD_KEYS = ("noise_floor", "object_fraction")


def canonical(settings):
    """`settings` with keys sorted at every level: reordering keys in the
    YAML file then leaves a rule's params unchanged and triggers no rerun."""
    return json.loads(json.dumps(settings, sort_keys=True))


def step_settings(config):
    """The ``settings`` param of each step rule (and the parameters its TIFFs
    record): the step's config section, ``{step: dict}``.

    The knobs of declumping are dropped while it is off, and the optional
    threshold levels while they are null: they change nothing, so they
    rerun nothing either (and the tutorial's outputs keep their bytes).
    """
    settings = {step: canonical(config[step]) for step in STEPS}
    if not config["label"]["declump"]["enabled"]:
        settings["label"]["declump"] = {"enabled": False}
    for key in OPTIONAL_THRESHOLD_KEYS:
        if settings["threshold"].get(key) is None:
            settings["threshold"].pop(key, None)
    return settings


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


def label_reads_raw(config):
    """Whether the label step reads the raw image: for the measurements, and
    for declumping weighted by intensity."""
    return bool(config["measure"]["enabled"]) or declump_intensity(config["label"])


def evaluates(config):
    """Whether ground truth is configured (rule evaluate runs)."""
    evaluation = config["evaluation"]
    return bool(evaluation["counts"] or evaluation["labels"])


def truth_label_path(evaluation, image):
    """The true label image of `image` (the ``evaluation.labels`` pattern with
    ``{image}`` replaced by the id), or None when no pattern is configured."""
    pattern = evaluation["labels"]
    return pattern.replace("{image}", image) if pattern else None


def recorded_config(config):
    """The configuration that made a results folder: every key but
    :data:`EXECUTION_KEYS`, keys sorted."""
    return canonical({k: v for k, v in config.items() if k not in EXECUTION_KEYS})


def rule_params(config):
    """The params of every rule that depend on the config, by rule name.

    Parameters
    ----------
    config : dict
        Validated, with every default filled in
        (:func:`scripts.config.load.load_config`).

    Returns
    -------
    dict of str -> dict
        ``{rule: {param name: value}}``; the rules add what depends on the
        image (its source path and id) themselves.
    """
    settings = step_settings(config)
    reading = {
        "channel": config["channel"],
        "volume": config["volume"],
        "max_pixels": config["max_pixels"],
    }
    compression = config["tiff_compression"]
    preprocess = (
        canonical(config["preprocess"]) if preprocess_active(config["preprocess"]) else None
    )
    cleanup = (
        canonical({**config["cleanup"], "connectivity": config["label"]["connectivity"]})
        if cleanup_active(config["cleanup"])
        else None
    )
    diameter = (
        {"value": config["diameter"], "unit": config["diameter_unit"]}
        if needs_diameter(config)
        else None
    )
    # only when on: the tutorial's params, and so its outputs, stay as they were
    qc = {"qc": True} if config["qc"]["enabled"] else {}
    return {
        "threshold": {
            "settings": settings["threshold"],
            "preprocess": preprocess,
            "diameter": diameter,
            "reading": reading,
            "compression": compression,
            **qc,
        },
        "morphology": {
            "settings": settings["morphology"],
            "cleanup": cleanup,
            "compression": compression,
        },
        "label": {
            "settings": settings["label"],
            "measure": bool(config["measure"]["enabled"]),
            "reading": reading,
            "compression": compression,
            **qc,
        },
        "colorize": {
            "settings": settings["colorize"],
            "reading": reading,
            "compression": compression,
        },
        "rescale": {"settings": settings["rescale"], "compression": compression},
        "report_image": {
            "steps": list(STEPS),
            "colors": settings["colorize"]["colors"],
            "percentiles": settings["rescale"]["percentiles"],
            "reading": reading,
        },
        "report_parameters": {"config": recorded_config(config)},
        "check_images": {"reading": reading},
        # a dict: Snakemake would read {image} in a plain string as a wildcard
        "evaluate": {
            "evaluation": config["evaluation"],
            "max_pixels": config["max_pixels"],
        },
    }
