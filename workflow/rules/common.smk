# What the workflow is: its configuration, its images, the files it makes
# (targets) and the input functions of the rules. The code that does the
# work is in scripts/ (README, "Design", maps every output to its code).
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

# The project root, so that rules can import the Python package scripts/.
sys.path.insert(0, workflow.basedir)

from scripts.config.discovery import DiscoveryError, discover_images
from scripts.config.load import ConfigError, load_config
from scripts.config.params import (
    evaluates,
    label_reads_raw,
    rule_params,
    truth_label_path,
)
from scripts.runtime import runlock, workers
from scripts.runtime.resources import JobResources
from scripts.steps import STEPS

# A run killed with kill -9 leaves Snakemake's lock behind: the main process
# removes it (and half-written .part files) when no other run is alive, so a
# plain rerun starts; a live run keeps its lock (scripts/runtime/runlock.py).
if workflow.is_main_process:
    _stale = runlock.claim(".snakemake", "results")
    if _stale:
        logger.warning(
            "Removed what a killed Snakemake run left behind (no other run is "
            "alive): " + ", ".join(str(path) for path in _stale)
        )

# --------------------------------------------------------------------------
# Configuration: presets, command-line values typed, schema, defaults.
# --------------------------------------------------------------------------
try:
    _loaded = load_config(
        config,
        os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml"),
        overrides=dict(workflow.config_settings.config),
    )
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_loaded)

# --------------------------------------------------------------------------
# Images: id -> path, sorted by id.
# --------------------------------------------------------------------------
try:
    IMAGES = discover_images(config)
except DiscoveryError as error:
    raise WorkflowError(str(error)) from None

# The params of every rule (scripts/config/params.py) and their resources.
PARAMS = rule_params(config)
RESOURCES = JobResources(IMAGES, config["max_pixels"])
# Optional outputs: the per-object tables, the evaluation against truth.
MEASURE = config["measure"]["enabled"]
LABEL_OBJECTS = {"objects": "results/objects/{image}.csv"} if MEASURE else {}
EVALUATE = evaluates(config)
# on_unreadable: skip: the check_images checkpoint decides which images the
# steps run on (check_images.smk); fail (the default): all of them.
SKIP_UNREADABLE = config["on_unreadable"] == "skip"


wildcard_constraints:
    image=r"[^/]+",


# --------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------
def final_outputs():
    """The targets of the workflow: every step TIFF per image, the tables,
    and what the report shows (report.smk). With on_unreadable: skip, an
    input function giving those of the readable images and skipped.csv."""
    if SKIP_UNREADABLE:
        return [lambda wildcards: outputs_of(processed_images(), skip=True)]
    return outputs_of(IMAGES)


def outputs_of(images, skip=False):
    """final_outputs() for the image ids `images`."""
    tiffs = expand("results/{step}/{image}.tif", step=STEPS, image=images)
    skipped = ["results/skipped.csv"] if skip else []
    tables = ["results/counts.csv"]
    if MEASURE:
        tables.append("results/objects.csv")
    if EVALUATE:
        tables += ["results/evaluation.csv", "results/evaluation_summary.csv"]
    return tiffs + tables + skipped + report_outputs(images)


def report_outputs(images=IMAGES):
    """The QC figures of the first report.max_images of `images` (sorted),
    the counts plot and table, the parameters and software versions (all
    shown by `snakemake --report`)."""
    figures = expand(
        "results/report/{figure}/{image}.png",
        figure=["steps", "outlines", "histograms"],
        image=sorted(images)[: config["report"]["max_images"]],
    )
    return figures + [
        "results/report/counts.png",
        "results/report/counts.html",
        "results/report/parameters.yaml",
        "results/report/software.tsv",
    ]


def processed_images():
    """Ids of the images the steps run on: all, or with on_unreadable: skip
    those not in results/skipped.csv (at DAG time, once check_images ran)."""
    if not SKIP_UNREADABLE:
        return list(IMAGES)
    from scripts.tables import check_images

    skipped = check_images.read_skipped(checkpoints.check_images.get().output.skipped)
    return [image for image in IMAGES if image not in skipped]


def per_image(pattern):
    """`pattern` expanded over processed_images(): a list, or with
    on_unreadable: skip an input function (it waits for the checkpoint)."""
    if not SKIP_UNREADABLE:
        return expand(pattern, image=IMAGES)
    return lambda wildcards: expand(pattern, image=processed_images())


# --------------------------------------------------------------------------
# Input functions
# --------------------------------------------------------------------------
def source_image(wildcards):
    """Path of the raw image with this id."""
    return IMAGES[wildcards.image]


def colorize_raw_input(wildcards):
    """The raw image as an input of colorize when it draws an overlay."""
    return [IMAGES[wildcards.image]] if config["colorize"]["overlay"] else []


def label_raw_input(wildcards):
    """The raw image as an input of label when it reads it (measurements,
    declumping weighted by intensity)."""
    return [IMAGES[wildcards.image]] if label_reads_raw(config) else []


def images_with_truth_labels():
    """Ids of the processed images whose true label image exists."""
    evaluation = config["evaluation"]
    if not evaluation["labels"]:
        return []
    return [
        image
        for image in processed_images()
        if os.path.isfile(truth_label_path(evaluation, image))
    ]


def evaluated_labels(wildcards):
    """Input of evaluate: the label images that have a true label image."""
    return expand("results/label/{image}.tif", image=images_with_truth_labels())


def truth_label_files(wildcards):
    """Input of evaluate: the true label images that exist."""
    return [
        truth_label_path(config["evaluation"], image)
        for image in images_with_truth_labels()
    ]


def truth_counts_file(wildcards):
    """Input of evaluate: the CSV of true counts, if configured."""
    return [config["evaluation"]["counts"]] if config["evaluation"]["counts"] else []


# --------------------------------------------------------------------------
# Running a job of a per-image rule
# --------------------------------------------------------------------------
def run_job(function, input, output, params, log):
    """Run one job of a per-image rule: `function` (a step's entry point)
    with the rule's arguments (see run_jobs)."""
    run_jobs([(function, input, output, params, log)])


def run_jobs(jobs):
    """Run per-image jobs, (function, input, output, params, log) each, in
    order: in a worker process when this is a local run's main Snakemake
    process (config job_processes), in place in a cluster job or a job
    Snakemake started as its own process (scripts/runtime/workers.py)."""
    processes = 0
    if workflow.is_main_process:
        processes = workers.worker_count(
            config["job_processes"], workflow.cores, config["fuse_steps"]
        )
    workers.run_jobs(jobs, pool=workers.shared_pool(processes, workflow.basedir))
