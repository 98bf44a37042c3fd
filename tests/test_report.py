"""`snakemake --report report.html` on the bundled example, and the report in a browser.

The unit tests of the report's pages come first; the tests marked `slow` run
the workflow and build the report.

The browser test opens the report in headless Chromium (Debian package
``chromium``), fails on any JavaScript error, checks that every embedded PNG
decodes, clicks through to the strip of steps of the first image and to the
counts table, and keeps screenshots in ``tests/artifacts/`` (git-ignored).
Without ``/usr/bin/chromium`` it is skipped, unless ``CI_REQUIRE_CHROMIUM=1``
(then it fails).
"""

from __future__ import annotations

import base64
import json
import re
import time
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from scripts.report import counts as report_counts
from scripts.report import html as report_html
from scripts.report import parameters as report_parameters
from tests.chromium import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    CLICK,
    DECODE_ALL,
    FIRST_ROW,
    ROW_WITH,
    SHOWN_IMAGE,
    WINDOW,
    chromium,
    chromium_binary,
    frame_texts,
    png_size,
)
from tests.workflow_copy import ROOT, copy_project, parse_job_stats

IMAGE_IDS = ("four_cells", "nuclei_16bit", "nuclei_8bit", "nuclei_png")
FIGURES = {"steps": "1. Steps", "outlines": "2. Outlines", "histograms": "3. Histograms"}


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("report"))
    project.snakemake("--cores", "2")
    project.snakemake("--report", "report.html")
    return project


def embedded(html, name):
    """The JSON a report's ``<script id=name>`` assigns to its variable."""
    match = re.search(
        rf'<script id="{name}">\s*var \w+ = (.*?);\s*</script>', html, re.DOTALL
    )
    assert match, f"no <script id={name!r}> in the report"
    return json.loads(match.group(1))


def data_uri_bytes(uri):
    header, _, payload = uri.partition(",")
    assert header.endswith(";base64"), header
    return base64.b64decode(payload)


# --------------------------------------------------------------------------
# Pages (no workflow run)
# --------------------------------------------------------------------------

COUNTS_CSV = (
    "image,objects,note\n"
    "a,3,\n"
    "<b>,0,no objects found\n"
    "c,7,\n"
)


def test_counts_page_is_the_table_with_flagged_rows_escaped():
    rows = report_counts.read_counts(COUNTS_CSV)
    page = report_counts.counts_html(rows, ["image", "objects", "note"])
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http" not in page  # self-contained
    assert '<td>a</td><td class="number">3</td><td></td>' in page
    assert '<tr class="flagged"><td>&lt;b&gt;</td>' in page
    assert page.count("<tr") == 4
    assert report_counts.summary(rows) == (
        "3 images, 10 objects (per image: min 0, median 3, max 7); "
        "1 image with a note (highlighted)."
    )
    assert report_counts.summary([]) == "No images."


def test_counts_page_rounds_for_reading_and_keeps_every_digit_in_its_download():
    text = (
        "image,objects,threshold,foreground_fraction,diameter_px,note\n"
        "a,3,0.0123456789012345,0.123457,17.25390625,\n"
    )
    rows = report_counts.read_counts(text)
    page = report_counts.counts_html(rows, list(rows[0]), text)
    assert '<td class="number">0.01235</td>' in page
    assert '<td class="number">0.1235</td>' in page and '<td class="number">17.3</td>' in page
    link = re.search(r'download="counts.csv" href="data:text/csv;charset=utf-8;base64,([^"]+)"', page)
    assert base64.b64decode(link.group(1)).decode() == text


def test_html_cells_are_escaped():
    table = report_html.table(("x",), [["<script>alert(1)</script>"]])
    assert "<script>" not in table and "&lt;script&gt;" in table


def test_parameters_and_software_records():
    config = {"threshold": {"method": "otsu", "value": None}, "input": "Zellen µ"}
    text = report_parameters.parameters_yaml(config)
    assert yaml.safe_load(text) == config
    assert text.index("input") < text.index("threshold")  # keys sorted
    versions = report_parameters.software_versions(("numpy", "no-such-package-xyz"))
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["no-such-package-xyz"] == "not installed"
    assert "python" in versions
    tsv = report_parameters.software_tsv({"python": "3.11.7", "numpy": "2.4.6"})
    assert tsv == "package\tversion\npython\t3.11.7\nnumpy\t2.4.6\n"


# --------------------------------------------------------------------------
# The report file
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_report_holds_every_figure_table_and_run_record(reported):
    html = (reported.root / "report.html").read_text(encoding="utf-8")
    results = embedded(html, "results")
    categories = embedded(html, "categories")

    figures = {
        f"results/report/{figure}/{image}.png" for figure in FIGURES for image in IMAGE_IDS
    }
    # Tables as HTML pages only: the viewer shows nothing for a CSV, TSV or
    # YAML file, so those are downloads inside the pages.
    counts = {"results/report/counts.png", "results/report/counts.html"}
    run = {"results/report/parameters.html", "results/report/software.html"}
    assert set(results) == figures | counts | run
    assert set(categories) == {"Counts", "Images", "Run"}
    assert set(categories["Images"]) == set(FIGURES.values())
    for figure, subcategory in FIGURES.items():
        assert sorted(categories["Images"][subcategory]) == sorted(
            f"results/report/{figure}/{image}.png" for image in IMAGE_IDS
        )
    assert {p for paths in categories["Counts"].values() for p in paths} == counts
    assert {p for paths in categories["Run"].values() for p in paths} == run

    for path, entry in results.items():
        # Self-contained: every result is embedded, byte for byte.
        assert data_uri_bytes(entry["data_uri"]) == (reported.root / path).read_bytes()
        assert entry["caption"], f"{path} has no caption"
        if path.endswith(".png"):
            assert entry["mime_type"] == "image/png"
        if path in figures:
            image = Path(path).stem
            assert entry["labels"] == {"image": image}
            assert image in entry["caption"]
    assert not any(path.endswith((".tif", ".tiff")) for path in results)

    description = embedded(html, "workflow-desc")
    assert "Look before you trust the numbers" in description
    assert "the otsu threshold of each image" in description
    assert "erosion ×2, dilation ×14, erosion ×4 with a cross footprint" in description
    assert "scikit-image segmentation\ntutorial, pixel for pixel" in description
    assert "rule graph on the right" in description
    for table in ("counts.html", "parameters.html", "software.html"):
        page = data_uri_bytes(results[f"results/report/{table}"]["data_uri"]).decode()
        assert 'class="download" download="' in page, table


@pytest.mark.slow
def test_counts_table_and_run_records_say_what_ran(reported):
    report = reported.root / "results" / "report"
    table = (report / "counts.html").read_text(encoding="utf-8")
    for image in IMAGE_IDS:
        assert f"<td>{image}</td>" in table
    assert "4 images, 25 objects" in table

    parameters = yaml.safe_load((report / "parameters.yaml").read_text(encoding="utf-8"))
    assert parameters["threshold"] == {
        "method": "otsu", "value": None, "noise_floor": None, "object_fraction": None,
        "grow_dim": False,
    }
    assert parameters["qc"] == {"enabled": False}
    assert parameters["report"] == {"max_images": 24}
    software = dict(
        line.split("\t")
        for line in (report / "software.tsv").read_text(encoding="utf-8").splitlines()[1:]
    )
    for package in ("snakemake", "numpy", "scikit-image", "matplotlib", "tifffile"):
        assert software[package] == metadata.version(package)


@pytest.mark.slow
def test_max_images_limits_the_per_image_figures_to_the_first_ids(tmp_path):
    project = copy_project(tmp_path / "project")
    config_path = project.root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    for max_images, expected in ((2, IMAGE_IDS[:2]), (0, ())):
        config["report"] = {"max_images": max_images}
        config_path.write_text(yaml.safe_dump(config))
        output = project.snakemake("--dry-run").stdout
        planned = set(re.findall(r"results/report/steps/([^,\s]+)\.png", output))
        assert planned == set(expected)
        jobs = parse_job_stats(output)
        assert jobs.get("report_image", 0) == len(expected)
        assert jobs["report_counts"] == jobs["report_parameters"] == 1


# --------------------------------------------------------------------------
# The report in a browser
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_report_opens_in_chromium_without_errors_and_shows_the_images(
    chromium_binary, reported, chromium
):
    # (chromium_binary first: without Chromium, skip before running the workflow)
    report = reported.root / "report.html"
    chromium.open(report.as_uri())
    chromium.wait_until("document.querySelector('#loading-screen').style.display === 'none'")
    chromium.wait_until("document.querySelector('#app').children.length > 0")
    chromium.screenshot(ARTIFACTS / "report_home.png")

    decoded = chromium.evaluate(DECODE_ALL)
    assert len(decoded) == 3 * len(IMAGE_IDS) + 1
    for path, width, height in decoded:
        assert (width, height) == png_size(reported.root / path), path

    # As a user: Images > 1. Steps > the eye button of the first image.
    assert chromium.evaluate(f"{CLICK}('Images')")
    chromium.wait_until(f"{CLICK}('1. Steps')")
    chromium.wait_until("document.querySelectorAll('#app tr a').length > 0")
    first_row = chromium.evaluate(f"{FIRST_ROW}.innerText")
    assert first_row.split()[0] == IMAGE_IDS[0]
    chromium.evaluate(f"{FIRST_ROW}.querySelector('a').click()")
    chromium.wait_until(SHOWN_IMAGE)
    shown_length, shown_width = chromium.evaluate(SHOWN_IMAGE)
    strip = reported.root / "results" / "report" / "steps" / f"{IMAGE_IDS[0]}.png"
    assert shown_width == png_size(strip)[0]
    # Its caption: the info button next to the eye.
    chromium.evaluate(f"{FIRST_ROW}.querySelectorAll('a')[1].click()")
    chromium.wait_until("document.querySelector('#app').innerText.includes('left to right')")
    screenshot = ARTIFACTS / "report.png"
    chromium.screenshot(screenshot)

    # The counts table (an HTML page shown in a frame).
    chromium.evaluate("app.showCategory('Counts')")
    chromium.wait_until(f"{ROW_WITH}('counts.html') !== undefined")
    chromium.evaluate(f"{ROW_WITH}('counts.html').querySelector('a').click()")
    chromium.wait_until("document.querySelector('#app iframe') !== null")
    deadline = time.monotonic() + 30
    while "4 images, 25 objects" not in frame_texts(chromium):
        assert time.monotonic() < deadline, "counts table not shown"
        time.sleep(0.1)
    chromium.screenshot(ARTIFACTS / "report_counts.png")

    assert chromium.errors() == []
    assert png_size(screenshot) == WINDOW
    print(f"screenshots: {screenshot}, {ARTIFACTS / 'report_counts.png'}, "
          f"{ARTIFACTS / 'report_home.png'}")


# --------------------------------------------------------------------------
# The landing page: written from the settings of the run it shows
# --------------------------------------------------------------------------


def landing_page(wells=False, **values):
    """workflow/report/workflow.rst rendered as Snakemake renders it (Jinja
    with trim_blocks and lstrip_blocks, then docutils), as text; `wells`:
    whether the run's images have wells (common.smk tells the report)."""
    from docutils.core import publish_parts
    from jinja2 import Environment

    from scripts.config.load import load_config

    config = load_config(
        {"input": "example/images", **values}, ROOT / "workflow" / "schemas" / "config.schema.yaml"
    )
    config["report"]["has_wells"] = wells
    template = (ROOT / "workflow" / "report" / "workflow.rst").read_text(encoding="utf-8")
    links = "".join(
        f"\n.. _{name}: javascript:void(0)" for name in ("Counts", "Images", "Run", "Evaluation", "Wells")
    )
    snakemake = type("Snakemake", (), {"config": config})
    rst = Environment(trim_blocks=True, lstrip_blocks=True).from_string(template + "\n" + links)
    html = publish_parts(
        rst.render(snakemake=snakemake), writer="html", settings_overrides={"halt_level": 2}
    )["html_body"]
    return re.sub(r"<[^>]+>", "", html)


def test_landing_page_of_the_tutorial_settings():
    text = landing_page()
    assert "the otsu threshold of each image" in text
    assert "erosion ×2, dilation ×14, erosion ×4 with a cross footprint" in text
    assert "those of the scikit-image segmentation\ntutorial, pixel for pixel" in text
    assert "expected object diameter" not in text and "Evaluation" not in text
    assert "rule graph on the right" in text


def test_landing_page_of_the_nuclei_preset_describes_its_chain():
    text = landing_page(preset="nuclei")
    assert (
        "Gaussian smoothing (σ = 0.05 × d, at least 0.5 px), background correction where "
        "the background is uneven (top-hat, radius 2.0 × d), then the li threshold" in text
    )
    assert "raised to at least the background + 3.0 noise σ" in text
    assert "above 0.5 of the way from the background to its mean intensity" in text
    assert "by shape alone on textured objects" in text
    assert "or a QC flag" in text
    assert "no erosion or dilation; then holes filled up to 1.0" in text
    assert "touching objects split (distance-transform watershed weighted by the raw intensity" in text
    assert "expected object diameter d (estimated per image" in text
    assert "erosion ×2" not in text and "tutorial, pixel for pixel" not in text


def test_landing_page_of_other_settings():
    text = landing_page(
        threshold={"method": "manual", "value": 30},
        morphology={"steps": [{"operation": "opening", "iterations": 1}], "footprint_connectivity": 2},
        rescale={"percentiles": [0.5, 99.5]},
        colorize={"overlay": True, "alpha": 0.4},
        evaluation={"counts": "truth.csv"},
        diameter=12,
        cleanup={"exclude_border": True, "min_area": 30},
    )
    assert "the manual threshold 30: pixels above it are foreground" in text
    assert "opening ×1 with a 3×3 square footprint; then objects below 30 px removed, objects touching the border removed" in text
    assert "between the 0.5 and 99.5 percentiles" in text
    assert "blended over the raw image (opacity 0.4)" in text
    assert "Evaluation: what was found against the ground truth" in text
    assert "Wells" not in text


def test_landing_page_of_a_screen_points_at_the_wells():
    text = landing_page(
        wells=True,
        screen={"file_pattern": "cellprofiler", "heatmaps": ["objects_per_field", "PH3_positive_fraction"]},
    )
    assert "Wells: plate heatmaps of objects_per_field, PH3_positive_fraction" in text
    # wells from a sample sheet's well column or an OME-Zarr plate: no file pattern
    assert "Wells: plate heatmaps of objects_per_field" in landing_page(wells=True)
