"""Screens: intensities in every other channel, the per-well table, the
plate heatmap, and the ExampleHuman analysis as a workflow."""

from __future__ import annotations

import csv
import math
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile
import yaml

from scripts.algorithms.measure import channel_intensities
from scripts.config.discovery import Image
from scripts.config.load import load_config
from scripts.config.params import measured_channels, reading
from scripts.imaging import write_tiff
from scripts.report import figures
from scripts.report import wells as report_wells
from scripts.tables import intensities, objects, wells
from tests.workflow_copy import ROOT, SHARED_DATA, copy_project, parse_job_stats

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def plain_statistics(labels, image):
    """Per label: mean, sum, max and std with numpy, one object at a time."""
    found = {}
    for label in np.unique(labels[labels > 0]):
        values = image[labels == label].astype(np.float64)
        found[int(label)] = (values.mean(), values.sum(), values.max(), values.std())
    return found


# --------------------------------------------------------------------------
# Intensities
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_channel_intensities_equal_a_plain_numpy_computation(dtype):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 40, (90, 70)).astype(np.uint16)
    labels[labels == 13] = 0  # a label missing from the image
    image = (rng.random(labels.shape) * (60000 if dtype == np.uint16 else 250)).astype(dtype)
    measured = channel_intensities(labels, image)
    expected = plain_statistics(labels, image)
    assert measured["label"].tolist() == sorted(expected)
    for index, label in enumerate(measured["label"]):
        assert (
            measured["mean"][index], measured["integrated"][index],
            measured["max"][index], measured["std"][index],
        ) == pytest.approx(expected[label], rel=1e-9)


def test_channel_intensities_of_an_image_without_objects_and_in_3d():
    empty = channel_intensities(np.zeros((5, 5), np.uint16), np.ones((5, 5)))
    assert all(len(column) == 0 for column in empty.values())
    labels = np.zeros((3, 4, 4), np.uint16)
    labels[1:, :2, :2] = 1
    volume = np.arange(48, dtype=np.uint8).reshape(3, 4, 4)
    assert channel_intensities(labels, volume)["integrated"].tolist() == [
        float(volume[labels == 1].sum())
    ]
    with pytest.raises(ValueError, match="channel shape"):
        channel_intensities(labels, volume[0])


def test_the_table_has_a_column_group_per_channel():
    labels = np.array([[1, 1, 0], [0, 2, 2]], dtype=np.uint16)
    table = intensities.intensity_table(
        labels, [("PH3", np.array([[2, 4, 9], [9, 6, 8]])), ("c2", np.ones((2, 3)))]
    )
    assert list(table) == ["label", *intensities.intensity_columns("PH3"), *intensities.intensity_columns("c2")]
    assert table["PH3_mean_intensity"].tolist() == [3.0, 7.0]
    assert table["c2_integrated_intensity"].tolist() == [2.0, 2.0]


def test_all_channels_of_a_multichannel_file_but_the_segmented_one(tmp_path):
    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(path, np.zeros((3, 8, 8), np.uint8), metadata={"axes": "CYX", "Channel": {"Name": ["DAPI", "GFP", ""]}})
    spec = {"all": True, "path": str(path), "reading": {"channel": "DAPI", "volume": "refuse", "max_pixels": 10**6}}
    expanded = intensities.expand_all(spec, "DAPI")
    assert [(item["name"], item["reading"]["channel"]) for item in expanded] == [("GFP", 1), ("c2", 2)]


def test_all_on_a_gray_image_measures_nothing_but_keeps_its_objects(tmp_path):
    from scripts.runtime.workers import Arguments

    labels = np.zeros((6, 6), np.uint16)
    labels[:2, :2], labels[4:, 4:] = 3, 7
    label_path, gray = tmp_path / "labels.tif", tmp_path / "gray.tif"
    write_tiff(label_path, labels, {"step": "label"})
    tifffile.imwrite(gray, np.ones((6, 6), np.uint8))
    reading = {"channel": None, "volume": "refuse", "max_pixels": 10**6}
    params = SimpleNamespace(channels=[{"all": True, "path": str(gray), "reading": reading}],
                             segmented=None, source=str(gray))
    output = Arguments([], {"csv": str(tmp_path / "intensities.csv")})
    intensities.run(Arguments([], {"labels": str(label_path)}), output, params, [str(tmp_path / "log")])
    assert (tmp_path / "intensities.csv").read_text() == "label\n3\n7\n"


def screen_config(**values):
    return load_config(
        {"input": "x", "channel": "DNA", "screen": {"file_pattern": "cellprofiler", "channel_names": {"0": "DNA", "1": "PH3"}}, **values},
        SCHEMA,
    )


FIELD = Image("P_A01f00d0.tif", channels=(("0", "P_A01f00d0.tif"), ("1", "P_A01f00d1.tif"), ("2", "P_A01f00d2.tif")))


def test_a_fields_channels_to_measure_by_name_or_all():
    config = screen_config(measure={"channels": ["PH3"]})
    (channel,) = measured_channels(FIELD, config, reading(config))
    assert (channel["name"], channel["path"], channel["reading"]["channel"]) == ("PH3", "P_A01f00d1.tif", None)
    everything = screen_config(measure={"channels": "all"})
    assert [c["name"] for c in measured_channels(FIELD, everything, reading(everything))] == ["PH3", "c2"]
    by_column = screen_config(measure={"channels": ["c2"]})
    assert [c["path"] for c in measured_channels(FIELD, by_column, reading(by_column))] == ["P_A01f00d2.tif"]
    missing = screen_config(measure={"channels": ["GFP"]})
    with pytest.raises(ValueError, match="has no channel 'GFP'; its channels: 0 .DNA., 1 .PH3., 2"):
        measured_channels(FIELD, missing, reading(missing))
    assert measured_channels(FIELD, screen_config(), reading(screen_config())) == []


def test_channels_of_a_multichannel_file_are_read_from_it():
    config = load_config({"input": "x", "channel": 0, "measure": {"channels": [1, "GFP"]}}, SCHEMA)
    specs = measured_channels(Image("a.tif"), config, reading(config))
    assert [(s["name"], s["path"], s["reading"]["channel"]) for s in specs] == [("c1", "a.tif", 1), ("GFP", "a.tif", "GFP")]


def test_objects_and_intensities_join_by_label():
    objects_text = "image,label,area_px\na,1,10\na,2,12\n"
    intensities_text = "label,PH3_mean_intensity\n1,3.5\n2,7.0\n"
    assert objects.join_by_label("a", objects_text, intensities_text) == (
        "image,label,area_px,PH3_mean_intensity\na,1,10,3.5\na,2,12,7.0\n"
    )
    assert objects.join_by_label("a", None, intensities_text) == (
        "image,label,PH3_mean_intensity\na,1,3.5\na,2,7.0\n"
    )
    assert objects.join_by_label("a", objects_text, None) == objects_text


# --------------------------------------------------------------------------
# Wells
# --------------------------------------------------------------------------


def test_well_rows_sum_fields_and_average_object_means_in_plate_order():
    images = [
        {"plate": "P", "well": "B01", "objects": 2, "means": {"PH3": [10.0, 50.0]}},
        {"plate": "P", "well": "A12", "objects": 3, "means": {"PH3": [5.0, 6.0, 70.0]}},
        {"plate": "P", "well": "A02", "objects": 0, "means": {"PH3": []}},
        {"plate": "P", "well": "A12", "objects": 1, "means": {"PH3": [100.0]}},
    ]
    rows = wells.well_rows(images, {"PH3": 40})
    assert [row["well"] for row in rows] == ["A02", "A12", "B01"]
    a12 = rows[1]
    assert (a12["fields"], a12["objects"], a12["objects_per_field"]) == (2, 4, 2.0)
    assert a12["PH3_mean_intensity"] == pytest.approx((5 + 6 + 70 + 100) / 4)
    assert a12["PH3_positive_fraction"] == 0.5
    assert math.isnan(rows[0]["PH3_mean_intensity"]) and math.isnan(rows[0]["PH3_positive_fraction"])
    text = wells.wells_table(rows)
    assert text.splitlines()[0] == "plate,well,fields,objects,objects_per_field,PH3_mean_intensity,PH3_positive_fraction"
    assert text.splitlines()[1] == "P,A02,1,0,0.0,,"


def test_object_means_read_an_intensity_table():
    text = "label,PH3_mean_intensity,PH3_max_intensity,c2_mean_intensity\n1,2.5,9,1\n"
    assert wells.object_means(text) == {"PH3": [2.5], "c2": [1.0]}
    assert wells.object_means("label,PH3_mean_intensity\n") == {"PH3": []}


@pytest.mark.parametrize(
    ("positions", "shape"),
    [([(1, 1), (8, 12)], (8, 12)), ([(4, 13)], (16, 24)), ([(17, 2)], (32, 48))],
)
def test_the_plate_format_is_the_smallest_that_holds_the_wells(positions, shape):
    assert figures.plate_shape(positions) == shape
    assert figures.plate_shape(positions, 1536) == (32, 48)


def test_the_plate_heatmap_is_deterministic(tmp_path):
    rows = [
        {"plate": "P", "well": "B03", "objects_per_field": "12", "PH3_positive_fraction": "0.25"},
        {"plate": "P", "well": "A01", "objects_per_field": "3", "PH3_positive_fraction": ""},
    ]
    values = report_wells.plate_values(rows, ["objects_per_field", "PH3_positive_fraction"])
    assert values["P"][(2, 3)]["objects_per_field"] == 12.0 and math.isnan(values["P"][(1, 1)]["PH3_positive_fraction"])
    for name in ("a.png", "b.png"):
        figures.render(figures.plate_figure, tmp_path / name, values, ["objects_per_field", "PH3_positive_fraction"])
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


# --------------------------------------------------------------------------
# Through the workflow
# --------------------------------------------------------------------------


def write_screen(folder):
    """Two wells, two fields each, three channel files per field: nine
    nuclei in channel 0, far enough apart for the tutorial's chain; channel 1
    bright in the nuclei of well B02 only."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    truth = {}
    for well in ("A01", "B02"):
        for field in ("00", "01"):
            dna = rng.integers(0, 8, (200, 200)).astype(np.uint8)
            marker = rng.integers(0, 8, (200, 200)).astype(np.uint8)
            count = 0
            for y in (30, 100, 170):
                for x in (30, 100, 170):
                    yy, xx = np.ogrid[:200, :200]
                    disc = (yy - y) ** 2 + (xx - x) ** 2 <= 64
                    dna[disc] = 200
                    if well == "B02":
                        marker[disc] = 120
                    count += 1
            truth[(well, field)] = count
            tifffile.imwrite(folder / f"SCR_{well}f{field}d0.tif", dna)
            tifffile.imwrite(folder / f"SCR_{well}f{field}d1.tif", marker)
            tifffile.imwrite(folder / f"SCR_{well}f{field}d2.tif", rng.integers(0, 8, (200, 200)).astype(np.uint8))
    return truth


@pytest.fixture(scope="module")
def screen_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("screen")
    truth = write_screen(root / "images")
    project = copy_project(root / "project")
    settings = {
        "input": str(root / "images"),
        "screen": {"file_pattern": "cellprofiler", "channel_names": {"0": "DNA", "1": "PH3"}, "positive": {"PH3": 15}},
        "channel": "DNA",
        "measure": {"channels": ["PH3"]},
    }
    (project.root / "screen.yaml").write_text(yaml.safe_dump(settings))
    project.snakemake("--cores", "2", "--configfile", "screen.yaml")
    return project, truth


@pytest.mark.slow
def test_a_screen_gets_one_image_per_field_and_answers_per_well(screen_run):
    project, truth = screen_run
    results = project.root / "results"
    counts = {row["image"]: int(row["objects"]) for row in csv.DictReader(open(results / "counts.csv"))}
    assert counts == {f"{well}_f{field}": count for (well, field), count in truth.items()}
    rows = list(csv.DictReader(open(results / "wells.csv")))
    assert [row["well"] for row in rows] == ["A01", "B02"]
    assert [int(row["objects"]) for row in rows] == [18, 18]
    assert [float(row["PH3_positive_fraction"]) for row in rows] == [0.0, 1.0]
    objects_rows = list(csv.DictReader(open(results / "objects.csv")))
    assert list(objects_rows[0])[-4:] == intensities.intensity_columns("PH3")
    for row in rows:  # the well's mean of its objects' means
        means = [float(o["PH3_mean_intensity"]) for o in objects_rows if o["image"].startswith(row["well"])]
        assert float(row["PH3_mean_intensity"]) == pytest.approx(sum(means) / len(means))
    images = project.root.parent / "images"
    for image in ("A01_f00", "B02_f01"):
        labels = tifffile.imread(results / "label" / f"{image}.tif")
        well, field = image.split("_f")
        marker = tifffile.imread(images / f"SCR_{well}f{field}d1.tif")
        expected = plain_statistics(labels, marker)
        for o in (o for o in objects_rows if o["image"] == image):
            assert float(o["PH3_mean_intensity"]) == pytest.approx(expected[int(o["label"])][0])
            assert float(o["PH3_integrated_intensity"]) == expected[int(o["label"])][1]
    assert (results / "report" / "plate.png").stat().st_size > 0


@pytest.mark.slow
def test_a_channel_a_field_lacks_is_refused_before_any_job(screen_run):
    project, _ = screen_run
    refused = project.snakemake("--dry-run", "--configfile", "screen.yaml", "--config", "measure={channels: [GFP]}", check=False)
    assert refused.returncode != 0
    assert "measure.channels: field" in refused.stdout and "has no channel 'GFP'" in refused.stdout


@pytest.mark.slow
def test_measuring_one_more_channel_reruns_only_the_measurements_and_tables(screen_run):
    project, _ = screen_run
    more = project.snakemake("--dry-run", "--quiet", "rules", "--configfile", "screen.yaml", "--config", "measure={channels: [PH3, c2]}")
    jobs = parse_job_stats(more.stdout)
    assert set(jobs) == {"intensities", "objects", "wells", "report_wells", "report_parameters", "all"}
    assert jobs["intensities"] == 4


EXAMPLEHUMAN = SHARED_DATA / "cellprofiler_examplehuman"


@pytest.mark.slow
@pytest.mark.skipif(not EXAMPLEHUMAN.is_dir(), reason="needs ../shared/data/cellprofiler_examplehuman")
def test_the_examplehuman_analysis(tmp_path):
    project = copy_project(tmp_path / "project")
    project.snakemake(
        "--cores", "2", "--configfile", "config/examplehuman.yaml", "--config", f"input={EXAMPLEHUMAN}"
    )
    results = project.root / "results"
    (row,) = list(csv.DictReader(open(results / "wells.csv")))
    # Nuclei as CellProfiler's pipeline counts them (border objects left out):
    # 296 here; 289 in a CellProfiler 4.2.6 run (README, "Screens"). pH3-positive
    # nuclei: the 21 bright spots counted by eye on the outlines, one of them in
    # a crescent-shaped nucleus split in two, one cut at its edge from the dim
    # nucleus under it.
    assert (row["well"], int(row["objects"])) == ("D03", 296)
    assert round(float(row["PH3_positive_fraction"]) * 296) == 23
    # Every nucleus's pH3 statistics equal numpy's on the raw pH3 image.
    labels = tifffile.imread(results / "label" / "D03_f00.tif")
    ph3 = tifffile.imread(EXAMPLEHUMAN / "AS_09125_050116030001_D03f00d1.tif")
    expected = plain_statistics(labels, ph3)
    table = list(csv.DictReader(open(results / "objects.csv")))
    assert len(table) == 296
    for object_row in table:
        mean, total, largest, spread = expected[int(object_row["label"])]
        assert float(object_row["PH3_mean_intensity"]) == pytest.approx(mean, rel=1e-12)
        assert float(object_row["PH3_integrated_intensity"]) == total
        assert float(object_row["PH3_max_intensity"]) == largest
        assert float(object_row["PH3_std_intensity"]) == pytest.approx(spread, rel=1e-9, abs=1e-9)
    # The report of the run points at its wells (from the landing text).
    project.snakemake("--report", "report.html")
    assert "plate heatmaps of objects_per_field, PH3_positive_fraction" in (
        project.root / "report.html"
    ).read_text(encoding="utf-8")
