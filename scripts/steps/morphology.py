"""Step 2, morphology: clean the mask with a sequence of binary operations.

Snakemake rule: ``morphology``, config keys ``morphology`` and ``cleanup``.
Output: ``results/morphology/<image>.tif`` (uint8 mask, 0 or 255).

With ``cleanup`` on, the operations are followed by :func:`scripts.algorithms.cleanup.cleanup`
(fill holes, size range, border), areas converted to pixels with the
expected diameter and the pixel size (:func:`scripts.units.cleanup_px`).

The default sequence is the tutorial's: erosion x2, dilation x14, erosion x4,
each with the cross-shaped (connectivity-1) footprint. The tutorial loops over
``skimage.morphology.binary_erosion``/``binary_dilation`` (deprecated in
scikit-image 0.26); here each run of iterations is one
``scipy.ndimage`` call, which gives the same pixels about five times faster.
The border handling matches scikit-image: outside the image counts as
foreground for erosion (objects are not eaten from the edge) and as
background for dilation.
"""

from __future__ import annotations

from scipy import ndimage as ndi

from scripts import units
from scripts.algorithms.cleanup import cleanup
from scripts.imaging import mask_to_uint8, read_json, read_tiff, write_tiff
from scripts.runtime.jobs import job_log, provenance

OPERATIONS = ("erosion", "dilation", "opening", "closing")
TUTORIAL_STEPS = (("erosion", 2), ("dilation", 14), ("erosion", 4))


def footprint(ndim=2, connectivity=1):
    """Boolean footprint: connectivity 1 is the cross, `ndim` the full square."""
    if not 1 <= connectivity <= ndim:
        raise ValueError(
            f"footprint connectivity must be between 1 and {ndim}, got {connectivity}"
        )
    return ndi.generate_binary_structure(ndim, connectivity)


def _erode(mask, structure, iterations):
    return ndi.binary_erosion(
        mask, structure=structure, iterations=iterations, border_value=1
    )


def _dilate(mask, structure, iterations):
    return ndi.binary_dilation(
        mask, structure=structure, iterations=iterations, border_value=0
    )


def apply_operation(mask, operation, iterations, structure):
    """One step: `operation` repeated `iterations` times (0 leaves the mask)."""
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    if iterations == 0:  # ndimage reads 0 as "until nothing changes"
        return mask
    if operation == "erosion":
        return _erode(mask, structure, iterations)
    if operation == "dilation":
        return _dilate(mask, structure, iterations)
    if operation == "opening":
        return _dilate(_erode(mask, structure, iterations), structure, iterations)
    if operation == "closing":
        return _erode(_dilate(mask, structure, iterations), structure, iterations)
    raise ValueError(
        f"unknown morphology operation {operation!r}; allowed: {', '.join(OPERATIONS)}"
    )


def apply_sequence(mask, steps=TUTORIAL_STEPS, connectivity=1):
    """Apply ordered ``(operation, iterations)`` steps to a boolean mask.

    Parameters
    ----------
    mask : ndarray of bool, any dimension
    steps : sequence of (str, int)
        Operations from :data:`OPERATIONS` and how often each is repeated.
    connectivity : int
        Footprint: 1 = cross (the tutorial's default), ``mask.ndim`` = square.

    Returns
    -------
    ndarray of bool, same shape as `mask`.
    """
    structure = footprint(mask.ndim, connectivity)
    result = mask.astype(bool, copy=False)
    for operation, iterations in steps:
        result = apply_operation(result, operation, int(iterations), structure)
    return result


def clean(mask, settings, diameter_px=None, pixel_area_um=None):
    """:func:`scripts.algorithms.cleanup.cleanup` of a boolean mask with the ``cleanup``
    config `settings` (plus ``connectivity``, the label step's), areas
    converted to pixels (:func:`scripts.units.cleanup_px`)."""
    kwargs = units.cleanup_px(settings, diameter_px, pixel_area_um, mask.ndim)
    return cleanup(mask, connectivity=settings["connectivity"], **kwargs)


def run(input, output, params, log):
    """Snakemake entry point: threshold mask TIFF -> cleaned mask TIFF."""
    settings = params.settings
    steps = [(step["operation"], step["iterations"]) for step in settings["steps"]]
    with job_log(log[0], "morphology", input.mask) as note:
        mask, calibration = read_tiff(input.mask)
        cleaned = apply_sequence(mask > 0, steps, settings["footprint_connectivity"])
        note(f"steps {steps}: foreground {mask.mean() / 255:.4f} -> {cleaned.mean():.4f}")
        recorded = settings
        if params.cleanup:
            diameter_px = read_json(input.threshold_stats)["diameter_px"]
            cleaned = clean(
                cleaned, params.cleanup, diameter_px, units.pixel_area_um(calibration, mask.ndim)
            )
            note(f"cleanup {params.cleanup}: foreground -> {cleaned.mean():.4f}")
            recorded = dict(settings, cleanup=params.cleanup)
        write_tiff(
            output.mask,
            mask_to_uint8(cleaned),
            provenance("morphology", recorded, params.source),
            calibration=calibration,
            compression=params.compression,
        )
