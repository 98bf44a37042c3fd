"""Step 1, threshold: separate foreground from background with a global threshold.

Snakemake rule: ``threshold`` (workflow/rules/threshold.smk), config keys
``threshold``, ``preprocess``, ``diameter``. Output:
``results/threshold/<image>.tif`` (uint8 mask, 0 or 255) and
``results/threshold/<image>.json`` (the threshold value, image facts and the
expected object diameter ``diameter_px`` the later steps use).

With ``preprocess`` on, the image is smoothed and/or background-corrected
(:mod:`scripts.algorithms.preprocess`) before the threshold; the expected diameter is
found here, once per image, when a step needs it, and an estimated one is
raised when the thresholded objects are much thicker
(:func:`threshold_with_diameter`; the JSON then keeps the first estimate in
``diameter_first_estimate_px``). ``threshold.noise_floor``
and ``threshold.object_fraction`` add the levels of
:mod:`scripts.algorithms.levels` (:func:`adaptive_threshold`); with
``qc.enabled`` the JSON also holds the count stability check of
:mod:`scripts.algorithms.qc` (``qc_threshold_counts``).
"""

from __future__ import annotations

import numpy as np
from skimage import filters

from scripts import units
from scripts.algorithms.diameter import expected_diameter_px, raised_diameter_px
from scripts.algorithms.levels import (
    background_stats,
    grow_dim_objects,
    pixel_noise_sigma,
    refine_per_object,
    smoothed_noise_factor,
)
from scripts.algorithms.qc import MIN_COMPONENT_PX, MIN_COMPONENT_RATIO, threshold_counts
from scripts.algorithms.preprocess import preprocess
from scripts.imaging import mask_to_uint8, open_image, write_json, write_tiff
from scripts.runtime.jobs import job_log, provenance

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
#: Methods that work on the histogram; for integer images it is counted here
#: in blocks (:func:`integer_histogram`), the same counts without the 8 bytes
#: per pixel that skimage's own ``np.bincount`` over the whole image takes.
HISTOGRAM_METHODS = ("otsu", "yen", "isodata", "minimum")


def compute_threshold(image, method="otsu", value=None):
    """Global threshold of a grayscale image or volume.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X), integer or float
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
        if method in HISTOGRAM_METHODS and np.issubdtype(image.dtype, np.integer):
            return float(METHODS[method](hist=integer_histogram(image)))
        return float(METHODS[method](image))
    except RuntimeError:  # threshold_minimum: "Unable to find two maxima"
        return None


def integer_histogram(image, block=1 << 20):
    """Counts of every value from the image's minimum to its maximum.

    Equals ``skimage.exposure.histogram(image, source_range="image")`` for
    integer images (what the thresholds of :data:`HISTOGRAM_METHODS` use),
    counted `block` pixels at a time so that memory stays small.

    Returns
    -------
    counts : ndarray of int64
    values : ndarray of int64, ``arange(image.min(), image.max() + 1)``
    """
    low, high = int(image.min()), int(image.max())
    counts = np.zeros(high - low + 1, dtype=np.int64)
    flat = image.reshape(-1)
    for start in range(0, flat.size, block):
        part = flat[start : start + block].astype(np.int64)
        part -= low
        counts += np.bincount(part, minlength=counts.size)
    return counts, np.arange(low, high + 1)


def missing_threshold_reason(image, method, threshold):
    """Why `threshold` is None ("" when it is not), for the log and the table."""
    if threshold is not None:
        return ""
    if image.size == 0 or image.min() == image.max():
        return "constant image: no threshold, no objects"
    return f"threshold method {method!r} found no threshold (histogram without two peaks)"


def apply_threshold(image, threshold):
    """Boolean foreground mask ``image > threshold`` (all False if None)."""
    if threshold is None:
        return np.zeros(image.shape, dtype=bool)
    return image > threshold


def adaptive_threshold(prepared, settings, noise_sigma=None):
    """The threshold and mask of the prepared image with the optional levels
    of ``threshold.noise_floor`` and ``threshold.object_fraction``, and
    with ``threshold.grow_dim`` (which needs both) the dim objects grown
    from the noise floor (:mod:`scripts.algorithms.levels`).

    Parameters
    ----------
    prepared : ndarray
        The image after :func:`prepare`.
    settings : dict
        The ``threshold`` config section.
    noise_sigma : float or None
        The noise standard deviation of `prepared` for the noise floor
        (:func:`prepared_noise_sigma`); None: the spread of its pixels
        below Otsu (:func:`scripts.algorithms.levels.background_stats`).

    Returns
    -------
    threshold : float or None
        The global threshold: the method's, raised to the noise floor when
        one is set and higher.
    mask : ndarray of bool
    """
    threshold = compute_threshold(prepared, settings["method"], settings["value"])
    floor_k = settings.get("noise_floor")
    fraction = settings.get("object_fraction")
    if threshold is None or (floor_k is None and not fraction):
        return threshold, apply_threshold(prepared, threshold)
    level, sigma = background_stats(prepared)
    if noise_sigma is not None:
        sigma = noise_sigma
    floor = None if floor_k is None else level + floor_k * sigma
    if floor is not None:
        threshold = max(threshold, floor)
    mask = apply_threshold(prepared, threshold)
    if fraction:
        mask = refine_per_object(prepared, mask, level, fraction)
        if settings.get("grow_dim") and floor is not None:
            mask |= grow_dim_objects(prepared, threshold, level, floor, fraction)
    return threshold, mask


def threshold_with_diameter(
    image, settings, preprocess_settings, diameter_px, recheck=False, fine_scale_noise=True
):
    """Prepare and threshold one image whose lengths follow `diameter_px`,
    raising an estimated diameter that the thresholded objects contradict.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The raw gray image.
    settings : dict
        The ``threshold`` config section.
    preprocess_settings : dict or None
        The ``preprocess`` section when it is on (:func:`prepare`).
    diameter_px : float or None
        The expected diameter d, pixels.
    recheck : bool
        True when d was estimated from the image (``diameter: auto``): if
        the mask's objects are much thicker than d
        (:func:`scripts.algorithms.diameter.raised_diameter_px`), d is
        raised to their thickness and the image prepared and thresholded
        again with it (twice the work, on those images only).
    fine_scale_noise : bool
        The noise floor's sigma from the raw image's finest scale
        (:func:`prepared_noise_sigma`); False: from the spread of the
        prepared image's darker pixels, as before issue 16's second round
        (for the accuracy benchmark's ablation).

    Returns
    -------
    prepared : ndarray
        The image the threshold was computed on (:func:`prepare`).
    threshold : float or None
    mask : ndarray of bool
    diameter_px : float or None
        The d the result was computed with.
    raised_from_px : float or None
        The estimate d was raised from; None when it stood.
    """
    noise = None
    if settings.get("noise_floor") is not None and fine_scale_noise:
        noise = pixel_noise_sigma(image)
    prepared = prepare(image, preprocess_settings, diameter_px)
    threshold, mask = adaptive_threshold(
        prepared, settings, prepared_noise_sigma(noise, preprocess_settings, diameter_px, image.ndim)
    )
    raised = None
    if recheck and diameter_px and threshold is not None:
        raised = raised_diameter_px(mask, diameter_px)
    if raised is None:
        return prepared, threshold, mask, diameter_px, None
    prepared = prepare(image, preprocess_settings, raised)
    threshold, mask = adaptive_threshold(
        prepared, settings, prepared_noise_sigma(noise, preprocess_settings, raised, image.ndim)
    )
    return prepared, threshold, mask, raised, diameter_px


def stability_counts(prepared, threshold, diameter_px):
    """The QC's count stability check of the threshold step: object-sized
    components at the threshold and at a slightly lower and higher one
    (:func:`scripts.algorithms.qc.threshold_counts`), components below a
    disc of d / 4 (without d: 9 px) not counted."""
    min_area = MIN_COMPONENT_PX
    if diameter_px:
        min_area = MIN_COMPONENT_RATIO * units.object_size_px(diameter_px, prepared.ndim)
    level, _ = background_stats(prepared)
    return threshold_counts(prepared, threshold, level, min_area)


def prepared_noise_sigma(raw_sigma, settings, diameter_px, ndim):
    """The noise standard deviation left in the :func:`prepare`d image:
    the raw image's (:func:`scripts.algorithms.levels.pixel_noise_sigma`;
    None passes through) times what the smoothing of the ``preprocess``
    `settings` (None: off) takes away."""
    if raw_sigma is None or not settings:
        return raw_sigma
    sigma_px = units.smoothing_sigma_px(settings, diameter_px)
    return raw_sigma * smoothed_noise_factor(sigma_px, ndim)


def prepare(image, settings, diameter_px):
    """The image the threshold is computed on: `image` itself, or smoothed
    and background-corrected (float32) as the ``preprocess`` `settings` say
    (None: off), with lengths scaled by `diameter_px`."""
    if not settings:
        return image
    background = settings["background"]
    return preprocess(
        image,
        smooth_sigma_px=units.smoothing_sigma_px(settings, diameter_px),
        background_radius_px=units.background_radius_px(settings, diameter_px),
        background_method="tophat" if background == "none" else background,
    )


def run(input, output, params, log):
    """Snakemake entry point: raw image -> mask TIFF + threshold JSON."""
    settings = params.settings
    with job_log(log[0], "threshold", input.image) as note:
        loaded = open_image(input.image, **params.reading)
        image, calibration = loaded.pixels, loaded.calibration
        for line in loaded.notes:
            note(line)
        note(f"read {image.shape} {image.dtype}, {calibration}")
        recorded = dict(settings)
        diameter_px, diameter_source = None, None
        if params.diameter:
            diameter_px, diameter_source = expected_diameter_px(
                image,
                params.diameter["value"],
                params.diameter["unit"],
                calibration.pixel_size_um,
            )
            note(f"expected diameter {diameter_px:.2f} px ({diameter_source})")
            recorded["diameter_px"] = diameter_px
        if params.preprocess:
            recorded["preprocess"] = params.preprocess
        prepared, threshold, mask, diameter_px, raised_from_px = threshold_with_diameter(
            image,
            settings,
            params.preprocess,
            diameter_px,
            recheck=diameter_source == "estimated",
        )
        if raised_from_px is not None:
            diameter_source = "raised to the thresholded objects"
            note(
                f"expected diameter raised from {raised_from_px:.2f} to "
                f"{diameter_px:.2f} px: the thresholded objects are that thick"
            )
            recorded["diameter_px"] = diameter_px
        threshold_note = missing_threshold_reason(prepared, settings["method"], threshold)
        if threshold_note:
            note(f"{threshold_note}: empty mask")
        note(f"threshold {threshold}, foreground {mask.mean():.4f}")
        qc_fields = {}
        if getattr(params, "qc", False):
            counts = stability_counts(prepared, threshold, diameter_px)
            note(f"QC: components at a lower, the same, a higher threshold: {counts}")
            qc_fields["qc_threshold_counts"] = counts
        write_tiff(
            output.mask,
            mask_to_uint8(mask),
            provenance("threshold", recorded, params.source),
            calibration=calibration,
            compression=params.compression,
        )
        write_json(
            output.stats,
            {
                "image": params.image_id,
                "source": params.source,
                "threshold": threshold,
                "threshold_method": settings["method"],
                "threshold_note": threshold_note,
                "shape": list(image.shape),
                "dtype": str(image.dtype),
                "pixel_size_um": calibration.pixel_size_um,
                "z_spacing_um": calibration.z_spacing_um,
                "diameter_px": diameter_px,
                "diameter_source": diameter_source,
                "diameter_first_estimate_px": raised_from_px,
                **qc_fields,
            },
        )
