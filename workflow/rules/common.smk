import functools
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

# The project root, so that rules can import the step modules in scripts/.
sys.path.insert(0, workflow.basedir)

# The step modules (and what they import: scikit-image, matplotlib) are
# imported by the first job that needs them (step_module), not for every
# dry run; per-image jobs of a local run import them in worker processes.
from scripts.discovery import DiscoveryError, discover_images
from scripts.imaging import decoded_megabytes
from scripts.presets import (
    apply_preset,
    cleanup_active,
    declump_intensity,
    needs_diameter,
    preprocess_active,
)
from scripts.runlock import claim
import scripts.workers
from scripts.workers import step_module
from scripts.settings import (
    STEPS,
    canonical,
    schema_errors,
    settings_errors,
    step_settings,
)

# A run killed with kill -9 leaves Snakemake's lock behind: the main process
# removes it (and half-written .part files) when no other run is alive, so a
# plain rerun starts; a live run keeps its lock (scripts/runlock.py).
if workflow.is_main_process:
    _stale = claim(".snakemake", "results")
    if _stale:
        logger.warning(
            "Removed what a killed Snakemake run left behind (no other run is "
            "alive): " + ", ".join(str(path) for path in _stale)
        )

CONFIG_SCHEMA = "../schemas/config.schema.yaml"
# The preset's values go under the keys the user set, before validation fills
# the schema's defaults under both (scripts/presets.py).
try:
    _preset_config = apply_preset(config)
except ValueError as error:
    raise WorkflowError(f"Invalid configuration:\n  {error}") from None
config.clear()
config.update(_preset_config)
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


SETTINGS = step_settings(config)
# What the threshold, morphology and label steps add to the tutorial's
# (params; None when off, so that the keys of an unused option rerun nothing).
PREPROCESS = (
    canonical(config["preprocess"]) if preprocess_active(config["preprocess"]) else None
)
CLEANUP = (
    canonical({**config["cleanup"], "connectivity": config["label"]["connectivity"]})
    if cleanup_active(config["cleanup"])
    else None
)
DIAMETER = (
    {"value": config["diameter"], "unit": config["diameter_unit"]}
    if needs_diameter(config)
    else None
)
MEASURE = config["measure"]["enabled"]
# The label step reads the raw image for measurements and for declumping
# weighted by intensity (label_raw_input).
LABEL_READS_RAW = MEASURE or declump_intensity(config["label"])
# The label step's per-object table, an output only with measurements on.
LABEL_OBJECTS = {"objects": "results/objects/{image}.csv"} if MEASURE else {}
# Ground truth configured: rule evaluate (evaluate.smk) runs.
EVALUATION = config["evaluation"]
EVALUATE = bool(EVALUATION["counts"] or EVALUATION["labels"])
ENV = "../../envs/segment.yaml"
# How every reading of a raw image is done (threshold, and colorize overlays).
READING = {
    "channel": config["channel"],
    "volume": config["volume"],
    "max_pixels": config["max_pixels"],
}
COMPRESSION = config["tiff_compression"]
# Config keys that change how jobs run, not what they write: not recorded in
# results/report/parameters.yaml, so changing them reruns nothing.
EXECUTION_KEYS = ("job_processes", "fuse_steps")
# Memory per job: a base plus this many times the raw image's decoded size
# (images are read into a few full-size working arrays), times the attempt.
# The decoded size comes from the header (a compressed file decodes to more
# than its size on disk), counting at least 2 bytes per pixel: masks, labels
# and RGB images take as much for 8-bit as for 16-bit input. Measured peaks:
# README, "Large images" (tests/test_large_image.py). The base covers the
# Python process itself: on SLURM, two Snakemake processes (~200 MB each) run
# inside every job.
MEM_BASE_MB = 1000
MEM_PER_INPUT_MB = {
    "threshold": 6,
    "morphology": 6,
    "label": 10,
    "colorize": 12,
    "rescale": 8,
    "report_image": 16,
}
# on_unreadable: skip: the check_images checkpoint decides which images the
# steps run on (check_images.smk); fail (the default): all of them.
SKIP_UNREADABLE = config["on_unreadable"] == "skip"


wildcard_constraints:
    image=r"[^/]+",


def run_step(step, input, output, params, log):
    """Run one job of a per-image step rule (see run_chain)."""
    run_chain([(step, input, output, params, log)])


def run_chain(jobs):
    """Run per-image step jobs, (step, input, output, params, log) each, in
    order: in a worker process when this is a local run's main Snakemake
    process (config job_processes), in place in a cluster job or a job
    Snakemake started as its own process (scripts/workers.py)."""
    processes = 0
    if workflow.is_main_process:
        processes = scripts.workers.worker_count(
            config["job_processes"], workflow.cores, config["fuse_steps"]
        )
    pool = scripts.workers.shared_pool(processes, workflow.basedir)
    scripts.workers.run_jobs(jobs, pool=pool)


def source_image(wildcards):
    """Path of the raw image with this id."""
    return IMAGES[wildcards.image]


def colorize_raw_input(wildcards):
    """The raw image as an input of colorize when it draws an overlay;
    nothing otherwise."""
    return [IMAGES[wildcards.image]] if config["colorize"]["overlay"] else []


def label_raw_input(wildcards):
    """The raw image as an input of label when it reads it (measurements,
    declumping weighted by intensity); nothing otherwise."""
    return [IMAGES[wildcards.image]] if LABEL_READS_RAW else []


def truth_label_path(image):
    """The true label image of `image` (evaluation.labels), or None."""
    pattern = EVALUATION["labels"]
    return pattern.replace("{image}", image) if pattern else None


def images_with_truth_labels():
    """Ids of the processed images whose true label image exists."""
    if not EVALUATION["labels"]:
        return []
    return [i for i in processed_images() if os.path.isfile(truth_label_path(i))]


def evaluated_labels(wildcards):
    """Input of evaluate: the label images that have a true label image."""
    return expand("results/label/{image}.tif", image=images_with_truth_labels())


def truth_label_files(wildcards):
    """Input of evaluate: the true label images that exist."""
    return [truth_label_path(image) for image in images_with_truth_labels()]


def truth_counts_file(wildcards):
    """Input of evaluate: the CSV of true counts, if configured."""
    return [EVALUATION["counts"]] if EVALUATION["counts"] else []


def evaluate_mem_mb(wildcards, attempt):
    """Resource function of evaluate: label images are read one at a time."""
    largest_mb = max((decoded_mb(path) for path in IMAGES.values()), default=0)
    return int(MEM_BASE_MB + 12 * largest_mb) * attempt


def final_outputs():
    """The targets of the workflow: every step TIFF per image, the table,
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


def processed_images():
    """Ids of the images the steps run on: all, or with on_unreadable: skip
    those not in results/skipped.csv (at DAG time, once check_images ran)."""
    if not SKIP_UNREADABLE:
        return list(IMAGES)
    table = checkpoints.check_images.get().output.skipped
    skipped = step_module("check_images").read_skipped(table)
    return [image for image in IMAGES if image not in skipped]


def per_image(pattern):
    """`pattern` expanded over processed_images(): a list, or with
    on_unreadable: skip an input function (it waits for the checkpoint)."""
    if not SKIP_UNREADABLE:
        return expand(pattern, image=IMAGES)
    return lambda wildcards: expand(pattern, image=processed_images())


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


def mem_mb(step):
    """Resource function: MB of memory for one job of `step`."""
    per_input_mb = MEM_PER_INPUT_MB[step]

    def estimate(wildcards, attempt):
        source_mb = decoded_mb(IMAGES[wildcards.image])
        return int(MEM_BASE_MB + per_input_mb * source_mb) * attempt

    return estimate


@functools.cache
def decoded_mb(path):
    """MB of the pixels of the image `path` once decoded (header only)."""
    return decoded_megabytes(path, config["max_pixels"], min_itemsize=2)


def runtime_min(wildcards, attempt):
    """Resource function: minutes allowed for one per-image job."""
    return int(5 + file_mb(IMAGES[wildcards.image]) / 20) * attempt


@functools.cache
def file_mb(path):
    """MB of the file `path` on disk."""
    return os.path.getsize(path) / 1e6


def check_images_mem_mb(wildcards, attempt, threads):
    """Resource function of check_images: `threads` of the largest image
    read at once, each as the threshold step reads it."""
    largest_mb = max(decoded_mb(path) for path in IMAGES.values())
    per_image_mb = MEM_PER_INPUT_MB["threshold"] * largest_mb
    return int(MEM_BASE_MB + threads * per_image_mb) * attempt


def check_images_runtime_min(wildcards, attempt, threads):
    """Resource function of check_images: minutes to read every image."""
    total_mb = sum(os.path.getsize(path) for path in IMAGES.values()) / 1e6
    return int(5 + total_mb / 20 / threads) * attempt


# ---------------------------------------------------------------------------
# fuse_steps: rule segment (segment.smk) runs the five step rules' jobs of an
# image as one job, with the arguments their own rules declare.
# ---------------------------------------------------------------------------


@functools.cache
def fused_outputs():
    """Every output of the five step rules, named <step>_<name>."""
    return {
        f"{step}_{name}": pattern
        for step in STEPS
        for name, pattern in getattr(rules, step).output.items()
    }


def fused_inputs(wildcards):
    """What the five steps read that none of them writes (the raw image)."""
    written = set(expand(list(fused_outputs().values()), **dict(wildcards.items())))
    return sorted(
        {
            path
            for _, inputs, _, _, _ in chain_jobs(wildcards)
            for path in inputs
            if path not in written
        }
    )


def chain_jobs(wildcards):
    """(step, input, output, params, log) of each step for these wildcards,
    as the step's own rule gives them to its run block."""
    return chain_jobs_of(tuple(wildcards.items()))


@functools.cache
def chain_jobs_of(wildcard_items):
    """chain_jobs() by the wildcards' (name, value) pairs: worked out once
    per image, though Snakemake asks for inputs, params and the run."""
    wildcards = scripts.workers.Arguments([], dict(wildcard_items))
    return [
        (step, *(resolve(named, wildcards) for named in step_declarations(step)))
        for step in STEPS
    ]


def fused_params(wildcards):
    """The params of the five steps' rules, by step: what reruns an image's
    job when a step's settings change."""
    return {
        step: dict(params.items()) for step, _, _, params, _ in chain_jobs(wildcards)
    }


def step_declarations(step):
    rule_proxy = getattr(rules, step)
    return rule_proxy.input, rule_proxy.output, rule_proxy.params, rule_proxy.log


def resolve(named, wildcards):
    """A rule's named list for `wildcards`: functions called, patterns filled."""
    items = []
    for value in named:
        resolved = resolve_value(value, wildcards)
        items.extend(resolved if isinstance(resolved, list) else [resolved])
    names = {name: resolve_value(value, wildcards) for name, value in named.items()}
    return scripts.workers.Arguments(items, names)


def resolve_value(value, wildcards):
    """One item as Snakemake gives it to a job: a function's value for
    `wildcards` as it is (a file name may contain braces), a pattern with
    the wildcards filled in."""
    if callable(value):
        return value(wildcards)
    if isinstance(value, str):
        return value.format(**dict(wildcards.items()))
    if isinstance(value, list):
        return [resolve_value(item, wildcards) for item in value]
    return value
