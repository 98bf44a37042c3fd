"""Step 1, threshold: separate foreground from background with a global threshold.

Snakemake rule: ``threshold`` (workflow/rules/threshold.smk), config key
``threshold``. Output: ``results/threshold/<image>.tif`` (uint8 mask, 0 or 255)
and ``results/threshold/<image>.json`` (the threshold value and image facts).
"""

from __future__ import annotations

import numpy as np
from skimage import filters

from scripts.imaging import read_image, write_json, write_tiff
from scripts.jobs import job_log, mask_to_uint8, provenance

#: Global methods of ``skimage.filters`` the workflow accepts, by config name.
METHODS = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "yen": filters.threshold_yen,
    "triangle": filters.threshold_triangle,
    "isodata": filters.threshold_isodata,
    "mean": filters.threshold_mean,
    "minimum": filters.threshold_minimum,
}
#: Pixel value of foreground in mask TIFFs (what Fiji expects of a binary image).
MASK_ON = 255


def compute_threshold(image, method="otsu", value=None):
    """Global threshold of a grayscale image.

    Parameters
    ----------
    image : ndarray, shape (Y, X), integer or float
    method : str
        A key of :data:`METHODS`, or ``"manual"`` to use `value`.
    value : float or None
        The threshold for ``method="manual"``, in the image's own units.

    Returns
    -------
    threshold : float or None
        In the image's units; pixels strictly greater are foreground.
        ``None`` when the image is constant (or the method cannot find a
        threshold, as ``minimum`` on a histogram without two peaks): there is
        no foreground to separate, so the mask is empty.
    """
    if method == "manual":
        if value is None:
            raise ValueError("threshold method 'manual' needs threshold.value")
        return float(value)
    if method not in METHODS:
        raise ValueError(
            f"unknown threshold method {method!r}; allowed: "
            f"{', '.join([*METHODS, 'manual'])}"
        )
    if image.size == 0 or image.min() == image.max():
        return None
    try:
        return float(METHODS[method](image))
    except RuntimeError:  # threshold_minimum: "Unable to find two maxima"
        return None


def apply_threshold(image, threshold):
    """Boolean foreground mask ``image > threshold`` (all False if None)."""
    if threshold is None:
        return np.zeros(image.shape, dtype=bool)
    return image > threshold


def run(input, output, params, log):
    """Snakemake entry point: raw image -> mask TIFF + threshold JSON."""
    settings = params.settings
    with job_log(log[0], "threshold", input.image) as note:
        image, pixel_size_um = read_image(
            input.image,
            channel=params.reading["channel"],
            max_pixels=params.reading["max_pixels"],
        )
        note(f"read {image.shape} {image.dtype}, pixel size {pixel_size_um} um")
        threshold = compute_threshold(image, settings["method"], settings["value"])
        mask = apply_threshold(image, threshold)
        if threshold is None:
            note("constant image: no threshold, empty mask")
        note(f"threshold {threshold}, foreground {mask.mean():.4f}")
        write_tiff(
            output.mask,
            mask_to_uint8(mask),
            provenance("threshold", settings, params.source),
            pixel_size_um=pixel_size_um,
            compression=params.compression,
        )
        write_json(
            output.stats,
            {
                "image": params.image_id,
                "source": params.source,
                "threshold": threshold,
                "threshold_method": settings["method"],
                "shape": list(image.shape),
                "dtype": str(image.dtype),
                "pixel_size_um": pixel_size_um,
            },
        )
