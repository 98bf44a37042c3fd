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
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from scripts.report import counts as report_counts
from scripts.report import html as report_html
from scripts.report import parameters as report_parameters
from tests.workflow_copy import ROOT, copy_project, parse_job_stats

IMAGE_IDS = ("four_cells", "nuclei_16bit", "nuclei_8bit", "nuclei_png")
FIGURES = {"steps": "1. Steps", "outlines": "2. Outlines", "histograms": "3. Histograms"}
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests" / "artifacts"
WINDOW = (1400, 1000)


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
    assert parameters["threshold"] == {"method": "otsu", "value": None}
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


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (``--remote-debugging-pipe``: commands on fd 3, replies on fd 4, each a
    JSON message ended by a NUL byte). No extra Python package needed."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--remote-debugging-pipe",
    )

    def __init__(self, binary, window=WINDOW):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()
        command = [
            str(binary),
            *self.FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={window[0]},{window[1]}",
            "about:blank",
        ]
        # A tiny Python launcher puts the pipe ends on fds 3 and 4, then
        # becomes Chromium (no preexec_fn: not safe with threads).
        launcher = (
            "import fcntl, os, sys\n"
            "ends = [fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]]\n"
            "os.dup2(ends[0], 3)\n"
            "os.dup2(ends[1], 4)\n"
            "os.execv(sys.argv[3], sys.argv[3:])\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher, str(to_browser), str(from_browser), *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_browser, from_browser),
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._last_id = 0
        self.events = []
        self.session = None

    def _receive(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer")
            if select.select([self._replies], [], [], remaining)[0]:
                chunk = os.read(self._replies, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, *, browser=False, timeout=60):
        """Send a command (to the page unless `browser`); return its result."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params or {}}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive(timeout)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method, timeout=60):
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            event = self._receive(deadline - time.monotonic())
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url, window=WINDOW):
        """A new tab showing `url`, loaded; later commands go to it."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, browser=True)
        self.session = self.call(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            browser=True,
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": window[0], "height": window[1], "deviceScaleFactor": 1, "mobile": False},
        )
        self.call("Page.navigate", {"url": url})
        self.wait_for_event("Page.loadEventFired")

    def evaluate(self, expression):
        """Value of a JavaScript expression in the page (promises awaited)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} raised {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression, timeout=30):
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(base64.b64decode(data))

    def errors(self):
        """JavaScript exceptions, console errors and failed loads so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("exception", params))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(params["args"])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"])
        return found

    def close(self):
        try:
            self.call("Browser.close", browser=True, timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._replies)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium_binary():
    """Path of Chromium; skip without it (fail if CI_REQUIRE_CHROMIUM=1)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} not found (Debian: apt-get install chromium)"
        if os.environ.get("CI_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message + "; CI_REQUIRE_CHROMIUM=1")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def chromium(chromium_binary):
    browser = Chromium(chromium_binary)
    yield browser
    browser.close()


# Click the first link of the report's app whose text is `text`.
CLICK = """(text => {
    const link = Array.from(document.querySelectorAll('#app a'))
        .find(a => a.innerText.trim() === text);
    if (link) { link.click(); }
    return Boolean(link);
})"""
# The first row of the results table with a view button, and the row naming `text`.
FIRST_ROW = "Array.from(document.querySelectorAll('#app tr')).find(row => row.querySelector('a'))"
ROW_WITH = """(text => Array.from(document.querySelectorAll('#app tr'))
    .find(row => row.querySelector('a') && row.innerText.includes(text)))"""
# [path, natural width, natural height] of every embedded PNG, decoded by the browser.
DECODE_ALL = """Promise.all(
    Object.entries(results)
        .filter(([path, entry]) => entry.mime_type === 'image/png')
        .map(([path, entry]) => new Promise(done => {
            const image = new Image();
            image.onload = () => done([path, image.naturalWidth, image.naturalHeight]);
            image.onerror = () => done([path, 0, 0]);
            image.src = entry.data_uri;
        })))"""
# The image shown in the content area, once decoded.
SHOWN_IMAGE = """(() => {
    const image = Array.from(document.querySelectorAll('#app img'))
        .find(img => img.src.startsWith('data:image/png'));
    return image && image.complete && image.naturalWidth > 0
        ? [image.src.length, image.naturalWidth] : null;
})()"""


def png_size(path):
    header = Path(path).read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def frame_texts(browser):
    """Text of every element in the page, iframes included."""
    document = browser.call("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    texts, stack = [], [document]
    while stack:
        node = stack.pop()
        if node.get("nodeType") == 3:
            texts.append(node.get("nodeValue", ""))
        stack.extend(node.get("children", []))
        if "contentDocument" in node:
            stack.append(node["contentDocument"])
    return " ".join(texts)


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
