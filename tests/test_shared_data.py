"""The workflow on real microscopy images from ../shared/data (skipped without it).

Real files bring what synthetic ones lack: 16-bit TIFFs with a narrow range
(BBBC039), RGBA PNGs (DSB2018), upper-case suffixes (BBBC005).
"""

from __future__ import annotations

import csv

import pytest
import tifffile

from scripts.steps import label
from scripts.steps import morphology
from scripts.steps import threshold
from scripts.imaging import read_image
from tests.workflow_copy import SHARED_DATA, copy_project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present"),
]


def expected_count(path):
    image, _ = read_image(path)
    mask = threshold.apply_threshold(image, threshold.compute_threshold(image))
    return label.label_objects(morphology.apply_sequence(mask))[1]


@pytest.mark.parametrize(
    ("folder", "dtype"),
    [("bbbc039/images", "uint16"), ("dsb2018/images", "uint8"), ("bbbc005/images", "uint8")],
)
def test_real_images_run_end_to_end(tmp_path, folder, dtype):
    project = copy_project(tmp_path / "project", with_example=False)
    source = SHARED_DATA / folder
    project.snakemake("--cores", "2", "--config", f"input={source}")
    with open(project.root / "results" / "counts.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    images = sorted(p for p in source.iterdir() if p.suffix.lower() in (".tif", ".png"))
    assert [row["image"] for row in rows] == sorted(p.stem for p in images)
    for row, path in zip(rows, sorted(images, key=lambda p: p.stem)):
        assert row["dtype"] == dtype
        assert int(row["objects"]) == expected_count(path)
        labels = tifffile.imread(project.root / "results" / "label" / f"{row['image']}.tif")
        assert labels.max() == int(row["objects"])
