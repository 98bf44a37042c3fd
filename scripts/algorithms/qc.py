"""Quality flags: when an image's count cannot be trusted.

Pure functions on numpy arrays and numbers; no file I/O. The threshold step
measures how the count moves under a small change of the threshold
(:func:`threshold_counts`); the label step adds what the labels show and
writes the reasons (:func:`qc_reasons`), which ``results/counts.csv`` carries
in its ``qc`` column (empty when nothing is wrong).

Each reason is a short phrase a user can act on (look at the image):

``unstable count``
    the number of objects changes by more than half when the threshold
    moves by :data:`THRESHOLD_STEP` of its height above the background: the
    threshold sits in the noise, or in a haze that objects merge through.
``objects far below d``
    the median object is smaller than a disc of :data:`SMALL_DIAMETER_RATIO`
    x the expected diameter: nuclei cut into pieces, or noise counted.
``d re-estimated``
    the first estimate of the expected diameter was contradicted by the
    thresholded objects (much thicker) and raised to their thickness
    (:func:`scripts.algorithms.diameter.raised_diameter_px`): a few very
    bright objects outshone the nuclei; the count is better than with the
    first d, but still the least sure of the set.
``foreground over half the image``
    more than :data:`MAX_FOREGROUND` of the image is inside objects: the
    threshold took the background (or the objects are not nuclei).
``no objects``
    nothing found (an empty field, or a threshold above everything).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from scripts.algorithms.checks import check_image, check_labels, check_mask

#: Relative move of the threshold (of its height above the background level)
#: for the stability check.
THRESHOLD_STEP = 0.15
#: A count that changes by more than this fraction under that move is unstable.
MAX_COUNT_CHANGE = 0.5
#: Objects whose median equivalent diameter is below this fraction of d are
#: "far below d".
SMALL_DIAMETER_RATIO = 0.5
#: Foreground fraction above which the segmentation took the background.
MAX_FOREGROUND = 0.5
#: Components smaller than a disc of d / 4 are not counted by the stability
#: check (the chain drops or merges pieces that small).
MIN_COMPONENT_RATIO = 0.0625
#: Without an expected diameter, components below this many pixels are not counted.
MIN_COMPONENT_PX = 9


def count_components(mask, min_area_px):
    """Connected components (full connectivity) of at least `min_area_px` pixels."""
    mask = check_mask(mask)
    labels, count = ndi.label(mask, ndi.generate_binary_structure(mask.ndim, mask.ndim))
    if count == 0:
        return 0
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    return int(np.count_nonzero(areas >= min_area_px))


def threshold_counts(image, threshold, background, min_area_px, step=THRESHOLD_STEP):
    """Object-sized components at a slightly lower, the same, and a slightly
    higher threshold.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The image the threshold was computed on.
    threshold : float or None
        Pixels strictly above it are foreground.
    background : float
        The background level (:func:`scripts.algorithms.levels.background_stats`);
        the threshold moves by `step` x its height above this level, the
        height taken as at least `step` x the threshold's absolute value
        (a move of at least `step`² x |threshold| when it is at the
        background).
    min_area_px : float
        Components below this are not counted.
    step : float

    Returns
    -------
    list of three int: ``[lower, at, higher]``; ``[0, 0, 0]`` without a
    threshold.
    """
    image = check_image(image)
    if threshold is None:
        return [0, 0, 0]
    height = max(threshold - background, abs(threshold) * step, 1e-12)
    return [
        count_components(image > threshold + sign * step * height, min_area_px)
        for sign in (-1, 0, 1)
    ]


def unstable(counts, max_change=MAX_COUNT_CHANGE):
    """Whether ``[lower, at, higher]`` counts change by more than `max_change`
    of the count at the threshold (at least 1)."""
    lower, at, higher = counts
    return max(abs(lower - at), abs(higher - at)) > max_change * max(at, 1)


def median_object_diameter(labels):
    """Median equivalent diameter (px) of the labelled objects; 0 without any."""
    labels = check_labels(labels)
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    if areas.size == 0:
        return 0.0
    exponent = 1.0 / labels.ndim
    volume = np.pi / 4 if labels.ndim == 2 else np.pi / 6
    return float(np.median((areas / volume) ** exponent))


def qc_reasons(
    *,
    objects,
    foreground_fraction,
    median_diameter_px=None,
    diameter_px=None,
    threshold_counts=None,
    diameter_raised=False,
):
    """The reasons to check an image by eye (empty when there are none).

    Parameters
    ----------
    objects : int
        Objects found.
    foreground_fraction : float in [0, 1]
    median_diameter_px : float or None
        :func:`median_object_diameter` of the labels.
    diameter_px : float or None
        The expected diameter d (None: the size check is skipped).
    threshold_counts : list of three int or None
        :func:`threshold_counts` (None: the stability check is skipped).
    diameter_raised : bool
        Whether the threshold step raised the estimated d.

    Returns
    -------
    list of str, in the order of the module's table.
    """
    reasons = []
    if threshold_counts is not None and unstable(threshold_counts):
        reasons.append("unstable count")
    if (
        objects
        and diameter_px
        and median_diameter_px is not None
        and median_diameter_px < SMALL_DIAMETER_RATIO * diameter_px
    ):
        reasons.append("objects far below d")
    if diameter_raised:
        reasons.append("d re-estimated")
    if foreground_fraction > MAX_FOREGROUND:
        reasons.append("foreground over half the image")
    if objects == 0:
        reasons.append("no objects")
    return reasons
