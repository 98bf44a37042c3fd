"""Optional cleanup of a binary mask after morphology.

Fill holes, keep objects inside a size range, drop objects touching the image
border. Pure functions on numpy arrays, 2D ``(Y, X)`` or 3D ``(Z, Y, X)``
(any n >= 1 in fact). No file I/O.

Objects of a boolean mask are its connected components; `connectivity`
follows :func:`scipy.ndimage.generate_binary_structure`: 1 = faces only
(4-connected in 2D, 6 in 3D), ``ndim`` = full (8 in 2D, 26 in 3D, the
default, as ``skimage.measure.label``). Label images (integer arrays) are
used as they are: every distinct non-zero value is one object.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage as ndi

from scripts.algorithms.checks import check_connectivity, check_mask, check_number

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _components(mask, connectivity):
    structure = ndi.generate_binary_structure(mask.ndim, connectivity)
    labels, n = ndi.label(mask, structure=structure)
    return labels, n


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def fill_holes(mask, max_hole_area_px=None):
    """Fill background regions fully enclosed by foreground.

    Parameters
    ----------
    mask : ndarray of bool (or integer, non-zero = foreground), any dimension
    max_hole_area_px : float or None
        ``None`` fills every hole. Otherwise only holes with at most this many
        pixels (inclusive) are filled, so that background enclosed by a ring of
        touching nuclei is kept.

    Returns
    -------
    ndarray of bool, same shape.

    Notes
    -----
    Holes are background components that do not touch the image border,
    with face connectivity (4 in 2D / 6 in 3D), the complement of the full
    connectivity used for objects -- the same as
    :func:`scipy.ndimage.binary_fill_holes`. In 3D a hole must be enclosed in
    3D; to fill per plane call this on each Z slice.
    """
    mask = check_mask(mask)
    max_hole = check_number("max_hole_area_px", max_hole_area_px, unit="pixels")
    # background components (face connectivity); those touching the border are not holes
    background, n = _components(~mask, 1)
    if n == 0:
        return mask.copy()
    is_hole = np.ones(n + 1, dtype=bool)
    is_hole[0] = False
    for axis in range(mask.ndim):
        is_hole[np.take(background, 0, axis=axis).ravel()] = False
        is_hole[np.take(background, -1, axis=axis).ravel()] = False
    if max_hole is not None:
        is_hole &= np.bincount(background.ravel(), minlength=n + 1) <= max_hole
    return mask | is_hole[background]


_fill_holes = fill_holes  # reachable inside cleanup(), whose argument shadows the name


def filter_by_size(
    labels_or_mask, min_area_px=None, max_area_px=None, *, connectivity=None
):
    """Remove objects whose pixel count is outside ``[min_area_px, max_area_px]``.

    Parameters
    ----------
    labels_or_mask : ndarray, bool (mask) or integer (labels), any dimension
        A boolean mask is split into connected components with
        `connectivity`; an integer array is taken as a label image.
    min_area_px, max_area_px : float or None
        Inclusive bounds in pixels (voxels in 3D): an object with exactly
        ``min_area_px`` or ``max_area_px`` pixels is KEPT. ``None`` = no
        bound. For physical limits use :func:`scripts.units.area_in_px`.
    connectivity : int or None
        For boolean input only; ``None`` = full (``ndim``).

    Returns
    -------
    ndarray
        Same dtype and shape as the input: bool mask with removed objects set
        to False, or labels with removed objects set to 0 (other labels keep
        their values).

    Raises
    ------
    ValueError
        On negative / non-finite bounds or ``min_area_px > max_area_px``.
    """
    arr = np.asarray(labels_or_mask)
    lo = check_number("min_area_px", min_area_px, unit="pixels")
    hi = check_number("max_area_px", max_area_px, unit="pixels")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"min_area_px ({lo}) must be <= max_area_px ({hi})")
    if arr.dtype == bool:
        labels, n = _components(arr, check_connectivity(connectivity, arr.ndim))
    elif np.issubdtype(arr.dtype, np.integer):
        if arr.size and arr.min() < 0:
            raise ValueError("label image must be non-negative, got negative values")
        labels, n = arr, int(arr.max()) if arr.size else 0
    else:
        raise ValueError(f"labels_or_mask must be bool or integer, got {arr.dtype}")
    if lo is None and hi is None or n == 0:
        return arr.copy()
    if arr.dtype != bool and n > 4 * arr.size:
        # sparse huge label values: compress first
        uniq, inv = np.unique(arr, return_inverse=True)
        keep_u = _keep_by_size(np.bincount(inv.ravel()), lo, hi)
        keep_u[uniq == 0] = False
        keep = keep_u[inv.reshape(arr.shape)]
    else:
        keep = _keep_by_size(np.bincount(labels.ravel(), minlength=n + 1), lo, hi)[
            labels
        ]
    if arr.dtype == bool:
        return keep
    return np.where(keep, arr, 0).astype(arr.dtype, copy=False)


def _keep_by_size(sizes, lo, hi):
    keep = np.ones(sizes.shape, dtype=bool)
    if lo is not None:
        keep &= sizes >= lo
    if hi is not None:
        keep &= sizes <= hi
    keep[0] = False
    return keep


def clear_border(labels_or_mask, *, buffer_px=0, connectivity=None):
    """Remove objects that touch (or come within `buffer_px` of) the image border.

    Parameters
    ----------
    labels_or_mask : ndarray, bool (mask) or integer (labels), any dimension
    buffer_px : int >= 0
        Width of the border band in pixels; 0 = objects with a pixel in the
        first/last row/column (plane) are removed.
    connectivity : int or None
        For boolean input only; ``None`` = full (``ndim``).

    Returns
    -------
    ndarray, same dtype and shape as the input (removed objects -> False / 0).
    """
    arr = np.asarray(labels_or_mask)
    if (
        isinstance(buffer_px, bool)
        or not isinstance(buffer_px, numbers.Integral)
        or buffer_px < 0
    ):
        raise ValueError(f"buffer_px must be an integer >= 0, got {buffer_px!r}")
    if arr.dtype == bool:
        labels, _ = _components(arr, check_connectivity(connectivity, arr.ndim))
    elif np.issubdtype(arr.dtype, np.integer):
        if arr.size and arr.min() < 0:
            raise ValueError("label image must be non-negative, got negative values")
        labels = arr
    else:
        raise ValueError(f"labels_or_mask must be bool or integer, got {arr.dtype}")
    border = np.zeros(arr.shape, dtype=bool)
    width = buffer_px + 1
    for axis in range(arr.ndim):
        index = [slice(None)] * arr.ndim
        index[axis] = slice(0, width)
        border[tuple(index)] = True
        index[axis] = slice(max(arr.shape[axis] - width, 0), None)
        border[tuple(index)] = True
    touching = np.unique(labels[border])
    touching = touching[touching != 0]
    if touching.size == 0:
        return arr.copy()
    drop = np.isin(labels, touching)
    if arr.dtype == bool:
        return arr & ~drop
    return np.where(drop, 0, arr).astype(arr.dtype, copy=False)


def cleanup(
    mask,
    *,
    fill_holes=False,
    max_hole_area_px=None,
    min_area_px=None,
    max_area_px=None,
    exclude_border=False,
    connectivity=None,
):
    """Fill holes, then size filter, then border exclusion, on a boolean mask.

    Parameters
    ----------
    mask : ndarray of bool (or integer, non-zero = foreground), any dimension
    fill_holes : bool
        Fill enclosed background (see :func:`fill_holes`).
    max_hole_area_px : float or None
        Only with `fill_holes`: largest hole filled (pixels, inclusive).
    min_area_px, max_area_px : float or None
        Inclusive pixel-count bounds (see :func:`filter_by_size`).
    exclude_border : bool
        Drop objects touching the image border (see :func:`clear_border`).
    connectivity : int or None
        Object connectivity, ``None`` = full. Should match the label step.

    Returns
    -------
    ndarray of bool, same shape. With every option off, a copy of the
    (boolean) input.

    Notes
    -----
    Objects here are connected components of the mask, i.e. touching nuclei
    still count as one object. Before declumping use a *lower* bound only (an
    upper bound would drop clumps of nuclei); to bound the size of the final
    objects, call :func:`filter_by_size` on the label image after
    :func:`scripts.algorithms.declump.split_touching` (and renumber with
    :func:`scripts.algorithms.declump.relabel_raster`). For bounds in um^2 convert
    them with :func:`scripts.units.area_in_px` first.
    """
    out = check_mask(mask)
    if not isinstance(fill_holes, (bool, np.bool_)) or not isinstance(
        exclude_border, (bool, np.bool_)
    ):
        raise ValueError(
            f"fill_holes and exclude_border must be true/false, got {fill_holes!r}, {exclude_border!r}"
        )
    connectivity = check_connectivity(connectivity, out.ndim)
    if fill_holes:
        out = _fill_holes(out, max_hole_area_px)
    elif max_hole_area_px is not None:
        check_number("max_hole_area_px", max_hole_area_px, unit="pixels")
    if min_area_px is not None or max_area_px is not None:
        out = filter_by_size(out, min_area_px, max_area_px, connectivity=connectivity)
    if exclude_border:
        out = clear_border(out, connectivity=connectivity)
    return out.copy() if out is mask else out
