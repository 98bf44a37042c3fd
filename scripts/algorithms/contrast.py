"""Contrast stretching: ``skimage.exposure.rescale_intensity`` between the
minimum and maximum or two percentiles (the tutorial's 0.5 and 99.5).

Used by the rescale step and by the report's histograms of the raw image.
For uint8 the function is evaluated once per possible value and applied as a
lookup table (same result, much faster). Pure functions; no file I/O.
"""

from __future__ import annotations

import numpy as np
from skimage import exposure


def intensity_range(image, percentiles=None):
    """The input range to stretch: ``(min, max)`` or the two percentiles.

    Parameters
    ----------
    image : ndarray
    percentiles : (float, float) or None
        Lower and upper percentile in [0, 100], lower < upper.

    Returns
    -------
    (low, high) : tuple of float, in the image's units.
    """
    if percentiles is None:
        return float(image.min()), float(image.max())
    low, high = percentiles
    if not 0 <= low < high <= 100:
        raise ValueError(
            f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles}"
        )
    values = np.percentile(image, (low, high))
    return float(values[0]), float(values[1])


def rescale(image, percentiles=None, in_range=None):
    """Stretch `image` so that its intensity range fills the dtype's range.

    Parameters
    ----------
    image : ndarray, any shape, integer or float
    percentiles : (float, float) or None
        See :func:`intensity_range`.
    in_range : (float, float) or None
        :func:`intensity_range` of `image` when the caller has it already.

    Returns
    -------
    ndarray, the shape and dtype of `image`; see
    ``skimage.exposure.rescale_intensity`` for the arithmetic (values are
    truncated towards zero, as the tutorial shows: uint8
    ``[2, 40, 100, 205, 250]`` becomes ``[0, 39, 100, 208, 255]``).
    """
    if in_range is None:
        in_range = intensity_range(image, percentiles)
    if image.dtype == np.uint8:
        table = exposure.rescale_intensity(
            np.arange(256, dtype=np.uint8), in_range=in_range
        )
        return table[image]
    return exposure.rescale_intensity(image, in_range=in_range)
