# Microscopy segmentation: threshold -> morphology -> label -> colorize ->
# rescale, one TIFF per step and image, and a counts table. See README.md.
from snakemake.utils import min_version

from scripts.runtime.collector import tune_for_large_dags

# Before the DAG is built: Python's collector would spend a fifth of a large
# run's planning walking Snakemake's jobs (scripts/runtime/collector.py).
tune_for_large_dags()

min_version("9.0")


# The project's config is the default from any working directory (--directory).
configfile: f"{workflow.basedir}/config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/check_images.smk"
include: "workflow/rules/threshold.smk"
include: "workflow/rules/morphology.smk"
include: "workflow/rules/label.smk"
include: "workflow/rules/colorize.smk"
include: "workflow/rules/rescale.smk"
include: "workflow/rules/ome_zarr.smk"


# One job per image for the five steps (config fuse_steps; docs/performance.md).
if config["fuse_steps"]:

    include: "workflow/rules/fused_steps.smk"


include: "workflow/rules/intensities.smk"
include: "workflow/rules/counts.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


localrules:
    all,
    counts,
    objects,
    wells,
    report_counts,
    report_parameters,
    report_evaluation,
    report_wells,


rule all:
    default_target: True
    input:
        final_outputs(),
