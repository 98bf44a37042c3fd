"""Results in other formats: the label image as OME-Zarr labels.

Snakemake rule: ``ome_zarr`` (``workflow/rules/ome_zarr.smk``; only with
``output_format: ome-zarr``). Writes ``results/ome-zarr/<image>.zarr``: the
segmented channel of the raw image as an OME-Zarr image (NGFF 0.4, its pixel
size in µm) and the label image as its labels ``labels/segmentation``, the
layout napari's OME-Zarr plugin opens with the labels over the image.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
            raise ValueError(
                f"the label image {input.labels} has shape {labels.shape}, the raw "
                f"image {input.image} {raw.pixels.shape}"
            )
        # Image and labels are written to a hidden folder renamed into place
        # at the end: a killed job leaves no image without its labels.
        final = Path(output.zarr)
        staging = final.with_name(f".{final.name}.{os.getpid()}.part")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            omezarr.write_image(
                staging,
                raw.pixels,
                calibration.pixel_size_um,
                calibration.z_spacing_um,
                name=params.image_id,
            )
            omezarr.write_labels(staging, LABELS_NAME, labels)
            omezarr.replace_folder(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        note(f"wrote {final} with labels/{LABELS_NAME} ({int(labels.max(initial=0))} objects)")
