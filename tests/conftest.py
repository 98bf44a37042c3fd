"""Shared test set-up: the project root on sys.path and the bundled example."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLE_IMAGES = sorted(
    path
    for path in (ROOT / "example" / "images").iterdir()
    if path.suffix.lower() in (".tif", ".tiff", ".png")
)


@pytest.fixture(params=EXAMPLE_IMAGES, ids=[path.name for path in EXAMPLE_IMAGES])
def example_image(request):
    """Path of one bundled example image (the test runs once per image)."""
    return request.param


def pytest_collection_modifyitems(items):
    """Fast unit tests first, then the real workflow runs, SLURM last: a
    broken function fails in seconds, before minutes of integration tests."""

    def cost(item):
        return ("slow" in item.keywords) + 2 * ("slurm" in item.keywords)

    items.sort(key=cost)  # stable: file order is kept within each group
