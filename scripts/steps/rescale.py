"""Step 5, rescale: stretch the contrast of the colorized image for viewing.

Snakemake rule: ``rescale``, config key ``rescale``. Output:
``results/rescale/<image>.tif`` (same dtype as the input, RGB uint8).

This is ``skimage.exposure.rescale_intensity``: min-max by default, or
between two percentiles (the tutorial's 0.5 and 99.5), values outside
clipped (:mod:`scripts.algorithms.contrast`, which the report's histograms
use too).
"""

from __future__ import annotations

from scripts.algorithms.contrast import intensity_range, rescale
from scripts.imaging import read_tiff, write_tiff
from scripts.runtime.jobs import job_log, provenance


def run(input, output, params, log):
    """Snakemake entry point: colorized TIFF -> contrast-stretched TIFF."""
    settings = params.settings
    with job_log(log[0], "rescale", input.rgb) as note:
        rgb, calibration = read_tiff(input.rgb)
        low, high = intensity_range(rgb, settings["percentiles"])
        note(f"stretching [{low}, {high}] to the full {rgb.dtype} range")
        write_tiff(
            output.rgb,
            rescale(rgb, in_range=(low, high)),
            provenance("rescale", settings, params.source),
            calibration=calibration,
            compression=params.compression,
        )
