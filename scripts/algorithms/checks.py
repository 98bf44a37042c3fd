"""Argument checks of the public array functions: one home for all of them.

Each check returns the value in the form the caller computes with (a bool
mask, a float, a tuple of floats) or raises ``ValueError`` with a message
that names the argument, what is allowed and what was given. Internal helpers
trust their callers and do not check again.
"""

from __future__ import annotations

import numbers

import numpy as np

#: Axis names by number of dimensions (messages and column names).
AXES = {2: ("y", "x"), 3: ("z", "y", "x")}


def check_ndim(array, name, ndims=(2, 3)):
    """`array` as an ndarray whose number of dimensions is one of `ndims`."""
    array = np.asarray(array)
    if array.ndim not in ndims:
        allowed = " or ".join(
            {2: "2D (Y, X)", 3: "3D (Z, Y, X)"}.get(n, f"{n}D") for n in ndims
        )
        raise ValueError(f"{name} must be {allowed}, got shape {array.shape}")
    return array


def check_image(image, name="image"):
    """A 2D or 3D image of integers or floats (not bool), as an ndarray."""
    image = check_ndim(image, name)
    if image.dtype == bool or not (
        np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)
    ):
        raise ValueError(f"{name} dtype must be an integer or float type, got {image.dtype}")
    return image


def check_mask(mask, name="mask", ndims=None):
    """`mask` as a bool array (integers: non-zero is True).

    `ndims` (e.g. ``(2, 3)``) restricts the number of dimensions; None
    accepts any array with at least one.
    """
    mask = np.asarray(mask)
    if ndims is not None:
        mask = check_ndim(mask, name, ndims)
    elif mask.ndim < 1:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    if mask.dtype != bool:
        if not np.issubdtype(mask.dtype, np.integer):
            raise ValueError(f"{name} must be bool or integer (0/non-zero), got {mask.dtype}")
        mask = mask != 0
    return mask


def check_labels(labels, name="labels", ndims=None):
    """`labels` as a non-negative integer label image (0 = background).

    A boolean mask is refused with a hint to label it first; `ndims` as for
    :func:`check_mask`.
    """
    labels = np.asarray(labels)
    if ndims is not None:
        labels = check_ndim(labels, name, ndims)
    if labels.dtype == bool:
        raise ValueError(
            f"{name} must be an integer label image, got a boolean mask "
            "(label it first, e.g. scipy.ndimage.label)"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must be an integer label image, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must be non-negative, got minimum {labels.min()}")
    return labels


def check_intensity(image, shape, name="intensity", of="labels"):
    """`image` as a numeric (not bool) ndarray of `shape`: an intensity
    image measured over, or weighting, a mask or labels (`of`)."""
    image = np.asarray(image)
    if image.shape != tuple(shape):
        raise ValueError(f"{name} shape {image.shape} must equal {of} shape {tuple(shape)}")
    if image.dtype == bool or not np.issubdtype(image.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {image.dtype}")
    return image


def check_connectivity(connectivity, ndim):
    """`connectivity` as an int in 1..ndim; None means ndim (full)."""
    if connectivity is None:
        return ndim
    if (
        isinstance(connectivity, bool)
        or not isinstance(connectivity, numbers.Integral)
        or not 1 <= connectivity <= ndim
    ):
        raise ValueError(
            f"connectivity must be an integer in 1..{ndim} for {ndim}D input, "
            f"got {connectivity!r}"
        )
    return int(connectivity)


def check_number(name, value, *, allow_none=True, minimum=0.0, strict=False, unit=""):
    """`value` as a float that is finite and >= `minimum` (> with `strict`);
    None passes when `allow_none`. `unit` is named in the message."""
    if value is None and allow_none:
        return None
    in_unit = f" ({unit})" if unit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        none = "None or " if allow_none else ""
        raise ValueError(f"{name} must be {none}a finite number{in_unit}, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}{in_unit}, got {value!r}")
    return float(value)


def check_count(name, value):
    """`value` as an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def check_lengths(name, value, ndim=None):
    """`value` as a float >= 0, or with `ndim` also a sequence of `ndim`
    such floats (one per axis); returned as a float or a tuple."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        values, scalar = (float(value),), True
    else:
        per_axis = f" or a sequence of {ndim} numbers (one per axis)" if ndim else ""
        try:
            values = tuple(float(v) for v in value)
        except TypeError:
            raise ValueError(f"{name} must be a number >= 0{per_axis}, got {value!r}") from None
        scalar = False
        if ndim is None or len(values) != ndim:
            raise ValueError(f"{name} must be a number >= 0{per_axis}, got {value!r}")
    for v in values:
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return values[0] if scalar else values


def check_pixel_size(pixel_size_um, ndim):
    """Pixel size in um as an array of `ndim` values, one per axis (z, y, x);
    a single number is isotropic; None passes."""
    if pixel_size_um is None:
        return None
    if isinstance(pixel_size_um, numbers.Real) and not isinstance(pixel_size_um, bool):
        sizes = (float(pixel_size_um),) * ndim
    else:
        try:
            sizes = tuple(float(s) for s in pixel_size_um)
        except TypeError:
            raise ValueError(
                f"pixel_size_um must be a number or a sequence of {ndim} numbers, "
                f"got {pixel_size_um!r}"
            ) from None
        if len(sizes) != ndim:
            raise ValueError(
                f"pixel_size_um needs {ndim} values (one per axis {AXES[ndim]}), "
                f"got {pixel_size_um!r}"
            )
    if any(not np.isfinite(s) or s <= 0 for s in sizes):
        raise ValueError(f"pixel_size_um must be > 0 (um), got {pixel_size_um!r}")
    return np.array(sizes)
