"""The workflow on a folder of good and bad images (tests/bad_inputs.py).

Every bad image fails alone, with one message naming the file and the
problem in its log and in Snakemake's output, and leaves no file under
results/; with --keep-going every other image finishes. Constant, all-zero
and 1x1 images are no error: zero objects, said in counts.csv. With
``on_unreadable: skip`` the run succeeds and lists the bad images in
results/skipped.csv. Problems of the image list itself (same id twice, no
images, a sample sheet naming a missing file) stop the run before any job.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests import bad_inputs
from tests.workflow_copy import copy_project

pytestmark = pytest.mark.slow

STEPS = ("threshold", "morphology", "label", "colorize", "rescale")
GOOD = ("good_1", "good_2", *bad_inputs.AWKWARD_NAMES, *bad_inputs.EMPTY)


def run_battery(project, *config):
    bad_inputs.write_battery(project.root / "images")
    return project.snakemake(
        "--cores", "2", "--keep-going", "--config", "input=images", *config, check=False
    )


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """The battery with the default on_unreadable: fail."""
    project = copy_project(tmp_path_factory.mktemp("bad_fail"), with_example=False)
    return project, run_battery(project)


@pytest.fixture(scope="module")
def skipping(tmp_path_factory):
    """The battery with on_unreadable: skip."""
    project = copy_project(tmp_path_factory.mktemp("bad_skip"), with_example=False)
    return project, run_battery(project, "on_unreadable=skip")


def files_of(project, image_id):
    """Every file under results/ that belongs to `image_id`."""
    return sorted(
        str(path.relative_to(project.root))
        for path in (project.root / "results").rglob("*")
        if path.is_file() and path.name.rsplit(".", 1)[0] == image_id
    )


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------
# on_unreadable: fail (the default)
# ---------------------------------------------------------------------------


def test_the_run_fails(failing):
    _, result = failing
    assert result.returncode != 0
    assert "Exiting because a job execution failed" in result.stdout


@pytest.mark.parametrize("image_id", sorted(bad_inputs.UNREADABLE))
def test_a_bad_image_is_named_with_its_problem_in_its_log_and_snakemakes_output(
    failing, image_id
):
    project, result = failing
    name, problem = bad_inputs.UNREADABLE[image_id]
    source = f"images/{name}"
    log = (project.root / "logs" / "threshold" / f"{image_id}.log").read_text()
    errors = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1
    assert source in errors[0] and problem in errors[0], log
    printed = [line for line in result.stdout.splitlines() if source in line and problem in line]
    assert printed, result.stdout[-4000:]


@pytest.mark.parametrize("image_id", sorted(bad_inputs.UNREADABLE))
def test_a_bad_image_leaves_no_file_under_results(failing, image_id):
    project, _ = failing
    assert files_of(project, image_id) == []


@pytest.mark.parametrize("image_id", GOOD)
def test_every_other_image_finishes(failing, image_id):
    project, _ = failing
    for step in STEPS:
        assert (project.root / "results" / step / f"{image_id}.tif").is_file(), step
    log = (project.root / "logs" / "rescale" / f"{image_id}.log").read_text()
    assert "ERROR" not in log


def test_no_temporary_file_is_left(failing):
    project, _ = failing
    assert [p for p in (project.root / "results").rglob(".*") if p.is_file()] == []


# ---------------------------------------------------------------------------
# Constant, all-zero and 1x1 images: no error, zero objects
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("image_id", sorted(bad_inputs.EMPTY))
def test_an_image_without_objects_goes_through_every_step(failing, image_id):
    project, _ = failing
    results = project.root / "results"
    shape = tifffile.imread(results / "threshold" / f"{image_id}.tif").shape
    for step in ("threshold", "morphology", "label"):
        assert not tifffile.imread(results / step / f"{image_id}.tif").any(), step
    for step in ("colorize", "rescale"):
        rgb = tifffile.imread(results / step / f"{image_id}.tif")
        assert rgb.shape == shape + (3,) and rgb.dtype == np.uint8, step
        assert not rgb.any(), step


# ---------------------------------------------------------------------------
# on_unreadable: skip
# ---------------------------------------------------------------------------


def test_skip_lets_the_run_succeed(skipping):
    _, result = skipping
    assert result.returncode == 0, result.stdout[-4000:]


def test_skip_lists_every_unreadable_image_with_its_reason(skipping):
    project, _ = skipping
    rows = read_csv(project.root / "results" / "skipped.csv")
    assert [row["image"] for row in rows] == sorted(bad_inputs.UNREADABLE)
    for row in rows:
        name, problem = bad_inputs.UNREADABLE[row["image"]]
        assert row["source"] == f"images/{name}"
        assert problem in row["reason"]


def test_skipped_images_have_no_outputs_no_jobs_and_no_rows(skipping):
    project, _ = skipping
    counted = [row["image"] for row in read_csv(project.root / "results" / "counts.csv")]
    assert counted == sorted(GOOD)
    for image_id in bad_inputs.UNREADABLE:
        assert files_of(project, image_id) == []
        assert not (project.root / "logs" / "threshold" / f"{image_id}.log").exists()
    for image_id in GOOD:
        for step in STEPS:
            assert (project.root / "results" / step / f"{image_id}.tif").is_file()


def test_counts_say_when_an_image_had_nothing_to_find(skipping):
    project, _ = skipping
    rows = {row["image"]: row for row in read_csv(project.root / "results" / "counts.csv")}
    for image_id, (_, note) in bad_inputs.EMPTY.items():
        assert rows[image_id]["objects"] == "0"
        assert rows[image_id]["threshold"] == ""
        assert rows[image_id]["note"] == note
    for image_id in ("good_1", "good_2", *bad_inputs.AWKWARD_NAMES):
        assert int(rows[image_id]["objects"]) > 0
        assert rows[image_id]["note"] == ""
    assert rows["Zellen µm ß"]["source"] == "images/Zellen µm ß.tif"


def test_skip_then_nothing_is_left_to_do(skipping):
    project, _ = skipping
    output = project.snakemake("--dry-run", "--config", "input=images", "on_unreadable=skip").stdout
    assert "Nothing to be done" in output


def test_the_default_run_does_not_read_images_before_the_jobs(failing):
    project, _ = failing
    output = project.snakemake("--dry-run", "--config", "input=images").stdout
    assert "check_images" not in output


# ---------------------------------------------------------------------------
# A file that cannot be read for lack of permission
# ---------------------------------------------------------------------------


def test_a_file_without_read_permission():
    """chmod 000 stops everyone but root: as root, Snakemake runs as 'nobody'."""
    as_root = os.geteuid() == 0
    if as_root and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot run as another user")
    folder = Path(tempfile.mkdtemp(prefix="bad_permission_", dir="/tmp"))
    try:
        project = copy_project(folder / "project", with_example=False)
        (project.root / "images").mkdir()
        bad_inputs.write_good(project.root / "images", "good.tif")
        if as_root:  # the project belongs to nobody, the locked file to root
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, 65534, 65534, follow_symlinks=False)
        bad_inputs.make_locked(project.root / "images" / "locked.tif")
        command = [sys.executable, "-m", "snakemake", "--cores", "1", "--keep-going",
                   "--config", "input=images"]
        if as_root:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        result = subprocess.run(
            command, cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=300,
            env={**os.environ, "HOME": str(project.root), "PYTHONDONTWRITEBYTECODE": "1",
                 "XDG_CACHE_HOME": str(project.root / ".cache")},
        )
        assert result.returncode != 0
        message = "images/locked.tif: permission denied: the file cannot be read"
        assert message in result.stdout, result.stdout[-3000:]
        assert message in (project.root / "logs" / "threshold" / "locked.log").read_text()
        assert files_of(project, "locked") == []
        assert (project.root / "results" / "rescale" / "good.tif").is_file()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------
# Problems of the image list: refused before any job
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("bad_list"), with_example=False)


def make_duplicate_ids(root):
    bad_inputs.write_good(root / "dup", "a.tif")
    (root / "dup" / "a.png").write_bytes((root / "dup" / "a.tif").read_bytes())
    return ["input=dup"], ["two images have the id 'a'", "dup/a.png", "dup/a.tif"]


def make_empty_folder(root):
    (root / "nothing").mkdir()
    (root / "nothing" / "notes.txt").write_text("no images here")
    return ["input=nothing"], ["input 'nothing'", "no images found"]


def make_sheet_with_missing_file(root):
    bad_inputs.write_good(root / "sheet", "a.tif")
    (root / "sheet" / "samples.tsv").write_text("id\tpath\nA\ta.tif\nB\tgone.tif\n")
    return ["samples=sheet/samples.tsv"], ["sheet/samples.tsv, line 3", "'gone.tif'", "not found"]


@pytest.mark.parametrize(
    "make", [make_duplicate_ids, make_empty_folder, make_sheet_with_missing_file],
    ids=["same-id-twice", "no-images", "sheet-missing-file"],
)
def test_a_bad_image_list_stops_the_run_before_any_job(empty_project, make):
    config, fragments = make(empty_project.root)
    result = empty_project.snakemake("--cores", "1", "--config", *config, check=False)
    assert result.returncode != 0
    for fragment in fragments:
        assert fragment in result.stdout, (fragment, result.stdout[-3000:])
    assert not (empty_project.root / "results").exists()
    assert not (empty_project.root / "logs").exists()
