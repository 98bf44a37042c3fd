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
#: null or false (off).
OPTIONAL_THRESHOLD_KEYS = ("noise_floor", "object_fraction", "grow_dim")
#: Keys of ``label.declump`` left out of the label params while null (off).
OPTIONAL_DECLUMP_KEYS = ("max_area",)


def canonical(settings):
    """`settings` with keys sorted at every level: reordering keys in the
    YAML file then leaves a rule's params unchanged and triggers no rerun."""
    return json.loads(json.dumps(settings, sort_keys=True))


def step_settings(config):
    """The ``settings`` param of each step rule (and the parameters its TIFFs
    record): the step's config section, ``{step: dict}``.

    The knobs of declumping are dropped while it is off, and its optional
    knobs and the optional threshold levels while they are null or false:
    they change nothing, so they rerun nothing either (and the tutorial's
    outputs keep their bytes).
    """
    settings = {step: canonical(config[step]) for step in STEPS}
    if not config["label"]["declump"]["enabled"]:
        settings["label"]["declump"] = {"enabled": False}
    for key in OPTIONAL_DECLUMP_KEYS:
        if settings["label"]["declump"].get(key) is None:
            settings["label"]["declump"].pop(key, None)
    for key in OPTIONAL_THRESHOLD_KEYS:
        value = settings["threshold"].get(key)
        if value is None or value is False:  # not 0: noise_floor 0 is a level
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


def reading(config):
    """How every raw image is read (keyword arguments of
    :func:`scripts.imaging.open_image`); each image adds its own scene
    (:meth:`scripts.config.discovery.Image.reading`)."""
    return {
        "channel": config["channel"],
        "volume": config["volume"],
        "max_pixels": config["max_pixels"],
    }


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
        image (its source path, id and :func:`reading`) themselves.
    """
    settings = step_settings(config)
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
            "compression": compression,
            **qc,
        },
        "colorize": {
            "settings": settings["colorize"],
            "compression": compression,
        },
        "rescale": {"settings": settings["rescale"], "compression": compression},
        "report_image": {
            "steps": list(STEPS),
            "colors": settings["colorize"]["colors"],
            "percentiles": settings["rescale"]["percentiles"],
        },
        "report_parameters": {"config": recorded_config(config)},
        # a dict: Snakemake would read {image} in a plain string as a wildcard
        "evaluate": {
            "evaluation": config["evaluation"],
            "max_pixels": config["max_pixels"],
        },
    }


def channel_column(name):
    """A channel's name as the start of a column name: as it is when it
    starts with a letter (``PH3``), else prefixed (``0`` -> ``c0``)."""
    text = str(name)
    return text if text[:1].isalpha() else f"c{text}"


def measured_channels(image, config, base_reading):
    """The channels measured in every object of `image` (measure.channels).

    Parameters
    ----------
    image : scripts.config.discovery.Image
    config : dict
        Validated.
    base_reading : dict
        :func:`reading` of the config.

    Returns
    -------
    list of dict
        One per channel: ``name`` (the column prefix), ``path`` (its file),
        ``reading`` (keyword arguments of :func:`scripts.imaging.open_image`);
        or, for ``all`` in a file holding every channel, one dict with
        ``all: True`` (the job lists the file's channels).

    Raises
    ------
    ValueError
        For a channel a screen's field has no file of, naming the field's
        channels.
    """
    wanted = config["measure"]["channels"]
    if not wanted:
        return []
    reading = image.reading(base_reading)
    if not image.channels:
        if wanted == "all":
            return [{"all": True, "path": image.path, "reading": reading}]
        return [
            {"name": channel_column(item), "path": image.path, "reading": {**reading, "channel": item}}
            for item in wanted
        ]
    names = config["screen"]["channel_names"]
    files = dict(image.channels)
    # A channel may be given as the file names write it, by its name, or as
    # its column prefix in the tables (c2 for channel 2).
    written_by_name = {name: written for written, name in names.items()}
    written_by_name.update({channel_column(names.get(w, w)): w for w in files})
    segmented = next(written for written, path in image.channels if path == image.path)
    if wanted == "all":
        chosen = [written for written in files if written != segmented]
    else:
        chosen = [written_by_name.get(str(item), str(item)) for item in wanted]
        missing = [item for item, written in zip(wanted, chosen) if written not in files]
        if missing:
            known = ", ".join(f"{w} ({names[w]})" if w in names else w for w in files)
            raise ValueError(
                f"measure.channels: field {image.path} has no channel "
                f"{', '.join(map(repr, missing))}; its channels: {known}"
            )
    return [
        {"name": channel_column(names.get(written, written)), "path": files[written], "reading": reading}
        for written in chosen
    ]
