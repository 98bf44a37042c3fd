"""scripts.runtime.resources: memory and time of every job, from the image's header."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from scripts.runtime.resources import MEM_BASE_MB, MEM_PER_INPUT_MB, JobResources


@pytest.fixture
def images(tmp_path):
    """A 1000 x 1000 uint8 image stored compressed (decodes to 1 MB, at least
    2 bytes per pixel count: 2 MB) and a 500 x 500 uint16 one (0.5 MB)."""
    big = tmp_path / "big.tif"
    tifffile.imwrite(big, np.zeros((1000, 1000), np.uint8), compression="zlib")
    small = tmp_path / "small.tif"
    tifffile.imwrite(small, np.zeros((500, 500), np.uint16))
    return {"big": str(big), "small": str(small)}


def test_memory_grows_with_the_decoded_pixels_and_the_attempt(images):
    resources = JobResources(images, max_pixels=10**9)
    big = SimpleNamespace(image="big")
    label = resources.mem_mb("label")
    assert label(big, 1) == MEM_BASE_MB + MEM_PER_INPUT_MB["label"] * 2
    assert label(big, 2) == 2 * label(big, 1)
    assert label(SimpleNamespace(image="small"), 1) == MEM_BASE_MB + MEM_PER_INPUT_MB["label"] * 0.5


def test_a_job_running_several_steps_gets_the_largest_share(images):
    resources = JobResources(images, max_pixels=10**9)
    fused = resources.mem_mb("threshold", "colorize", "rescale")
    assert fused(SimpleNamespace(image="big"), 1) == resources.mem_mb("colorize")(
        SimpleNamespace(image="big"), 1
    )


def test_a_header_past_max_pixels_counts_as_its_file_size(images):
    resources = JobResources(images, max_pixels=100)
    file_mb = resources.file_mb(images["small"])
    assert resources.decoded_mb(images["small"]) == pytest.approx(file_mb)


def test_runtime_and_the_whole_run_rules(images):
    resources = JobResources(images, max_pixels=10**9)
    small = SimpleNamespace(image="small")
    assert resources.runtime_min()(small, 1) == 5
    assert resources.runtime_min(steps=5)(small, 2) == 50
    assert resources.evaluate_mem_mb(None, 1) == MEM_BASE_MB + MEM_PER_INPUT_MB["evaluate"] * 2
    assert resources.check_images_mem_mb(None, 1, 2) == MEM_BASE_MB + 2 * 6 * 2
    assert resources.check_images_runtime_min(None, 3, 2) == 15
