"""The workflow with `preset: nuclei` and ground truth configured (rule evaluate).

On the bundled example (true counts in example/truth.csv) and on the real
images of ../shared/data (skipped without it), where the issue's goals must
hold: count error <= 10% on BBBC005 (w1), BBBC039 and DSB2018, F1 at IoU 0.5
>= 0.90 on BBBC039 and >= 0.85 on DSB2018 -- the numbers of
benchmarks/accuracy.py.
"""

from __future__ import annotations

import csv

import pytest
import tifffile
import yaml

from tests.workflow_copy import ROOT, SHARED_DATA, copy_project

pytestmark = pytest.mark.slow

GOALS = {
    "bbbc005": ("bbbc005/images/*_w1.TIF", None, 0.10, None),
    "bbbc039": ("bbbc039/images", "bbbc039/labels/{image}_labels.tif", 0.10, 0.90),
    "dsb2018": ("dsb2018/images", "dsb2018/labels/{image}_labels.tif", 0.10, 0.85),
}


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
    assert len(rows) == len(read_csv(results / "counts.csv"))
    overall = read_csv(results / "evaluation_summary.csv")[0]
    assert overall["dataset"] == "all"
    assert float(overall["mean_count_error"]) <= max_count_error
    if min_f1 is not None:
        assert int(overall["n_matched_images"]) == len(rows)
        assert float(overall["mean_f1"]) >= min_f1
