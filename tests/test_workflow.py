"""The whole workflow on the bundled example: outputs, tutorial identity, determinism."""

from __future__ import annotations

import csv
import re
import shutil

import numpy as np
import pytest
import tifffile
from skimage import color, util

from scripts.imaging import read_image, read_provenance
from tests.tutorial import TUTORIAL_COLORS, tutorial_chain
from tests.workflow_copy import ROOT, copy_project

pytestmark = pytest.mark.slow

STEPS = ("threshold", "morphology", "label", "colorize", "rescale")
EXAMPLE_TRUTH = {
    row["image"]: int(row["true_count"])
    for row in csv.DictReader(open(ROOT / "example" / "truth.csv", encoding="utf-8"))
}


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("example"))
    project.snakemake("--cores", "2")
    return project


def read_counts(project):
    with open(project.root / "results" / "counts.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_counts_table_matches_the_known_object_counts(example_run):
    rows = read_counts(example_run)
    assert [row["image"] for row in rows] == sorted(EXAMPLE_TRUTH)
    assert {row["image"]: int(row["objects"]) for row in rows} == EXAMPLE_TRUTH
    by_id = {row["image"]: row for row in rows}
    assert by_id["nuclei_16bit"]["dtype"] == "uint16"
    assert by_id["nuclei_8bit"]["dtype"] == "uint8"
    assert by_id["four_cells"]["height"] == "342"
    assert by_id["four_cells"]["width"] == "382"
    assert by_id["four_cells"]["source"] == "example/images/four_cells.tif"
    assert 0 < float(by_id["four_cells"]["foreground_fraction"]) < 1


def test_every_step_writes_a_tiff_of_the_documented_type(example_run):
    for image_id in EXAMPLE_TRUTH:
        paths = {step: example_run.root / "results" / step / f"{image_id}.tif" for step in STEPS}
        mask = tifffile.imread(paths["threshold"])
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        assert tifffile.imread(paths["morphology"]).dtype == np.uint8
        labels = tifffile.imread(paths["label"])
        assert labels.dtype == np.uint16
        assert labels.max() == EXAMPLE_TRUTH[image_id]
        for step in ("colorize", "rescale"):
            rgb = tifffile.imread(paths[step])
            assert rgb.dtype == np.uint8 and rgb.shape == labels.shape + (3,)
        for step, path in paths.items():
            meta = read_provenance(path)
            assert meta["step"] == step
            assert meta["source"].endswith(image_id + (".png" if "png" in image_id else ".tif"))


def test_pixel_size_is_carried_into_every_output(example_run):
    for step in STEPS:
        path = example_run.root / "results" / step / "four_cells.tif"
        _, pixel_size = read_image(path) if step != "colorize" and step != "rescale" else (None, None)
        with tifffile.TiffFile(path) as tif:
            numerator, denominator = tif.pages.first.tags["XResolution"].value
            assert denominator / numerator == pytest.approx(0.65)
            assert tif.imagej_metadata["unit"] == "um"
        if pixel_size is not None:
            assert pixel_size == pytest.approx(0.65)


@pytest.mark.parametrize("image_id", sorted(EXAMPLE_TRUTH))
def test_default_run_reproduces_the_tutorial_pixel_for_pixel(example_run, image_id):
    source = next((ROOT / "example" / "images").glob(image_id + ".*"))
    raw, _ = read_image(source)
    expected = tutorial_chain(raw)
    for step in STEPS:
        written = tifffile.imread(example_run.root / "results" / step / f"{image_id}.tif")
        if step in ("threshold", "morphology"):
            written = written > 0
        np.testing.assert_array_equal(written, expected[step], err_msg=step)


def test_outputs_are_byte_identical_across_cores_and_reruns(example_run, tmp_path):
    first = example_run.hashes()
    other = copy_project(tmp_path / "one_core")
    other.snakemake("--cores", "1")
    assert other.hashes() == first
    other.snakemake("--cores", "2", "--forceall")
    assert other.hashes() == first


@pytest.mark.parametrize(
    ("config", "step_jobs", "workers"),
    [
        ([], {"fused_steps": 4}, 2),
        (["job_processes=0"], {"fused_steps": 4}, 0),
        (["fuse_steps=false"], {step: 4 for step in STEPS}, 1),
        (["fuse_steps=false", "job_processes=0"], {step: 4 for step in STEPS}, 0),
        (["fuse_steps=false", "job_processes=2"], {step: 4 for step in STEPS}, 2),
    ],
    ids=["default", "fused-threads", "per-step", "per-step-threads", "per-step-two-workers"],
)
def test_how_jobs_run_does_not_change_a_byte(example_run, tmp_path, config, step_jobs, workers):
    """An image's five steps as one job (the default, in --cores worker
    processes), or a job per step (fuse_steps: false; one worker less than
    --cores), in worker processes or as threads of Snakemake: the same
    files, logs too."""
    other = copy_project(tmp_path / "other")
    options = ["--config", *config] if config else []
    planned = other.planned_jobs(*options)
    assert {rule: count for rule, count in planned.items() if rule in (*STEPS, "fused_steps")} == step_jobs
    output = other.snakemake("--cores", "2", *options).stdout
    announced = re.findall(r"Per-image jobs run in (\d+) worker process", output)
    assert announced == ([str(workers)] if workers else [])
    assert other.hashes() == example_run.hashes()
    for step in STEPS:
        log = (other.root / "logs" / step / "nuclei_8bit.log").read_text()
        assert log.startswith(f"{step}: ") and "done in" in log


def test_outputs_do_not_depend_on_the_order_in_which_images_are_listed(example_run, tmp_path):
    expected = example_run.hashes()
    sources = sorted((ROOT / "example" / "images").iterdir(), reverse=True)
    other = copy_project(tmp_path / "reordered", with_example=False)
    folder = other.root / "example" / "images"
    folder.mkdir(parents=True)
    for source in sources:  # created in reverse order
        shutil.copy2(source, folder / source.name)
    other.snakemake("--cores", "2")
    assert other.hashes() == expected
    # A sample sheet listing them in reverse order: the same files (but for
    # the recorded configuration, which now names the sheet).
    (other.root / "samples.tsv").write_text(
        "id\tpath\n" + "".join(f"{p.stem}\texample/images/{p.name}\n" for p in sources)
    )
    other.snakemake("--cores", "1", "--forceall", "--config", "samples=samples.tsv")
    recorded_config = {
        name for name in expected if name.startswith("report/parameters.") or name == "config.yaml"
    }
    hashes = other.hashes()
    for name in recorded_config:
        del hashes[name], expected[name]
    assert hashes == expected


def test_a_finished_run_has_nothing_left_to_do(example_run):
    assert example_run.planned_jobs() == {}
    output = example_run.snakemake("--dry-run").stdout
    assert "Nothing to be done" in output


def test_no_temporary_files_are_left_under_results(example_run):
    leftovers = [p for p in (example_run.root / "results").rglob(".*") if p.is_file()]
    assert leftovers == []


def test_overlay_colours_the_labels_over_the_raw_image_as_label2rgb(tmp_path):
    project = copy_project(tmp_path / "overlay")
    (project.root / "overlay.yaml").write_text("colorize: {overlay: true, alpha: 0.3}\n")
    project.snakemake("--cores", "2", "--configfile", "overlay.yaml")
    raw, _ = read_image(ROOT / "example" / "images" / "nuclei_16bit.tif")
    labels = tifffile.imread(project.root / "results" / "label" / "nuclei_16bit.tif")
    expected = util.img_as_ubyte(
        color.label2rgb(
            labels,
            image=raw,
            colors=TUTORIAL_COLORS,
            alpha=0.3,
            bg_label=0,
        )
    )
    written = tifffile.imread(project.root / "results" / "colorize" / "nuclei_16bit.tif")
    np.testing.assert_array_equal(written, expected)
