"""Threshold levels that follow the image's noise and each object's brightness.

Two additions to a global threshold (pure functions on numpy arrays, 2D
``(Y, X)`` or 3D ``(Z, Y, X)``; no file I/O):

* :func:`noise_floor`: the background level plus ``k`` noise standard
  deviations, measured robustly on the image itself. A global threshold
  below it (Li or Otsu pulled down into the noise of a dim image, where
  hundreds of noise specks then become objects) is raised to it.
* :func:`refine_per_object`: a second, per-object level. Every connected
  component of the global mask keeps only its pixels above ``fraction`` of
  the way from the background to its own mean, so a dim nucleus and a bright
  one are both cut at the same relative height, and the blurred halo that
  joins a bright nucleus to its neighbours at a low global threshold drops.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import filters

from scripts.algorithms.checks import check_image, check_mask, check_number

#: MAD to standard deviation for normally distributed noise.
MAD_TO_SIGMA = 1.4826


def background_stats(image):
    """Robust background level and noise of an image of bright objects.

    The background pixels are those at or below the image's Otsu threshold;
    their median is the level and 1.4826 x their median absolute deviation
    the noise standard deviation (the objects' pixels, and bright outliers
    among the rest, do not move either).

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X), integer or float

    Returns
    -------
    level, sigma : float, float
        In the image's units; ``(level, 0.0)`` for a constant image.
    """
    values = check_image(image).astype(np.float32, copy=False).ravel()
    if values.size == 0 or values.min() == values.max():
        return (float(values[0]) if values.size else 0.0), 0.0
    below = values[values <= filters.threshold_otsu(values)]
    level = float(np.median(below))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(below - level)))
    return level, sigma


def noise_floor(image, k):
    """The lowest meaningful threshold: background level + `k` x noise sigma.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The image the threshold is computed on (smoothed and background
        corrected when those steps are on: the noise measured is then the
        noise left after them).
    k : float >= 0

    Returns
    -------
    float, in the image's units (see :func:`background_stats`).
    """
    k = check_number("k", k, allow_none=False)
    level, sigma = background_stats(image)
    return level + k * sigma


def refine_per_object(image, mask, background, fraction):
    """Cut every object of `mask` at `fraction` of its own height.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The image the global threshold was computed on.
    mask : ndarray of bool, same shape
        The global threshold's foreground.
    background : float
        The background level, in the image's units
        (:func:`background_stats`).
    fraction : float in [0, 1)
        A pixel of a component stays foreground when it is above
        ``background + fraction x (mean - background)``, with ``mean`` the
        component's mean intensity (steadier than its maximum, which one
        bright pixel sets); 0 keeps the mask as it is.

    Returns
    -------
    ndarray of bool, same shape, a subset of `mask`. A component may split
    into several (two nuclei joined by a halo), never grow.
    """
    image = check_image(image)
    mask = check_mask(mask, ndims=(2, 3))
    fraction = check_number("fraction", fraction, allow_none=False)
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
    if image.shape != mask.shape:
        raise ValueError(f"image shape {image.shape} must equal mask shape {mask.shape}")
    if fraction == 0 or not mask.any():
        return mask
    labels, count = ndi.label(mask, ndi.generate_binary_structure(mask.ndim, mask.ndim))
    values = image.astype(np.float32, copy=False)
    means = ndi.mean(values, labels, np.arange(1, count + 1))
    cut = np.concatenate([[np.inf], background + fraction * (means - background)])
    return mask & (values > cut[labels])
