# What the workflow is: its configuration, its images, the files it makes
# (targets) and the input functions of the rules. The code that does the
# work is in scripts/ (README, "What it does", maps every output to its code).
import os
import sys

from snakemake.logging import logger

# The project root, so that rules can import the Python package scripts/.
sys.path.insert(0, workflow.basedir)

from scripts.config.discovery import DiscoveryError, Image, discover_images
from scripts.config.load import ConfigError, load_config
from scripts.config.params import (
    evaluates,
    channel_column,
    label_reads_raw,
    measured_channels,
    reading,
    rule_params,
    truth_label_path,
)
from scripts.report import short_id
from scripts.runtime import quiet, runlock, runs, workers
from scripts.runtime.fused import fuses_this_run
from scripts.runtime.resources import JobResources
from scripts.steps import STEPS


def refuse(message):
    """Stop before any job, saying only `message` (what is wrong and what to
    do): a user's mistake gets no traceback."""
    logger.error(message)
    raise SystemExit(1)


# What this command is about to do (run jobs, report, dry run, ...): read
# from its command line by the main process only.
INVOCATION = runs.invocation(sys.argv[1:]) if workflow.is_main_process else None
SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")

if workflow.is_main_process:
    # -q: no line per scheduling round (scripts/runtime/quiet.py).
    quiet.quiet_rounds(logger, workflow.output_settings.quiet)
    # A run killed with kill -9 leaves Snakemake's lock behind: it is removed
    # (with half-written .part files) when no other run is alive, so a plain
    # rerun starts; a live run keeps its lock (scripts/runtime/runlock.py).
    _stale = runlock.claim(".snakemake", "results")
    if _stale:
        logger.warning(
            "Removed what a killed Snakemake run left behind (no other run is "
            "alive): " + ", ".join(str(path) for path in _stale)
        )
    # A second run beside a live one is refused, naming it (pid, start).
    LIVE_RUNS = [run for run in runlock.live_runs(".snakemake") if run["executes"]]
    if LIVE_RUNS and (INVOCATION.executes or INVOCATION.unlocks):
        refuse(runs.busy_message(LIVE_RUNS[0], INVOCATION.unlocks))
    runlock.register(
        ".snakemake", runs.run_info(INVOCATION.command, INVOCATION.executes)
    )


# --------------------------------------------------------------------------
# Configuration and images. A run: the user's config (presets, command-line
# values typed, schema, defaults) and the images it selects. A report: the
# last run of this folder, as results/config.yaml and results/run.yaml
# record it (scripts/runtime/runs.py).
# --------------------------------------------------------------------------
def _user_config():
    """The validated config of this command's config files and options."""
    return load_config(
        dict(config),
        SCHEMA,
        overrides=dict(workflow.config_settings.config),
        working_folder=os.getcwd(),
        project=workflow.basedir,
    )


try:
    if INVOCATION is not None and INVOCATION.reports:
        _typed = workflow.config_settings.config or workflow.config_settings.configfiles
        _recorded, _images = runs.reported_run(
            runs.read_records(),
            given_config=_user_config() if _typed else None,
            live=LIVE_RUNS,
            directory=INVOCATION.directory,
        )
        _loaded = load_config(_recorded, SCHEMA)
        IMAGES = {i: Image.from_record(record) for i, record in _images.items()}
    else:
        _loaded = _user_config()
        IMAGES = discover_images(_loaded)
except (ConfigError, DiscoveryError, runs.RunRefused) as error:
    refuse(str(error))
config.clear()
config.update(_loaded)
# fuse_steps: a command that names a step rule (--until threshold,
# --forcerun rescale, a cluster job's --allowed-rules) runs the step rules.
config["fuse_steps"], _unfused = fuses_this_run(
    config["fuse_steps"], runs.named_rules(sys.argv[1:]), STEPS
)
if _unfused and workflow.is_main_process:
    logger.info(_unfused)

# The params of every rule (scripts/config/params.py), how raw images are
# read, and the rules' resources.
PARAMS = rule_params(config)
READING = reading(config)
RESOURCES = JobResources(
    {i: image.path for i, image in IMAGES.items()}, config["max_pixels"]
)
# Optional outputs: the per-object tables, the intensities in other channels,
# the evaluation against truth, the per-well table.
MEASURE = config["measure"]["enabled"]
CHANNELS = bool(config["measure"]["channels"])
WELLS = any(image.well for image in IMAGES.values())
# The report's landing text (workflow/report/workflow.rst) sees only the
# config: it is told whether the run has wells (a screen's file names, a
# sample sheet's well column, an OME-Zarr plate).
if INVOCATION is not None and INVOCATION.reports:
    config["report"] = {**config["report"], "has_wells": WELLS}
LABEL_OBJECTS = {"objects": "results/objects/{image}.csv"} if MEASURE else {}
EVALUATE = evaluates(config)
# The channels measured in every object of each image, worked out (and a
# channel a field lacks refused) before any job.
try:
    CHANNEL_SPECS = {
        image_id: measured_channels(image, config, READING)
        for image_id, image in IMAGES.items()
    }
except ValueError as error:
    refuse(f"Invalid configuration:\n  {error}")
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
    input function giving those of the readable images and skipped.csv.

    Every step's TIFF, not only the last: Snakemake makes again only the
    missing files some job asks for, so a deleted intermediate comes back
    only as a target. The price: Snakemake 9 prepares rule all in
    O(inputs x images), 29 s of a 93 s rerun at 10,000 images
    (benchmarks/README.md)."""
    if SKIP_UNREADABLE:
        return [lambda wildcards: outputs_of(processed_images(), skip=True)]
    return outputs_of(IMAGES)


def outputs_of(images, skip=False):
    """final_outputs() for the image ids `images`."""
    tiffs = expand("results/{step}/{image}.tif", step=STEPS, image=images)
    if config["output_format"] == "ome-zarr":
        tiffs += expand("results/ome-zarr/{image}.zarr", image=images)
    skipped = ["results/skipped.csv"] if skip else []
    tables = ["results/counts.csv"]
    if MEASURE or CHANNELS:
        tables.append("results/objects.csv")
    if WELLS:
        tables.append("results/wells.csv")
    if EVALUATE:
        tables += ["results/evaluation.csv", "results/evaluation_summary.csv"]
    return tiffs + tables + skipped + report_outputs(images)


def report_outputs(images=IMAGES):
    """The QC figures of the first report.max_images of `images` (sorted),
    the counts plot and table, the evaluation's when there is ground truth,
    the parameters and software versions (all shown by `snakemake --report`)."""
    figures = expand(
        "results/report/{figure}/{image}.png",
        figure=["steps", "outlines", "histograms"],
        image=sorted(images)[: config["report"]["max_images"]],
    )
    evaluation = ["results/report/evaluation.png"] if EVALUATE else []
    wells = ["results/report/plate.png"] if WELLS else []
    return (
        figures
        + evaluation
        + wells
        + [
            "results/report/counts.png",
            "results/report/counts.html",
            "results/report/parameters.yaml",
            "results/report/software.tsv",
        ]
    )


def report_label(wildcards):
    """The image's name in the report's lists: ids longer than 24 characters
    shortened in the middle, so that the figures keep their room (the full
    id is on the figure itself)."""
    return {"image": short_id(wildcards.image)}


def processed_images():
    """Ids of the images the steps run on: all, or with on_unreadable: skip
    those not in results/skipped.csv (at DAG time, once check_images ran)."""
    if not SKIP_UNREADABLE:
        return list(IMAGES)
    from scripts.tables import check_images

    skipped = check_images.read_skipped(checkpoints.check_images.get().output.skipped)
    return [image for image in IMAGES if image not in skipped]


def processed_ids(wildcards):
    """processed_images() as a params function (it may wait for the
    check_images checkpoint)."""
    return processed_images()


def image_places():
    """Plate and well of every image (rule wells)."""
    return {
        i: {"plate": image.plate, "well": image.well} for i, image in IMAGES.items()
    }


def positive_thresholds():
    """screen.positive by column name of the channel (rule wells)."""
    return {
        channel_column(name): value
        for name, value in config["screen"]["positive"].items()
    }


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
    """Path of the raw image with this id (the file with the channel to
    segment)."""
    return IMAGES[wildcards.image].path


def image_reading(wildcards):
    """How the raw image with this id is read: the config's channel, volume
    and max_pixels, with the image's scene (scripts/config/discovery.py)."""
    return IMAGES[wildcards.image].reading(READING)


def image_readings():
    """image_reading() of every image, by id (rule check_images)."""
    return {image_id: image.reading(READING) for image_id, image in IMAGES.items()}


def channel_specs(wildcards):
    """The channels measured in every object of this image (rule
    intensities; scripts/config/params.py: measured_channels)."""
    return CHANNEL_SPECS[wildcards.image]


def channel_files(wildcards):
    """The files of the channels an image's intensities job measures."""
    return sorted({channel["path"] for channel in channel_specs(wildcards)})


def colorize_raw_input(wildcards):
    """The raw image as an input of colorize when it draws an overlay."""
    return [source_image(wildcards)] if config["colorize"]["overlay"] else []


def label_raw_input(wildcards):
    """The raw image as an input of label when it reads it (measurements,
    declumping weighted by intensity)."""
    return [source_image(wildcards)] if label_reads_raw(config) else []


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


def run_jobs(jobs, cache=None):
    """Run per-image jobs, (function, input, output, params, log) each, in
    order: in a worker process when this is a local run's main Snakemake
    process (config job_processes), in place in a cluster job or a job
    Snakemake started as its own process (scripts/runtime/workers.py).
    `cache`: (cache folder, image id) for an image's steps run incrementally
    (scripts/runtime/stepcache.py)."""
    processes = 0
    if workflow.is_main_process:
        processes = workers.worker_count(
            config["job_processes"], workflow.cores, config["fuse_steps"]
        )
    pool = workers.shared_pool(processes, workflow.basedir)
    workers.run_jobs(jobs, pool=pool, cache=cache)


# --------------------------------------------------------------------------
# The record of every run that executes jobs: what `snakemake --report`
# reports (results/config.yaml, results/run.yaml; scripts/runtime/runs.py).
# --------------------------------------------------------------------------
RECORDED_IMAGES = {image_id: image.record() for image_id, image in IMAGES.items()}


onstart:
    runs.write_records(config, RECORDED_IMAGES, "running")
    _others = runs.other_images(IMAGES)
    if _others:
        logger.warning(
            f"results/ also holds the outputs of {len(_others)} images that are not "
            f"part of this run (e.g. {_others[0]}), left by a run on other images: "
            "they stay out of this run's tables and report. Keep data sets apart "
            "with --directory (README, 'Your own images')."
        )


onsuccess:
    runs.write_records(
        config, RECORDED_IMAGES, "partial" if INVOCATION.partial else "finished"
    )


onerror:
    runs.write_records(config, RECORDED_IMAGES, "failed")
