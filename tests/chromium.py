"""Headless Chromium driven over the DevTools protocol, for the report tests.

Without ``/usr/bin/chromium`` (Debian package ``chromium``) the browser
tests are skipped, unless ``CI_REQUIRE_CHROMIUM=1`` (then they fail).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.workflow_copy import ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests" / "artifacts"
WINDOW = (1400, 1000)


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
