"""Vendor files, compressed TIFFs and OME-Zarr through the whole workflow:
one image per scene or plate field, the pixel size carried, wells from a
plate, and the labels written back as OME-Zarr."""

from __future__ import annotations

import csv
import shutil
import warnings

import numpy as np
import pytest
import tifffile

from tests.workflow_copy import ROOT, copy_project

pytestmark = pytest.mark.slow
DATA = ROOT / "tests" / "data" / "formats"


def read_csv(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_scene_of_a_czi_is_an_image_with_its_pixel_size(tmp_path):
    pytest.importorskip("pylibCZIrw")
    folder = tmp_path / "czi"
    folder.mkdir()
    shutil.copyfile(DATA / "0T-4C-0Z-7pos.czi", folder / "run.czi")
    project = copy_project(tmp_path / "project", with_example=False)
    project.snakemake("--cores", "2", "--config", f"input={folder}", "channel=DAPI")
    rows = read_csv(project.root / "results" / "counts.csv")
    assert [row["image"] for row in rows] == [f"run_s{k}" for k in range(7)]
    assert {row["pixel_size_um"] for row in rows} == {"0.6205"} or all(
        abs(float(row["pixel_size_um"]) - 0.6205) < 1e-3 for row in rows
    )
    log = (project.root / "logs" / "threshold" / "run_s3.log").read_text()
    assert "DAPI" in log
    # The scene's pixels are those pylibCZIrw reads for it.
    from scripts.imaging import open_image

    segmented = open_image(folder / "run.czi", channel="DAPI", scene=3).pixels
    labels = tifffile.imread(project.root / "results" / "label" / "run_s3.tif")
    assert labels.shape == segmented.shape


def test_an_lzw_tiff_is_segmented_as_its_uncompressed_twin(tmp_path):
    source = ROOT / "example" / "images" / "nuclei_8bit.tif"
    pixels = tifffile.imread(source)
    folder = tmp_path / "lzw"
    folder.mkdir()
    tifffile.imwrite(folder / "nuclei_8bit.tif", pixels, compression="lzw")
    project = copy_project(tmp_path / "project")
    project.snakemake("--cores", "2", "--config", f"input={folder}")
    reference = copy_project(tmp_path / "reference")
    reference.snakemake("--cores", "2", "results/label/nuclei_8bit.tif")
    np.testing.assert_array_equal(
        tifffile.imread(project.root / "results" / "label" / "nuclei_8bit.tif"),
        tifffile.imread(reference.root / "results" / "label" / "nuclei_8bit.tif"),
    )


@pytest.fixture
def plate(tmp_path):
    """An OME-Zarr plate (2 wells x 2 fields, channels DAPI and GFP) of
    bright discs, written with the ome-zarr library."""
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("ome_zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.format import FormatV04
        from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata
    fmt = FormatV04()
    path = tmp_path / "plate.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    wells = ("B/2", "C/3")
    write_plate_metadata(root, ["B", "C"], ["2", "3"], list(wells), fmt=fmt, field_count=2)
    rng = np.random.default_rng(5)
    for well in wells:
        row, column = well.split("/")
        group = root.require_group(row).require_group(column)
        write_well_metadata(group, [{"path": "0"}, {"path": "1"}], fmt=fmt)
        for field in (0, 1):
            pixels = rng.integers(0, 20, (2, 120, 120)).astype(np.uint16)
            yy, xx = np.mgrid[:120, :120]
            for y, x in ((30, 30), (30, 90), (90, 60)):
                pixels[0][(yy - y) ** 2 + (xx - x) ** 2 <= 100] = 900
            write_image(
                pixels, group.require_group(str(field)), axes=["c", "y", "x"],
                scale={"c": 1.0, "y": 0.5, "x": 0.5}, axes_units={"y": "micrometer", "x": "micrometer"},
                scale_factors=(), fmt=fmt,
                omero={"channels": [
                    {"label": name, "color": "FFFFFF", "active": True,
                     "window": {"start": 0, "end": 1000, "min": 0, "max": 1000}}
                    for name in ("DAPI", "GFP")
                ]},
            )
    return path


def test_an_ome_zarr_plate_gives_one_image_per_field_and_its_wells(tmp_path, plate):
    project = copy_project(tmp_path / "project", with_example=False)
    project.snakemake(
        "--cores", "2", "--config", f"input={plate}", "channel=DAPI", "output_format=ome-zarr",
        "measure={channels: [GFP]}",
    )
    results = project.root / "results"
    rows = read_csv(results / "counts.csv")
    assert [row["image"] for row in rows] == ["B02_f0", "B02_f1", "C03_f0", "C03_f1"]
    assert all(int(row["objects"]) == 3 and float(row["pixel_size_um"]) == 0.5 for row in rows)
    wells = read_csv(results / "wells.csv")
    assert [(row["well"], row["fields"], row["objects"]) for row in wells] == [
        ("B02", "2", "6"), ("C03", "2", "6"),
    ]
    assert "GFP_mean_intensity" in wells[0]
    # The labels as OME-Zarr, read back with the ome-zarr library.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.io import parse_url
        from ome_zarr.reader import Label, Reader
    written = results / "ome-zarr" / "C03_f1.zarr"
    nodes = list(Reader(parse_url(str(written)))())
    (label,) = [node for node in nodes if node.load(Label)]
    np.testing.assert_array_equal(
        np.asarray(label.data[0]), tifffile.imread(results / "label" / "C03_f1.tif")
    )
    (image,) = [node for node in nodes if not node.load(Label) and node.data]
    assert np.asarray(image.data[0]).max() == 900


def test_a_broken_vendor_file_fails_alone_with_one_line(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    czi = (DATA / "0T-4C-0Z-7pos.czi").read_bytes()
    (folder / "cut.czi").write_bytes(czi[: len(czi) // 3])
    (folder / "text.nd2").write_text("not an nd2 file\n")
    shutil.copyfile(ROOT / "example" / "images" / "nuclei_8bit.tif", folder / "good.tif")
    project = copy_project(tmp_path / "project", with_example=False)
    result = project.snakemake(
        "--cores", "2", "--keep-going", "--config", f"input={folder}", "channel=0", check=False
    )
    assert result.returncode != 0
    for image, kind in (("cut", "CZI"), ("text", "ND2")):
        log = (project.root / "logs" / "threshold" / f"{image}.log").read_text()
        (line,) = [text for text in log.splitlines() if text.startswith("ERROR:")]
        assert f"{image}." in line and f"not a readable {kind} file" in line, line
        assert not (project.root / "results" / "threshold" / f"{image}.tif").exists()
    assert (project.root / "results" / "rescale" / "good.tif").exists()
