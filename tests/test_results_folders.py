"""One data set, one results folder: the report always shows exactly the last
run of its folder, --directory keeps data sets apart, and command-line
config values behave (issue: reports that always match their run).

The browser checks reuse the headless Chromium of tests/test_report.py.
"""

from __future__ import annotations

import shutil
import time

import pytest
import yaml

from tests.chromium import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    CLICK,
    ROW_WITH,
    chromium,
    chromium_binary,
    frame_texts,
)
from tests.test_report import embedded
from tests.workflow_copy import copy_project, parse_job_stats

pytestmark = pytest.mark.slow

EXAMPLE_IDS = {"four_cells", "nuclei_16bit", "nuclei_8bit", "nuclei_png"}
# A second data set: two example images under other names (other ids, other folder).
PLATE_B = {"B01.tif": "nuclei_8bit.tif", "B02.png": "nuclei_png.png"}
PLATE_C = {"C07.tif": "four_cells.tif"}


def make_folder(root, files):
    root.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        shutil.copyfile(source, root / name)
    return root


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The example, then another folder, in the same project folder; then
    `snakemake --report report.html` with no options."""
    project = copy_project(tmp_path_factory.mktemp("two_runs") / "project")
    images = project.root / "example" / "images"
    plate = make_folder(
        project.root.parent / "plateB", {n: images / s for n, s in PLATE_B.items()}
    )
    project.snakemake("--cores", "2")
    second = project.snakemake("--cores", "2", "--config", f"input={plate}")
    report = project.snakemake("--report", "report.html")
    return project, plate, second, report


def report_results(project, path="report.html"):
    html = (project.root / path).read_text(encoding="utf-8")
    return html, embedded(html, "results")


def test_the_report_shows_only_the_last_run(two_runs):
    project, plate, second, _ = two_runs
    # The second run warned that results/ still holds the first one's images.
    assert "also holds the outputs of 4 images that are not part of this run" in second.stdout
    html, results = report_results(project)
    figures = {path for path in results if path.startswith("results/report/steps/")}
    assert figures == {"results/report/steps/B01.png", "results/report/steps/B02.png"}
    counts_page = (project.root / "results" / "report" / "counts.html").read_text()
    assert "<td>B01</td>" in counts_page and "<td>B02</td>" in counts_page
    assert not any(f"<td>{image}</td>" in counts_page for image in EXAMPLE_IDS)
    description = embedded(html, "workflow-desc")
    assert str(plate) in description and "example/images" not in description
    # The run's record says what ran.
    run = yaml.safe_load((project.root / "results" / "run.yaml").read_text())
    assert run["status"] == "finished" and set(run["images"]) == {"B01", "B02"}
    recorded = yaml.safe_load((project.root / "results" / "config.yaml").read_text())
    assert recorded["input"] == str(plate)


def test_the_report_is_the_recorded_run_whatever_the_folder_holds_now(two_runs, tmp_path):
    project, plate, _, _ = two_runs
    # An image added to the folder after the run is not part of that run.
    shutil.copyfile(plate / "B01.tif", plate / "B03.tif")
    try:
        project.snakemake("--report", "later.html")
        _, results = report_results(project, "later.html")
        assert "results/report/steps/B03.png" not in results
    finally:
        (plate / "B03.tif").unlink()


def test_options_given_with_the_report_must_describe_the_last_run(two_runs):
    project, plate, _, _ = two_runs
    same = project.snakemake("--report", "same.html", "--config", f"input={plate}")
    assert "Report created" in same.stdout
    refused = project.snakemake("--report", "x.html", "--config", "input=example/images", check=False)
    assert refused.returncode != 0
    assert "describe another run than the last one in this folder (they differ in: input)" in refused.stdout
    assert "Traceback" not in refused.stdout and not (project.root / "x.html").exists()


def test_a_report_in_a_folder_that_never_ran_says_what_to_run(tmp_path):
    project = copy_project(tmp_path / "fresh")
    refused = project.snakemake("--report", "report.html", check=False)
    assert refused.returncode != 0
    (line,) = [l for l in refused.stdout.splitlines() if "No run of this workflow" in l]
    assert "`snakemake --cores all --config input=/path/to/images`" in line
    assert "Traceback" not in refused.stdout and "Missing metadata" not in refused.stdout
    assert not (project.root / "report.html").exists()


def test_a_failed_run_is_not_reported(tmp_path):
    project = copy_project(tmp_path / "failing")
    bad = make_folder(tmp_path / "bad", {})
    (bad / "a.tif").write_text("not an image\n")
    shutil.copyfile(project.root / "example" / "images" / "four_cells.tif", bad / "b.tif")
    assert project.snakemake("--cores", "2", "--config", f"input={bad}", check=False).returncode != 0
    assert yaml.safe_load((project.root / "results" / "run.yaml").read_text())["status"] == "failed"
    refused = project.snakemake("--report", "report.html", check=False)
    assert refused.returncode != 0
    assert "The last run in this folder failed" in refused.stdout
    assert "`snakemake --cores all --configfile results/config.yaml`" in refused.stdout


def test_directories_keep_data_sets_apart_each_with_its_report(tmp_path):
    project = copy_project(tmp_path / "project")
    images = project.root / "example" / "images"
    plate_b = make_folder(tmp_path / "plateB", {n: images / s for n, s in PLATE_B.items()})
    plate_c = make_folder(tmp_path / "plateC", {n: images / s for n, s in PLATE_C.items()})
    for name, plate in (("outB", plate_b), ("outC", plate_c)):
        project.snakemake("--cores", "2", "--directory", name, "--config", f"input={plate}")
        project.snakemake("--report", "report.html", "--directory", name)
    assert not (project.root / "results").exists()  # nothing in the project folder
    for name, ids in (("outB", {"B01", "B02"}), ("outC", {"C07"})):
        counts = (project.root / name / "results" / "counts.csv").read_text().splitlines()
        assert {line.split(",")[0] for line in counts[1:]} == ids
        _, results = report_results(project, f"{name}/report.html")
        steps = {p.split("/")[-1][:-4] for p in results if p.startswith("results/report/steps/")}
        assert steps == ids
        assert (project.root / name / "logs" / "threshold").is_dir()
    # The project's own config and relative paths work from a --directory.
    example = project.snakemake("--cores", "2", "--directory", "outExample")
    assert "Workflow defines configfile" not in example.stdout
    counts = (project.root / "outExample" / "results" / "counts.csv").read_text()
    assert f"{images}/four_cells.tif" in counts


# --------------------------------------------------------------------------
# Command-line config values
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("cli"))


@pytest.mark.parametrize(
    "entries",
    [
        ["threshold={method: manual, value: 30}"],
        ["rescale={percentiles: [0.5, 99.5]}"],
        ["fuse_steps=false"],
        ["label={declump: {enabled: true, neck_ratio: 0.8}}", "diameter=20"],
        ["colorize={bg_color: null, overlay: true}"],
    ],
)
def test_nested_and_lowercase_values_typed_on_the_command_line_work(project, entries):
    result = project.snakemake("--dry-run", "--quiet", "rules", "--config", *entries)
    assert "Invalid configuration" not in result.stdout
    jobs = parse_job_stats(result.stdout)
    assert jobs.get("threshold" if "fuse_steps=false" in entries else "fused_steps") == 4


def test_an_unknown_key_gets_a_did_you_mean(project):
    result = project.snakemake("--dry-run", "--config", "rescal={percentiles: null}", check=False)
    assert result.returncode != 0
    assert "rescal: unknown key (did you mean 'rescale'?)" in result.stdout
    assert "Traceback" not in result.stdout


def test_a_folder_with_images_in_subfolders_gets_a_glob_hint(project, tmp_path):
    nested = make_folder(tmp_path / "plate" / "A01", {"f1.tif": project.root / "example" / "images" / "four_cells.tif"})
    result = project.snakemake("--dry-run", "--config", f"input={nested.parent}", check=False)
    assert result.returncode != 0
    assert f"--config 'input={nested.parent}/**/*.tif'" in result.stdout
    glob = project.snakemake("--dry-run", "--quiet", "rules", "--config", f"input={nested.parent}/**/*.tif")
    assert parse_job_stats(glob.stdout)["fused_steps"] == 1


# --------------------------------------------------------------------------
# In a browser
# --------------------------------------------------------------------------

# Texts of the rows of the list the report shows (image ids, file names).
ROW_TEXTS = """Array.from(document.querySelectorAll('#app tr'))
    .filter(row => row.querySelector('a')).map(row => row.innerText.trim())"""
# Width of the PNG shown in the content area, as displayed (CSS pixels).
SHOWN_WIDTH = """(() => {
    const image = Array.from(document.querySelectorAll('#app img'))
        .find(img => img.src.startsWith('data:image/png') && img.complete && img.naturalWidth > 0);
    return image ? image.getBoundingClientRect().width : 0;
})()"""


def open_report(chromium, path):
    chromium.open(path.as_uri())
    chromium.wait_until("document.querySelector('#loading-screen').style.display === 'none'")
    chromium.wait_until("document.querySelector('#app').children.length > 0")


def show_table(chromium, report, category, name, expected_text):
    """Open `report` anew, its `category`, then the HTML page `name`; wait
    for `expected_text` in its frame; return the frame's text."""
    open_report(chromium, report)
    chromium.evaluate(f"app.showCategory({category!r})")
    chromium.wait_until(f"{ROW_WITH}({name!r}) !== undefined")
    chromium.evaluate(f"{ROW_WITH}({name!r}).querySelector('a').click()")
    chromium.wait_until("document.querySelector('#app iframe') !== null")
    deadline = time.monotonic() + 30
    while expected_text not in (text := frame_texts(chromium)):
        assert time.monotonic() < deadline, f"{name}: {expected_text!r} not shown"
        time.sleep(0.1)
    return text


def test_in_the_browser_the_report_lists_only_the_last_runs_images(two_runs, chromium):
    project, _, _, _ = two_runs
    open_report(chromium, project.root / "report.html")
    assert chromium.evaluate(f"{CLICK}('Images')")
    chromium.wait_until(f"{CLICK}('1. Steps')")
    chromium.wait_until("document.querySelectorAll('#app tr a').length > 0")
    assert sorted(chromium.evaluate(ROW_TEXTS)) == ["B01", "B02"]
    text = show_table(chromium, project.root / "report.html", "Counts", "counts.html", "2 images")
    assert "B01" in text and "B02" in text
    assert not any(image in text for image in EXAMPLE_IDS)
    assert chromium.errors() == []


LONG_ID = "0402a81e75262469925ea893b6706183832e85324f7b1e08e634129f5d522cdd"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A run with ground truth and a 64-character image id, and its report."""
    root = tmp_path_factory.mktemp("evaluated")
    project = copy_project(root / "project")
    images = project.root / "example" / "images"
    folder = make_folder(
        root / "dsb", {f"{LONG_ID}.tif": images / "nuclei_8bit.tif", "short.tif": images / "four_cells.tif"}
    )
    (root / "truth.csv").write_text(f"image,true_count,dataset\n{LONG_ID},9,DSB\nshort,4,example\n")
    project.snakemake(
        "--cores", "2", "--config", f"input={folder}", f"evaluation={{counts: {root / 'truth.csv'}}}"
    )
    project.snakemake("--report", "report.html")
    return project


def test_evaluation_tables_and_plot_are_in_the_report(evaluated, chromium):
    _, results = report_results(evaluated)
    assert {"results/report/evaluation.png", "results/report/evaluation.html"} <= set(results)
    text = show_table(
        chromium, evaluated.root / "report.html", "Evaluation", "evaluation.html",
        "Accuracy against the ground truth",
    )
    assert "mean_count_error" in text and "DSB" in text and "example" in text
    assert "Download evaluation.csv" in text
    assert chromium.errors() == []


def test_long_ids_are_shortened_in_the_list_and_the_strip_keeps_big_panels(evaluated, chromium):
    open_report(chromium, evaluated.root / "report.html")
    assert chromium.evaluate(f"{CLICK}('Images')")
    chromium.wait_until(f"{CLICK}('1. Steps')")
    chromium.wait_until("document.querySelectorAll('#app tr a').length > 0")
    labels = chromium.evaluate(ROW_TEXTS)
    assert "short" in labels
    (long_label,) = [label for label in labels if label != "short"]
    assert len(long_label) <= 24 and "…" in long_label
    assert long_label.startswith(LONG_ID[:10]) and long_label.endswith(LONG_ID[-6:])
    chromium.evaluate(f"{ROW_WITH}({long_label!r}).querySelector('a').click()")
    chromium.wait_until(SHOWN_WIDTH)
    # Three panels to a row: each shown at least 300 pixels wide.
    assert chromium.evaluate(SHOWN_WIDTH) / 3 >= 300
    chromium.screenshot(ARTIFACTS / "report_long_id.png")
    assert chromium.errors() == []


def test_counts_page_rounds_numbers_and_offers_the_csv(evaluated):
    page = (evaluated.root / "results" / "report" / "counts.html").read_text()
    counts = (evaluated.root / "results" / "counts.csv").read_text()
    for row in counts.splitlines()[1:]:
        threshold = row.split(",")[3]
        assert f'<td class="number">{float(threshold):.4g}</td>' in page
    assert 'download="counts.csv"' in page
    assert "foreground_fraction: the fraction of the image inside objects" in page
