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
* :func:`grow_dim_objects`: the other direction, for objects so dim that
  their own half height lies below the global threshold. Only the noise
  peaks of such a nucleus rise above that threshold, so it would come out
  as a handful of specks; instead the connected region around those peaks
  above the noise floor is cut at its own height (a hysteresis from the
  noise floor), and the nucleus is one object.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import filters

from scripts.algorithms.checks import check_image, check_mask, check_number

#: MAD to standard deviation for normally distributed noise.
MAD_TO_SIGMA = 1.4826
#: Truncation of the threshold step's Gaussian smoothing, in sigmas
#: (:func:`scripts.algorithms.preprocess.gaussian_smooth`).
SMOOTH_TRUNCATE = 3.0


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


def pixel_noise_sigma(image):
    """Standard deviation of the pixel noise of a raw image, from its finest
    scale, which the objects barely reach.

    A robust form of Immerkaer's estimate (1996): every (Y, X) plane is
    filtered with the second difference ``[1, -2, 1]`` along Y and along X
    (zero on any intensity that is linear along an axis: smooth object
    interiors, gradients, blurred edges), and the median absolute response,
    divided by 0.6745 (MAD of a unit normal) and by 6 (the filter's norm),
    is the sigma of white noise. Unlike the spread of the darker pixels
    (:func:`background_stats`), it does not grow when dim objects, gaps
    between packed nuclei or blur fill the image.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X), integer or float

    Returns
    -------
    float, in the image's units; 0.0 for an image under 3 x 3 px.
    """
    values = check_image(image).astype(np.float32, copy=False)
    if values.shape[-1] < 3 or values.shape[-2] < 3:
        return 0.0
    along_y = values[..., :-2, :] - 2 * values[..., 1:-1, :] + values[..., 2:, :]
    both = along_y[..., :-2] - 2 * along_y[..., 1:-1] + along_y[..., 2:]
    return float(np.median(np.abs(both))) * MAD_TO_SIGMA / 6.0


def smoothed_noise_factor(sigma_px, ndim):
    """The factor by which the threshold step's Gaussian smoothing (sigma
    `sigma_px` on every axis, truncated at :data:`SMOOTH_TRUNCATE` sigmas)
    reduces the standard deviation of white noise: the L2 norm of its
    kernel (1.0 for no smoothing; about 0.28 for 1 px in 2D)."""
    if sigma_px <= 0:
        return 1.0
    radius = int(SMOOTH_TRUNCATE * sigma_px + 0.5)
    impulse = np.zeros(2 * radius + 1)
    impulse[radius] = 1.0
    kernel = ndi.gaussian_filter1d(impulse, sigma_px, mode="constant", truncate=SMOOTH_TRUNCATE)
    return float(np.sqrt(np.sum(kernel**2))) ** ndim


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


def grow_dim_objects(image, threshold, background, floor, fraction):
    """The dim objects of `image`, grown from their pixels above `threshold`
    down to their own height.

    Every connected region above `floor` that holds pixels above `threshold`
    (its *core*) gets the cut ``background + fraction x (core mean -
    background)``, the per-object level of :func:`refine_per_object` measured
    on the core. Where that cut lies below `threshold` the region is dim
    (its core is a few noise peaks of a nucleus barely above the threshold),
    and its pixels above the cut that are connected to the core are
    returned; brighter regions, whose cut is at or above `threshold`, are
    left to :func:`refine_per_object` and not returned.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The image the global threshold was computed on.
    threshold : float
        The global threshold (pixels strictly above it are the cores).
    background : float
        The background level (:func:`background_stats`).
    floor : float
        The lowest level a dim object may reach (:func:`noise_floor`); when
        it is at or above `threshold` nothing grows.
    fraction : float in (0, 1)
        As in :func:`refine_per_object`.

    Returns
    -------
    ndarray of bool, same shape: the grown dim objects only (union it with
    the per-object mask). Every returned pixel is above `floor`.
    """
    image = check_image(image)
    fraction = check_number("fraction", fraction, allow_none=False)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    values = image.astype(np.float32, copy=False)
    if floor >= threshold:
        return np.zeros(values.shape, dtype=bool)
    structure = ndi.generate_binary_structure(values.ndim, values.ndim)
    regions, count = ndi.label(values > floor, structure)
    if count == 0:
        return np.zeros(values.shape, dtype=bool)
    core = values > threshold
    index = np.arange(1, count + 1)
    core_pixels = ndi.sum(core, regions, index)
    core_sums = ndi.sum(np.where(core, values, 0), regions, index)
    core_means = core_sums / np.maximum(core_pixels, 1)
    cut = background + fraction * (core_means - background)
    dim = (core_pixels > 0) & (cut < threshold)
    cut = np.concatenate([[np.inf], np.where(dim, cut, np.inf)])
    grown = values > cut[regions]
    parts, part_count = ndi.label(grown, structure)
    if part_count == 0:
        return grown
    holds_core = np.bincount(parts[core], minlength=part_count + 1) > 0
    holds_core[0] = False
    return holds_core[parts]
