"""QC figures of one image for the report: steps, outlines, histograms.

Snakemake rule: ``report_image`` (``workflow/rules/report.smk``), config key
``report.max_images`` (how many images get figures). Outputs, all PNG:

- ``results/report/steps/<image>.png``: the raw image and every step's TIFF
  in two rows (:func:`scripts.report.figures.strip_picture`);
- ``results/report/outlines/<image>.png``: object outlines over the
  contrast-stretched raw image (:func:`scripts.report.figures.display_overlay`);
- ``results/report/histograms/<image>.png``: intensity histograms of the raw
  image before and after the configured rescaling
  (:func:`scripts.report.figures.histogram_picture`).

All three are drawn pixel by pixel with Pillow (about 0.2 s per image), not
with matplotlib, which took 0.6 s.
"""

from __future__ import annotations

from scripts.report import figures
from scripts.imaging import open_image, read_tiff
from scripts.runtime.jobs import job_log
from scripts.algorithms.contrast import rescale


def rescale_label(percentiles):
    """How the rescale step is configured, in words."""
    if percentiles is None:
        return "min-max"
    low, high = percentiles
    return f"percentiles {low:g}-{high:g}"


def run(input, output, params, log):
    """Snakemake entry point: raw image + step TIFFs -> three PNG figures."""
    with job_log(log[0], "report_image", params.source) as note:
        raw = open_image(input.image, **params.reading).pixels
        arrays = [(step, read_tiff(path)[0]) for step, path in zip(params.steps, input.steps)]
        figures.save_png(
            output.steps, figures.strip_picture(figures.step_panels(raw, arrays), image_id=params.image_id)
        )
        note(f"wrote {output.steps}")
        labels = dict(arrays)[figures.LABEL_STEP]
        figures.save_png(output.outlines, figures.display_overlay(raw, labels, params.colors))
        note(f"wrote {output.outlines}")
        figures.save_png(
            output.histogram,
            figures.histogram_picture(raw, rescale(raw, params.percentiles), rescale_label(params.percentiles)),
        )
        note(f"wrote {output.histogram}")
