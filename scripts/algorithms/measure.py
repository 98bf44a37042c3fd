"""Per-object measurements of a label image.

Pure functions on numpy arrays, 2D ``(Y, X)`` or 3D ``(Z, Y, X)``. No file I/O.
The result is a dict of equally long 1-D columns (one row per object, ordered
by label), ready for ``csv.DictWriter`` or ``pandas.DataFrame``.

Columns (``<ax>`` is ``y, x`` in 2D and ``z, y, x`` in 3D):

=========================== ======= =================================================
column                      dtype   meaning
=========================== ======= =================================================
label                       int64   label value in the label image
area_px                     int64   pixels (voxels in 3D) of the object
centroid_<ax>_px            float64 centre of mass of the object's pixels (row, col)
bbox_<ax>_min, bbox_<ax>_max int64  bounding box, ``min`` inclusive, ``max`` exclusive
equivalent_diameter_px      float64 diameter of the disc (2D) / ball (3D) of equal area
eccentricity                float64 of the ellipse with the same second moments, 0 =
                                    circle .. 1 (2D only; ``nan`` in 3D)
solidity                    float64 area / area of the convex hull (0..1], as
                                    :func:`skimage.measure.regionprops`
mean_intensity              float64 mean of `intensity` over the object (if given)
max_intensity               float64 maximum of `intensity` over the object (if given)
area_um2 / volume_um3       float64 physical area (2D) / volume (3D), if pixel size known
centroid_<ax>_um            float64 centroid in um, if pixel size known
equivalent_diameter_um      float64 from the physical area/volume, if pixel size known
=========================== ======= =================================================

Shape measures (eccentricity, solidity) are computed on the pixel grid; with
anisotropic pixels they describe the sampled, not the physical, shape.
"""

from __future__ import annotations

import numpy as np
from skimage.measure import regionprops_table

from scripts.algorithms.checks import AXES, check_intensity, check_labels, check_pixel_size


def column_names(ndim, *, intensity=True, physical=False):
    """Names of the columns :func:`measure_objects` returns, in order.

    Parameters
    ----------
    ndim : {2, 3}
    intensity : bool
        Whether an intensity image is given.
    physical : bool
        Whether the pixel size is known.

    Returns
    -------
    list of str
    """
    if ndim not in AXES:
        raise ValueError(f"ndim must be 2 or 3, got {ndim!r}")
    axes = AXES[ndim]
    names = ["label", "area_px"]
    names += [f"centroid_{a}_px" for a in axes]
    names += [f"bbox_{a}_min" for a in axes] + [f"bbox_{a}_max" for a in axes]
    names += ["equivalent_diameter_px", "eccentricity", "solidity"]
    if intensity:
        names += ["mean_intensity", "max_intensity"]
    if physical:
        names += ["area_um2" if ndim == 2 else "volume_um3"]
        names += [f"centroid_{a}_um" for a in axes]
        names += ["equivalent_diameter_um"]
    return names


def measure_objects(labels, intensity=None, pixel_size_um=None):
    """Measure every labelled object.

    Parameters
    ----------
    labels : ndarray of int, shape (Y, X) or (Z, Y, X)
        0 = background; each distinct positive value is one object (values
        need not be consecutive).
    intensity : ndarray or None, same shape as `labels`
        Raw image for the intensity columns (any real dtype; the values are
        reported in its units). ``None`` omits those columns.
    pixel_size_um : float, sequence of float, or None
        Pixel size in um, one value (isotropic) or one per axis
        (``(y, x)`` / ``(z, y, x)``). ``None`` omits the physical columns.

    Returns
    -------
    dict of str -> ndarray
        Columns named by :func:`column_names`, each of length N (number of
        objects), rows ordered by label.
    """
    labels = check_labels(labels, ndims=(2, 3))
    ndim = labels.ndim
    if intensity is not None:
        intensity = check_intensity(intensity, labels.shape)
    spacing = check_pixel_size(pixel_size_um, ndim)
    axes = AXES[ndim]
    names = column_names(
        ndim, intensity=intensity is not None, physical=spacing is not None
    )

    properties = [
        "label",
        "area",
        "centroid",
        "bbox",
        "equivalent_diameter_area",
        "solidity",
    ]
    if ndim == 2:
        properties.append("eccentricity")
    if intensity is not None:
        properties += ["intensity_mean", "intensity_max"]
    if labels.max(initial=0) == 0:
        table = None
        n = 0
    else:
        table = regionprops_table(
            labels,
            intensity_image=(
                None if intensity is None else intensity.astype(np.float64, copy=False)
            ),
            properties=properties,
        )
        n = len(table["label"])

    def col(key, dtype=np.float64):
        if table is None:
            return np.zeros(0, dtype=dtype)
        return np.asarray(table[key], dtype=dtype)

    out = {"label": col("label", np.int64), "area_px": col("area", np.int64)}
    for i, a in enumerate(axes):
        out[f"centroid_{a}_px"] = col(f"centroid-{i}")
    for i, a in enumerate(axes):
        out[f"bbox_{a}_min"] = col(f"bbox-{i}", np.int64)
    for i, a in enumerate(axes):
        out[f"bbox_{a}_max"] = col(f"bbox-{ndim + i}", np.int64)
    out["equivalent_diameter_px"] = col("equivalent_diameter_area")
    out["eccentricity"] = col("eccentricity") if ndim == 2 else np.full(n, np.nan)
    out["solidity"] = col("solidity")
    if intensity is not None:
        out["mean_intensity"] = col("intensity_mean")
        out["max_intensity"] = col("intensity_max")
    if spacing is not None:
        size = out["area_px"] * float(np.prod(spacing))
        if ndim == 2:
            out["area_um2"] = size
            out["equivalent_diameter_um"] = 2.0 * np.sqrt(size / np.pi)
        else:
            out["volume_um3"] = size
            out["equivalent_diameter_um"] = np.cbrt(6.0 * size / np.pi)
        for i, a in enumerate(axes):
            out[f"centroid_{a}_um"] = out[f"centroid_{a}_px"] * spacing[i]
    return {name: out[name] for name in names}


#: The statistics of :func:`channel_intensities`, in column order.
INTENSITY_STATISTICS = ("mean", "integrated", "max", "std")


def object_pixels(labels):
    """Where every object's pixels are, grouped by object: what
    :func:`channel_intensities` needs of the labels, worked out once for
    all the channels of an image.

    Returns
    -------
    dict
        ``pixels`` (flat indices of the objects' pixels, sorted by label),
        ``labels`` (int64, the objects present, ascending), ``starts`` and
        ``counts`` (each object's run in ``pixels``), ``shape``.
    """
    labels = check_labels(labels, ndims=(2, 3))
    flat_labels = labels.ravel()
    foreground = np.flatnonzero(flat_labels)
    order = np.argsort(flat_labels[foreground], kind="stable")
    pixels = foreground[order]
    present, starts, counts = np.unique(flat_labels[pixels], return_index=True, return_counts=True)
    return {
        "pixels": pixels,
        "labels": present.astype(np.int64),
        "starts": starts,
        "counts": counts,
        "shape": labels.shape,
    }


def channel_intensities(labels, image, objects=None):
    """Intensity of every labelled object in one channel.

    Parameters
    ----------
    labels : ndarray of int, shape (Y, X) or (Z, Y, X)
        0 = background.
    image : ndarray, same shape
        The channel (any real dtype; values in its own units).
    objects : dict or None
        :func:`object_pixels` of `labels`, when several channels of one
        image are measured (computed here otherwise).

    Returns
    -------
    dict of str -> ndarray
        ``label`` (int64) and, per object in label order, the ``mean``,
        ``integrated`` (sum over the object's pixels), ``max`` and ``std``
        (population standard deviation, from the deviations to the mean, not
        the difference of two large sums) of `image` (float64): one
        ``reduceat`` over the objects' pixels each, a small cost next to
        reading the channel.
    """
    objects = objects if objects is not None else object_pixels(labels)
    image = check_intensity(image, objects["shape"], name="channel")
    present, starts, counts = objects["labels"], objects["starts"], objects["counts"]
    if present.size == 0:
        empty = np.zeros(0)
        return {"label": present, "mean": empty, "integrated": empty, "max": empty, "std": empty}
    values = image.ravel()[objects["pixels"]].astype(np.float64)
    sums = np.add.reduceat(values, starts)
    means = sums / counts
    deviations = values - np.repeat(means, counts)
    return {
        "label": present,
        "mean": means,
        "integrated": sums,
        "max": np.maximum.reduceat(values, starts),
        "std": np.sqrt(np.add.reduceat(deviations * deviations, starts) / counts),
    }
