"""Results in other formats: the label image as OME-Zarr labels.

Snakemake rule: ``ome_zarr`` (``workflow/rules/label.smk``; only with
``output_format: ome-zarr``). Writes ``results/ome-zarr/<image>.zarr``: the
segmented channel of the raw image as an OME-Zarr image (NGFF 0.4, its pixel
size in µm) and the label image as its labels ``labels/segmentation``, the
layout napari's OME-Zarr plugin opens with the labels over the image.
"""

from __future__ import annotations

from scripts.formats import omezarr
from scripts.imaging import open_image, read_tiff
from scripts.runtime.jobs import job_log

#: Name of the label image inside the OME-Zarr group.
LABELS_NAME = "segmentation"


def run(input, output, params, log):
    """Snakemake entry point: raw image + label TIFF -> results/ome-zarr/<image>.zarr."""
    with job_log(log[0], "ome_zarr", params.source) as note:
        raw = open_image(input.image, **params.reading)
        labels, calibration = read_tiff(input.labels)
        if labels.shape != raw.pixels.shape:
            raise ValueError(f"label image {labels.shape} and raw image {raw.pixels.shape} differ")
        omezarr.write_image(
            output.zarr,
            raw.pixels,
            calibration.pixel_size_um,
            calibration.z_spacing_um,
            name=params.image_id,
        )
        omezarr.write_labels(output.zarr, LABELS_NAME, labels)
        note(f"wrote {output.zarr} with labels/{LABELS_NAME} ({int(labels.max(initial=0))} objects)")
