"""A 10,000 x 10,000 image runs through every step within its memory request.

Each step runs as its own Snakemake process (``--until <rule>``, one core),
then the five steps as the one job of the default run (rule fused_steps),
and that process's peak resident memory (which includes Snakemake itself,
as a job of this workflow on a cluster node would) must stay below the
``mem_mb`` Snakemake gave the job and below the bound stated in the README
("Large images"). Twice: an uncompressed uint16 TIFF (200 MB), and a
zlib-compressed uint8 TIFF (a few MB on disk, 100 MB of pixels: memory
requests follow the decoded size, not the file size). Run with ``-s`` to
see the figures.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import yaml

from tests.workflow_copy import copy_project

pytestmark = pytest.mark.slow

SIZE = 10_000
#: The README's bound on the peak memory of one job at 10,000 x 10,000 uint16.
BOUND_MB = 3_500
#: Each step as its own job, then the five as one job (fuse_steps, the
#: default), then the report figures.
RULES = ("threshold", "morphology", "label", "colorize", "rescale", "fused_steps", "report_image")
#: Runs a command and prints the peak RSS (kB) of it and its children.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:]); "
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)


def big_image(size=SIZE, blobs=300, seed=0):
    """uint16 field of bright discs on a blocky, uneven background (~1 s)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 200, (size // 100, size // 100), dtype=np.uint16)
    image = np.repeat(np.repeat(coarse, 100, axis=0), 100, axis=1) + np.uint16(400)
    for _ in range(blobs):
        radius = int(rng.integers(40, 160))
        row, col = rng.integers(radius, size - radius, 2)
        yy, xx = np.ogrid[-radius : radius + 1, -radius : radius + 1]
        window = image[row - radius : row + radius + 1, col - radius : col + radius + 1]
        window[yy * yy + xx * xx <= radius * radius] = 3000 + int(rng.integers(0, 1000))
    return image


@pytest.fixture(params=["uint16", "uint8-zlib"])
def project(request, tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("large"), with_example=False)
    (project.root / "images").mkdir()
    if request.param == "uint16":
        tifffile.imwrite(project.root / "images" / "big.tif", big_image())
    else:
        pixels = (big_image() // 16).astype(np.uint8)
        tifffile.imwrite(project.root / "images" / "big.tif", pixels, compression="zlib")
    config_path = project.root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config.update(input="images")
    config_path.write_text(yaml.safe_dump(config))
    return project


def run_measured(project, *args):
    """Run Snakemake; return (its output, its peak RSS in MB)."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, sys.executable, "-m", "snakemake", *args],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    peak_kb = int(re.search(r"^PEAK_KB (\d+)$", result.stdout, re.MULTILINE).group(1))
    return result.stdout, peak_kb / 1024


def requested_mb(output, rule):
    """The mem_mb Snakemake printed for the job of `rule`."""
    block = output[output.index(f"rule {rule}:") :]
    return int(re.search(r"mem_mb=(\d+)", block).group(1))


def test_every_step_stays_within_its_memory_request_and_the_bound(project):
    figures = {}
    for rule in RULES:
        output, peak = run_measured(project, "--cores", "1", "--until", rule)
        figures[rule] = (peak, requested_mb(output, rule))
    output, peak = run_measured(project, "--cores", "1")  # counts and report tables
    figures["rest (counts, report tables)"] = (peak, None)
    print("\npeak RSS of the Snakemake process, MB (mem_mb requested):")
    for rule, (peak, requested) in figures.items():
        print(f"  {rule:30s} {peak:7.0f}  ({requested})")
    labels = tifffile.imread(project.root / "results" / "label" / "big.tif")
    assert labels.shape == (SIZE, SIZE) and labels.max() > 100
    assert (project.root / "results" / "rescale" / "big.tif").is_file()
    for rule, (peak, requested) in figures.items():
        assert peak < BOUND_MB, rule
        if requested is not None:
            assert peak < requested, rule
