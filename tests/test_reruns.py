"""Which jobs rerun after an input or a parameter changes (the users' third requirement).

Two modes. By default one job per image runs the five steps and recomputes
only from the first changed step (scripts/runtime/stepcache.py): a file kept
from the step cache is the same file (same inode), a recomputed one a new
file. With ``fuse_steps: false`` every step is its own job: each case is
proven by asking Snakemake what it would run (dry run), and by a real run
whose file modification times show what was rewritten.
"""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from tests.workflow_copy import copy_project

pytestmark = pytest.mark.slow

PER_IMAGE = ("threshold", "morphology", "label", "colorize", "rescale")
IMAGE_IDS = ("four_cells", "nuclei_16bit", "nuclei_8bit", "nuclei_png")
# The report (workflow/rules/report.smk): QC figures per image (all four
# example images, report.max_images is 24), the counts plot and table, and
# the parameters and software records.
FIGURES = ("steps", "outlines", "histograms")
COUNTS_REPORT = {"report/counts.png", "report/counts.html"}
# The tables made from the label step's side files.
TABLES = {"counts.csv", "objects.csv"}
RUN_RECORDS = {
    "report/parameters.yaml",
    "report/parameters.html",
    "report/software.tsv",
    "report/software.html",
}


@pytest.fixture
def finished(tmp_path):
    """The example run with a job per step (fuse_steps: false in its config)."""
    project = copy_project(tmp_path / "project")
    edit_config(project, fuse_steps=False)
    project.snakemake("--cores", "2")
    return project


#: Config changes, the steps they rerun, and whether the tables rerun (with
#: a job per step).
CHANGES = [
    ({"threshold": {"method": "li"}}, PER_IMAGE, True),
    ({"morphology": {"footprint_connectivity": 2}}, PER_IMAGE[1:], True),
    ({"label": {"connectivity": 1}}, PER_IMAGE[2:], True),
    ({"colorize": {"colors": ["red", "blue"]}}, PER_IMAGE[3:], False),
    ({"rescale": {"percentiles": [0.5, 99.5]}}, PER_IMAGE[4:], False),
    ({"preprocess": {"smooth_sigma": 0.05}}, PER_IMAGE, True),
    ({"cleanup": {"exclude_border": True}}, PER_IMAGE[1:], True),
    # declumping needs the expected diameter, found by the threshold step
    ({"label": {"declump": {"enabled": True, "intensity_weight": 0}}}, PER_IMAGE, True),
]
CHANGE_IDS = ["threshold", "morphology", "label", "colorize", "rescale", "preprocess", "cleanup", "declump"]


def outputs_of(image_id, steps=PER_IMAGE):
    files = {f"{step}/{image_id}.tif" for step in steps}
    if "threshold" in steps:
        files.add(f"threshold/{image_id}.json")
    if "label" in steps:
        files |= {f"label/{image_id}.json", f"objects/{image_id}.csv"}
    return files | {f"report/{figure}/{image_id}.png" for figure in FIGURES}


#: The records of the run (results/config.yaml, results/run.yaml) are
#: written by every run that executes jobs, whatever it reruns: not outputs
#: of a job.
RECORDS_OF_EVERY_RUN = {"config.yaml", "run.yaml"}


def rewritten(before, after):
    """Outputs under results/ written again: a new modification time (from
    ``mtimes()``) or a new file (a new inode, from ``inodes()``). The
    records every run writes, results/config.yaml and run.yaml, are left out."""
    return {path for path in after if before.get(path) != after[path]} - RECORDS_OF_EVERY_RUN


def without_records(files):
    """`files` (by path under results/) without the records every run writes."""
    return {path: value for path, value in files.items() if path not in RECORDS_OF_EVERY_RUN}


def edit_config(project, **changes):
    path = project.root / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            config.setdefault(key, {}).update(value)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config))


def test_touching_one_input_reruns_only_that_image_and_the_table(finished):
    source = finished.root / "example" / "images" / "nuclei_8bit.tif"
    os.utime(source)  # now: newer than every output
    expected = {rule: 1 for rule in PER_IMAGE} | {"counts": 1, "objects": 1, "all": 1}
    expected |= {"report_image": 1, "report_counts": 1}
    assert finished.planned_jobs() == expected
    before = finished.mtimes()
    finished.snakemake("--cores", "2")
    assert rewritten(before, finished.mtimes()) == outputs_of("nuclei_8bit") | TABLES | COUNTS_REPORT


def test_replacing_one_input_reruns_only_that_image(finished):
    images = finished.root / "example" / "images"
    replacement = images / "four_cells.tif"
    shutil.copy2(images / "nuclei_8bit.tif", replacement)
    os.utime(replacement)
    expected = {rule: 1 for rule in PER_IMAGE} | {"counts": 1, "objects": 1, "all": 1}
    expected |= {"report_image": 1, "report_counts": 1}
    assert finished.planned_jobs() == expected
    before = finished.mtimes()
    finished.snakemake("--cores", "2")
    assert rewritten(before, finished.mtimes()) == outputs_of("four_cells") | TABLES | COUNTS_REPORT
    counts = (finished.root / "results" / "counts.csv").read_text()
    assert "four_cells,example/images/four_cells.tif,9," in counts


def test_adding_an_image_runs_only_its_jobs_and_the_table(finished):
    images = finished.root / "example" / "images"
    shutil.copy2(images / "nuclei_8bit.tif", images / "new image.tif")
    expected = {rule: 1 for rule in PER_IMAGE} | {"counts": 1, "objects": 1, "all": 1}
    expected |= {"report_image": 1, "report_counts": 1}
    assert finished.planned_jobs() == expected
    before = finished.mtimes()
    finished.snakemake("--cores", "2")
    changed = rewritten(before, finished.mtimes())
    assert changed == outputs_of("new image") | TABLES | COUNTS_REPORT
    assert "new image,example/images/new image.tif,9," in (
        finished.root / "results" / "counts.csv"
    ).read_text()


@pytest.mark.parametrize(("change", "rerun_steps", "counts_reruns"), CHANGES, ids=CHANGE_IDS)
def test_a_parameter_change_reruns_that_step_and_later_ones(
    finished, change, rerun_steps, counts_reruns
):
    edit_config(finished, **change)
    expected = {rule: len(IMAGE_IDS) for rule in rerun_steps} | {"all": 1}
    # Every figure strip shows every step; the parameters record every key.
    expected |= {"report_image": len(IMAGE_IDS), "report_parameters": 1}
    if counts_reruns:
        expected |= {"counts": 1, "objects": 1, "report_counts": 1}
    assert finished.planned_jobs() == expected
    before = finished.mtimes()
    finished.snakemake("--cores", "2")
    changed = rewritten(before, finished.mtimes())
    expected_files = set().union(*(outputs_of(i, rerun_steps) for i in IMAGE_IDS))
    expected_files |= RUN_RECORDS
    if counts_reruns:
        expected_files |= TABLES | COUNTS_REPORT
    # The label side file is rewritten by the label job; threshold's only by threshold.
    assert changed == expected_files
    assert finished.planned_jobs() == {}


# The default: one job (rule fused_steps) per image for the five steps,
# recomputing only from the first changed step.


@pytest.fixture
def finished_fused(tmp_path):
    project = copy_project(tmp_path / "project")
    project.snakemake("--cores", "2")
    return project


def test_fused_steps_touching_one_input_reruns_only_that_image(finished_fused):
    os.utime(finished_fused.root / "example" / "images" / "nuclei_8bit.tif")
    expected = {"fused_steps": 1, "counts": 1, "objects": 1, "all": 1}
    expected |= {"report_image": 1, "report_counts": 1}
    assert finished_fused.planned_jobs() == expected
    before = finished_fused.inodes()
    finished_fused.snakemake("--cores", "2")
    assert rewritten(before, finished_fused.inodes()) == outputs_of("nuclei_8bit") | TABLES | COUNTS_REPORT


@pytest.mark.parametrize(("change", "rerun_steps", "counts_reruns"), CHANGES, ids=CHANGE_IDS)
def test_fused_steps_a_change_recomputes_that_step_and_later_ones(
    finished_fused, change, rerun_steps, counts_reruns
):
    """Every image's job reruns (and the tables after it), but only the
    changed step and the later ones are computed: the earlier steps' files
    are the same files as before."""
    edit_config(finished_fused, **change)
    expected = {"fused_steps": len(IMAGE_IDS), "all": 1}
    expected |= {"report_image": len(IMAGE_IDS), "report_parameters": 1}
    expected |= {"counts": 1, "objects": 1, "report_counts": 1}
    assert finished_fused.planned_jobs() == expected
    before = finished_fused.inodes()
    finished_fused.snakemake("--cores", "2")
    changed = rewritten(before, finished_fused.inodes())
    steps = set().union(*(outputs_of(i, rerun_steps) for i in IMAGE_IDS))
    assert {p for p in changed if p.split("/")[0] in PER_IMAGE + ("objects",)} == {
        p for p in steps if not p.startswith("report/")
    }
    assert finished_fused.planned_jobs() == {}


def test_fused_steps_a_lost_cache_only_costs_time(finished_fused):
    """Without the step cache (deleted, another file system) a changed
    setting recomputes every step, to the same files."""
    import shutil as _shutil

    _shutil.rmtree(finished_fused.root / ".snakemake" / "step-cache")
    reference = finished_fused.hashes()
    edit_config(finished_fused, rescale={"percentiles": [0.5, 99.5]})
    before = finished_fused.inodes()
    finished_fused.snakemake("--cores", "2")
    changed = rewritten(before, finished_fused.inodes())
    assert {f"threshold/{i}.tif" for i in IMAGE_IDS} <= changed
    after = finished_fused.hashes()
    assert {k: v for k, v in after.items() if k.split("/")[0] in PER_IMAGE[:4]} == {
        k: v for k, v in reference.items() if k.split("/")[0] in PER_IMAGE[:4]
    }


@pytest.mark.parametrize("fuse_steps", [True, False], ids=["fused", "job per step"])
def test_a_deleted_intermediate_tiff_comes_back(tmp_path, fuse_steps):
    """Every step's TIFF is a target: deleting one (of a step no later job
    reads back as a whole, like morphology's or colorize's in a fused run)
    makes its image's job run again and brings the same bytes back."""
    project = copy_project(tmp_path / "project")
    edit_config(project, fuse_steps=fuse_steps)
    project.snakemake("--cores", "2")
    reference = project.hashes()
    deleted = ["threshold/nuclei_8bit.tif", "morphology/four_cells.tif", "colorize/nuclei_16bit.tif"]
    for path in deleted:
        (project.root / "results" / path).unlink()
    planned = project.planned_jobs()
    if fuse_steps:
        assert planned["fused_steps"] == 3
    else:
        # each deleted file's step and the later steps of its image
        assert {rule: planned.get(rule, 0) for rule in PER_IMAGE} == {
            "threshold": 1, "morphology": 2, "label": 2, "colorize": 3, "rescale": 3
        }
    project.snakemake("--cores", "2")
    assert without_records(project.hashes()) == without_records(reference)
    assert project.planned_jobs() == {}


def test_switching_job_processes_reruns_nothing(finished):
    assert finished.planned_jobs("--config", "job_processes=0") == {}
    assert finished.planned_jobs("--config", "job_processes=3") == {}


def test_fused_steps_naming_a_step_rule_runs_the_step_rules(finished_fused):
    """With fusing on, Snakemake would never pick a step rule: a command
    that names one (--until, --forcerun, ...) runs the step rules instead,
    and says so, rather than doing nothing. Files the fused jobs wrote are
    another rule's for Snakemake, so each step is computed again, to the
    same bytes."""
    reference = finished_fused.hashes()
    planned = finished_fused.planned_jobs("--forcerun", "rescale")
    assert "fused_steps" not in planned
    assert all(planned[step] == len(IMAGE_IDS) for step in PER_IMAGE)
    result = finished_fused.snakemake("--cores", "2", "--forcerun", "rescale")
    assert "names the step rule rescale: it runs each step as its own job" in result.stdout
    assert strip_records(finished_fused.hashes()) == strip_records(reference)
    shutil.rmtree(finished_fused.root / "results")
    finished_fused.snakemake("--cores", "2", "--until", "threshold")
    made = {p.parent.name for p in (finished_fused.root / "results").rglob("*.tif")}
    assert made == {"threshold"}


def strip_records(hashes):
    """`hashes` without the run records (results/config.yaml records
    fuse_steps, results/run.yaml the status)."""
    return {path: digest for path, digest in hashes.items() if path not in RECORDS_OF_EVERY_RUN}
