import json
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The project root, so that rules can import the step modules in scripts/.
sys.path.insert(0, workflow.basedir)

import scripts.colorize
import scripts.counts
import scripts.label
import scripts.morphology
import scripts.rescale
import scripts.threshold
from scripts.discovery import DiscoveryError, discover_images
from scripts.settings import schema_errors, settings_errors

STEPS = ["threshold", "morphology", "label", "colorize", "rescale"]

CONFIG_SCHEMA = "../schemas/config.schema.yaml"
_errors = schema_errors(config, os.path.join(workflow.current_basedir, CONFIG_SCHEMA))
if not _errors:
    validate(config, CONFIG_SCHEMA, set_default=True)
    _errors = settings_errors(config)
if _errors:
    raise WorkflowError("Invalid configuration:\n  " + "\n  ".join(_errors))

try:
    IMAGES = discover_images(config)
except DiscoveryError as error:
    raise WorkflowError(str(error)) from None


def canonical(settings):
    """`settings` with keys sorted at every level: reordering keys in the
    YAML file then leaves the params unchanged and triggers no rerun."""
    return json.loads(json.dumps(settings, sort_keys=True))


SETTINGS = {step: canonical(config[step]) for step in STEPS}
ENV = "../../envs/segment.yaml"
# How every reading of a raw image is done (threshold, and colorize overlays).
READING = {"channel": config["channel"], "max_pixels": config["max_pixels"]}
COMPRESSION = config["tiff_compression"]
# Memory per job: a base plus this many times the raw image's size on disk
# (images are read into a few full-size working arrays), times the attempt.
MEM_BASE_MB = 300
MEM_PER_INPUT_MB = {
    "threshold": 6,
    "morphology": 6,
    "label": 10,
    "colorize": 12,
    "rescale": 8,
}


wildcard_constraints:
    image=r"[^/]+",


def source_image(wildcards):
    """Path of the raw image with this id."""
    return IMAGES[wildcards.image]


def raw_input(wildcards):
    """The raw image as a named input of colorize, when it draws an overlay."""
    return {"image": IMAGES[wildcards.image]} if config["colorize"]["overlay"] else {}


def final_outputs():
    """The targets of the workflow: every step TIFF per image, and the table."""
    tiffs = expand("results/{step}/{image}.tif", step=STEPS, image=IMAGES)
    return tiffs + ["results/counts.csv"]


def mem_mb(step):
    """Resource function: MB of memory for one job of `step`."""
    per_input_mb = MEM_PER_INPUT_MB[step]

    def estimate(wildcards, attempt):
        source_mb = os.path.getsize(IMAGES[wildcards.image]) / 1e6
        return int(MEM_BASE_MB + per_input_mb * source_mb) * attempt

    return estimate


def runtime_min(wildcards, attempt):
    """Resource function: minutes allowed for one per-image job."""
    source_mb = os.path.getsize(IMAGES[wildcards.image]) / 1e6
    return int(5 + source_mb / 20) * attempt
