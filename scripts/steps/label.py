"""Step 3, label: give every connected object its own integer.

Snakemake rule: ``label``, config keys ``label`` and ``measure``. Output:
``results/label/<image>.tif`` (uint16, or uint32 above 65,535 objects; 0 is
background), ``results/label/<image>.json`` (the image's row of the counts
table, so the counts rule never re-reads a TIFF) and, with measurements on,
``results/objects/<image>.csv`` (one row per object, :mod:`scripts.tables.objects`).

With ``label.declump.enabled`` touching objects are split
(:func:`scripts.algorithms.declump.split_touching`, lengths scaled by the expected
diameter of the threshold step's JSON), so that every object has one label.
With ``qc.enabled`` the JSON row gets ``qc``, the reasons to check the image
by eye (:func:`quality_flags`), which results/counts.csv carries.
"""

from __future__ import annotations

import numpy as np
from skimage import measure

from scripts import units
from scripts.algorithms.declump import split_touching, split_touching_guarded
from scripts.imaging import open_image, read_json, read_tiff, write_json, write_text, write_tiff
from scripts.runtime.jobs import job_log, provenance
from scripts.algorithms.measure import measure_objects
from scripts.algorithms.qc import median_object_diameter, qc_reasons
from scripts.tables.objects import objects_csv

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


def declump_objects(mask, settings, diameter_px, intensity=None):
    """Labels of a boolean mask with touching objects split.

    Parameters
    ----------
    mask : ndarray of bool, shape (Y, X) or (Z, Y, X)
    settings : dict
        The ``label`` config section (``connectivity``, ``declump``).
    diameter_px : float
        Expected object diameter; the declump lengths are multiples of it.
    intensity : ndarray or None
        The raw image, for ``declump.intensity_weight`` > 0.

    Returns
    -------
    labels : ndarray, uint16 or uint32 (raster order, as :func:`label_objects`)
    count : int

    Notes
    -----
    With ``declump.max_texture`` or ``declump.max_density`` set, textured
    objects are split by shape alone: when the intensity has more than
    ``max_texture`` local maxima per disc of diameter d of foreground, or
    the intensity-weighted split gives more than ``max_density`` objects
    per disc (:func:`scripts.algorithms.declump.split_touching_guarded`).
    """
    kwargs = units.declump_px(settings["declump"], diameter_px, mask.ndim)
    if kwargs["intensity_weight"] == 0:
        intensity = None
    guards = {
        key: settings["declump"].get(key) for key in ("max_density", "max_texture")
    }
    if any(guards.values()):
        labels = split_touching_guarded(
            mask,
            intensity=intensity,
            connectivity=settings["connectivity"],
            object_size_px=units.object_size_px(diameter_px, mask.ndim),
            **guards,
            **kwargs,
        )
    else:
        labels = split_touching(
            mask, intensity=intensity, connectivity=settings["connectivity"], **kwargs
        )
    count = int(labels.max(initial=0))
    return smallest_label_dtype(labels, count), count


def quality_flags(labels, count, row):
    """The QC reasons of one image (:func:`scripts.algorithms.qc.qc_reasons`)
    from its labels and its threshold step's row, joined by "; " ("" when
    the count can be trusted)."""
    reasons = qc_reasons(
        objects=count,
        foreground_fraction=foreground_fraction(labels),
        median_diameter_px=median_object_diameter(labels),
        diameter_px=row.get("diameter_px"),
        threshold_counts=row.get("qc_threshold_counts"),
        diameter_raised=row.get("diameter_first_estimate_px") is not None,
    )
    return "; ".join(reasons)


def run(input, output, params, log):
    """Snakemake entry point: mask TIFF -> label TIFF + the image's counts row
    (+ the objects table)."""
    settings = params.settings
    with job_log(log[0], "label", input.mask) as note:
        mask, calibration = read_tiff(input.mask)
        row = read_json(input.threshold_stats)
        raw = None
        if input.image:
            raw = open_image(input.image[0], **params.reading).pixels
        if settings["declump"]["enabled"]:
            labels, count = declump_objects(mask > 0, settings, row["diameter_px"], raw)
            note(f"declumped with d = {row['diameter_px']:.2f} px")
        else:
            labels, count = label_objects(mask > 0, settings["connectivity"])
        note(f"{count} objects, label dtype {labels.dtype}")
        write_tiff(
            output.labels,
            labels,
            provenance("label", settings, params.source),
            calibration=calibration,
            compression=params.compression,
        )
        row.update(objects=count, foreground_fraction=foreground_fraction(labels))
        if getattr(params, "qc", False):
            row["qc"] = quality_flags(labels, count, row)
            note(f"QC: {row['qc'] or 'fine'}")
        write_json(output.stats, row)
        if params.measure:
            table = measure_objects(labels, raw, units.axis_spacing_um(calibration, labels.ndim))
            write_text(output.objects, objects_csv(params.image_id, table))
            note(f"measured {count} objects")
