"""The workflow with `preset: nuclei` and ground truth configured (rule evaluate).

On the bundled example (true counts in example/truth.csv); on the real
images of ../shared/data, the development set (skipped without it), where
the goals must hold and no image may be QC-flagged: count error <= 10% on
BBBC005 (w1), BBBC039 and DSB2018, F1 at IoU 0.5 >= 0.90 on BBBC039 and
>= 0.85 on DSB2018, and the figures of issue 16 no worse than before it;
and on the committed validation images (tests/data/validation, DSB2018
stage-1 test), where the issue's goal (<= 10%, F1 >= 0.85) is NOT met: the
test holds the measured level (17.7%, F1 0.761) so that it cannot get worse
unnoticed, and checks that no image is off by more than 2x without a QC
flag -- the numbers of benchmarks/accuracy.py.
"""

from __future__ import annotations

import csv

import pytest
import tifffile
import yaml

from tests.workflow_copy import ROOT, SHARED_DATA, copy_project

pytestmark = pytest.mark.slow

#: dataset -> (images, true labels, most count error, least F1); the
#: measured figures (benchmarks/README.md) are 3.2%, 1.7% / 0.939 and
#: 7.5% / 0.880, before issue 16 3.5%, 1.5% / 0.930 and 7.9% / 0.855.
GOALS = {
    "bbbc005": ("bbbc005/images/*_w1.TIF", None, 0.035, None),
    "bbbc039": ("bbbc039/images", "bbbc039/labels/{image}_labels.tif", 0.02, 0.93),
    "dsb2018": ("dsb2018/images", "dsb2018/labels/{image}_labels.tif", 0.079, 0.855),
}
VALIDATION = ROOT / "tests" / "data" / "validation"


def read_csv(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_with(project, config):
    (project.root / "run.yaml").write_text(yaml.safe_dump(config))
    project.snakemake("--cores", "2", "--configfile", "run.yaml")
    return project.root / "results"


def test_nuclei_preset_on_the_example_with_synthetic_truth(tmp_path):
    project = copy_project(tmp_path / "project")
    results = run_with(
        project, {"preset": "nuclei", "evaluation": {"counts": "example/truth.csv"}}
    )
    truth = {row["image"]: int(row["true_count"]) for row in read_csv(ROOT / "example" / "truth.csv")}
    rows = read_csv(results / "evaluation.csv")
    assert {row["image"]: int(row["true_count"]) for row in rows} == truth
    assert all(float(row["count_error"]) == 0.0 for row in rows)
    assert all(row["f1"] == "" for row in rows)  # counts only: no matching
    summary = read_csv(results / "evaluation_summary.csv")
    assert summary[0]["dataset"] == "all" and summary[0]["n_images"] == "4"
    counts = read_csv(results / "counts.csv")
    assert all(row["threshold_method"] == "li" and row["diameter_px"] for row in counts)
    objects = read_csv(results / "objects.csv")
    assert len(objects) == sum(truth.values())
    for image, count in truth.items():
        labels = tifffile.imread(results / "label" / f"{image}.tif")
        assert labels.max() == count
        per_image = read_csv(results / "objects" / f"{image}.csv")
        assert [int(row["label"]) for row in per_image] == list(range(1, count + 1))
    calibrated = next(row for row in objects if row["image"] == "four_cells")
    assert float(calibrated["area_um2"]) == pytest.approx(
        int(calibrated["area_px"]) * 0.65**2
    )
    assert project.planned_jobs("--configfile", "run.yaml") == {}


def test_true_label_images_give_matching_metrics(tmp_path):
    """The tutorial's own label images as the truth: F1 = 1 everywhere."""
    project = copy_project(tmp_path / "project")
    results = run_with(project, {})
    truth = project.root / "truth"
    truth.mkdir()
    for path in (results / "label").glob("*.tif"):
        (truth / f"{path.stem}_labels.tif").write_bytes(path.read_bytes())
    results = run_with(project, {"evaluation": {"labels": "truth/{image}_labels.tif"}})
    rows = read_csv(results / "evaluation.csv")
    assert len(rows) == 4
    assert all(row["f1"] == "1.0" and row["mean_matched_iou"] == "1.0" for row in rows)
    assert read_csv(results / "evaluation_summary.csv")[0]["mean_f1"] == "1.0"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")
@pytest.mark.parametrize("dataset", sorted(GOALS))
def test_nuclei_preset_meets_the_goals_on_shared_data(tmp_path, dataset):
    images, labels, max_count_error, min_f1 = GOALS[dataset]
    project = copy_project(tmp_path / "project", with_example=False)
    config = {
        "input": str(SHARED_DATA / images),
        "preset": "nuclei",
        "report": {"max_images": 0},
        "evaluation": {
            "counts": str(SHARED_DATA / "truth.csv"),
            "labels": str(SHARED_DATA / labels) if labels else None,
        },
    }
    results = run_with(project, config)
    rows = read_csv(results / "evaluation.csv")
    counts = read_csv(results / "counts.csv")
    assert len(rows) == len(counts)
    assert [row["qc"] for row in counts] == [""] * len(counts)  # nothing flagged
    overall = read_csv(results / "evaluation_summary.csv")[0]
    assert overall["dataset"] == "all"
    assert float(overall["mean_count_error"]) <= max_count_error
    if min_f1 is not None:
        assert int(overall["n_matched_images"]) == len(rows)
        assert float(overall["mean_f1"]) >= min_f1


def test_nuclei_preset_on_the_committed_validation_images(tmp_path):
    project = copy_project(tmp_path / "project", with_example=False)
    folder = VALIDATION / "dsb2018_stage1_test"
    config = {
        "input": str(folder / "images"),
        "preset": "nuclei",
        "report": {"max_images": 0},
        "evaluation": {
            "counts": str(VALIDATION / "truth.csv"),
            "labels": str(folder / "labels" / "{image}_labels.tif"),
        },
    }
    results = run_with(project, config)
    rows = read_csv(results / "evaluation.csv")
    assert len(rows) == 20
    overall = read_csv(results / "evaluation_summary.csv")[0]
    assert float(overall["mean_count_error"]) <= 0.18  # measured 17.7%; the goal, 10%, is not met
    assert float(overall["mean_f1"]) >= 0.76  # measured 0.761; the goal, 0.85, is not met
    flags = {row["image"]: row["qc"] for row in read_csv(results / "counts.csv")}
    for row in rows:
        found, true = int(row["found_count"]), int(row["true_count"])
        if found > 2 * true or 2 * found < true:
            assert flags[row["image"]], f"{row['image']} is off by more than 2x without a QC flag"
