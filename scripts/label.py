"""Step 3, label: give every connected object its own integer.

Snakemake rule: ``label``, config key ``label``. Output:
``results/label/<image>.tif`` (uint16, or uint32 above 65,535 objects; 0 is
background) and ``results/label/<image>.json`` (the image's row of the counts
table, so the counts rule never re-reads a TIFF).
"""

from __future__ import annotations

import numpy as np
from skimage import measure

from scripts.imaging import read_json, read_tiff, write_json, write_tiff
from scripts.jobs import job_log, provenance

UINT16_MAX_LABEL = np.iinfo(np.uint16).max


def label_objects(mask, connectivity=None):
    """Connected-component labels of a boolean mask.

    Parameters
    ----------
    mask : ndarray of bool, any dimension
    connectivity : int or None
        1 joins pixels sharing an edge (a face in 3D); up to ``mask.ndim``
        also joins diagonal neighbours. None means ``mask.ndim``, the
        default of the tutorial's ``morphology.label``.

    Returns
    -------
    labels : ndarray, uint16 or uint32
        0 for background, 1..N numbered in raster order of each object's
        first pixel; uint32 only when N > 65,535.
    count : int
        N, the number of objects.
    """
    if connectivity is None:
        connectivity = mask.ndim
    if not 1 <= connectivity <= mask.ndim:
        raise ValueError(
            f"label connectivity must be between 1 and {mask.ndim}, got {connectivity}"
        )
    labels, count = measure.label(mask, connectivity=connectivity, return_num=True)
    return smallest_label_dtype(labels, count), int(count)


def smallest_label_dtype(labels, count):
    """Cast labels to uint16 when `count` fits, else uint32."""
    dtype = np.uint16 if count <= UINT16_MAX_LABEL else np.uint32
    return labels.astype(dtype, copy=False)


def foreground_fraction(labels):
    """Fraction of pixels (0..1) that belong to any object."""
    if labels.size == 0:
        return 0.0
    return float(np.count_nonzero(labels)) / labels.size


def run(input, output, params, log):
    """Snakemake entry point: mask TIFF -> label TIFF + the image's counts row."""
    settings = params.settings
    with job_log(log[0], "label", input.mask) as note:
        mask, calibration = read_tiff(input.mask)
        labels, count = label_objects(mask > 0, settings["connectivity"])
        note(f"{count} objects, label dtype {labels.dtype}")
        write_tiff(
            output.labels,
            labels,
            provenance("label", settings, params.source),
            calibration=calibration,
            compression=params.compression,
        )
        row = read_json(input.threshold_stats)
        row.update(objects=count, foreground_fraction=foreground_fraction(labels))
        write_json(output.stats, row)
