"""Split touching objects of a binary mask into one label per object.

Pure functions on numpy arrays (2D ``(Y, X)`` or 3D ``(Z, Y, X)``). No file I/O.

Method (classic shape-based declumping, made scale-free):

1. Euclidean distance transform (EDT) of the mask: every foreground pixel gets
   its distance to the nearest background pixel; a round object becomes a
   "mountain" whose summit height is its radius. Optionally the EDT is
   smoothed (``smooth_sigma_px``) and multiplied by the smoothed intensity
   (``intensity``), so that dark gaps between touching nuclei deepen the
   valleys between their summits.
2. Over-segmentation: watershed of the negated landscape from *every*
   regional maximum.
3. Merging by relative depth ("dynamics"): neighbouring regions are merged,
   highest pass first, unless the pass (saddle) between them is lower than
   ``neck_ratio`` times the lower of the two summits. For the plain EDT this
   reads: touching blobs stay apart only if the neck between them is narrower
   than ``neck_ratio`` x (radius of the smaller blob). The criterion is a
   ratio, so it needs no object size and treats 10 px and 100 px nuclei
   alike. It is the same rule (up to ties) as keeping the maxima of
   :func:`skimage.morphology.h_maxima` on ``log(landscape)`` with
   ``h = -log(neck_ratio)``, at a fraction of the cost (one watershed plus a
   union-find over region pairs).
   Optionally, two nucleus-sized regions whose union would be larger than
   ``max_area_px`` stay apart even across a wide pass (blurred or packed
   nuclei, whose necks blur shut), and regions whose summits are closer than
   ``min_distance_px``, or that are smaller than ``min_area_px``, are merged
   as well.
4. Labels renumbered 1..N in raster order of each object's first pixel, so the
   same input always gives the same labels.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage as ndi
from skimage import morphology, segmentation

from scripts.algorithms.checks import check_connectivity, check_intensity, check_mask, check_number

#: Default neck ratio (see :func:`split_touching`).
DEFAULT_NECK_RATIO = 0.9
#: Least rise of a counted intensity maximum, as a fraction of the
#: intensity range inside the mask (:func:`texture_maxima`).
TEXTURE_H = 0.05


# --------------------------------------------------------------------------
# public helpers
# --------------------------------------------------------------------------


def relabel_raster(labels):
    """Renumber labels 1..N in raster (C) order of each object's first pixel.

    Parameters
    ----------
    labels : ndarray of int, any dimension, 0 = background

    Returns
    -------
    ndarray of int32, same shape; 0 stays 0.
    """
    labels = np.asarray(labels)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an integer array, got {labels.dtype}")
    flat = labels.ravel()
    values, first = np.unique(flat, return_index=True)
    keep = values != 0
    values, first = values[keep], first[keep]
    if values.size == 0:
        return np.zeros(labels.shape, dtype=np.int32)
    if values[0] < 0:
        raise ValueError("labels must be non-negative")
    new = np.empty(values.size, dtype=np.int32)
    new[np.argsort(first, kind="stable")] = np.arange(
        1, values.size + 1, dtype=np.int32
    )
    if values[-1] <= 4 * flat.size + 1024:
        lut = np.zeros(int(values[-1]) + 1, dtype=np.int32)
        lut[values] = new
        return lut[labels]
    idx = np.minimum(np.searchsorted(values, flat), values.size - 1)
    out = np.where(values[idx] == flat, new[idx], 0).astype(np.int32)
    return out.reshape(labels.shape)


# --------------------------------------------------------------------------
# region merging
# --------------------------------------------------------------------------


def _region_max(values, regions, n, positions=False):
    """Per-region maximum of `values` (index 0 unused) and, optionally, the
    coordinates of its first (raster-order) occurrence, shape (n + 1, ndim)."""
    fg = np.flatnonzero(regions.ravel())
    ids = regions.ravel()[fg]
    vals = values.ravel()[fg].astype(np.float64)
    peak = np.zeros(n + 1)
    np.maximum.at(peak, ids, vals)
    if not positions:
        return peak, None
    at_peak = vals == peak[ids]
    first_ids, first = np.unique(ids[at_peak], return_index=True)
    pos = np.zeros((n + 1, regions.ndim))
    pos[first_ids] = np.column_stack(
        np.unravel_index(fg[at_peak][first], regions.shape)
    )
    return peak, pos


def _half_offsets(footprint):
    """Neighbour offsets of a centred footprint, one of each +/- pair."""
    centre = np.array(footprint.shape) // 2
    offsets = np.argwhere(footprint) - centre
    keep = [tuple(o) > (0,) * len(o) for o in offsets]  # lexicographically positive
    return offsets[np.array(keep)]


def _shifted_pairs(regions, landscape, offset):
    """(label_a, label_b, pass value) across one neighbour offset."""
    src, dst = [], []
    for o, n in zip(offset, regions.shape):
        if o >= 0:
            src.append(slice(0, n - o))
            dst.append(slice(o, n))
        else:
            src.append(slice(-o, n))
            dst.append(slice(0, n + o))
    a, b = regions[tuple(src)], regions[tuple(dst)]
    sel = (a != b) & (a > 0) & (b > 0)
    va, vb = landscape[tuple(src)][sel], landscape[tuple(dst)][sel]
    return a[sel], b[sel], np.minimum(va, vb)


def _region_edges(regions, landscape, footprint, n):
    """Adjacent region pairs (i < j) and the highest pass between them."""
    la, lb, lv = [], [], []
    for offset in _half_offsets(footprint):
        a, b, v = _shifted_pairs(regions, landscape, offset)
        la.append(np.minimum(a, b))
        lb.append(np.maximum(a, b))
        lv.append(v)
    if not la:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    a = np.concatenate(la).astype(np.int64)
    b = np.concatenate(lb).astype(np.int64)
    v = np.concatenate(lv).astype(np.float64)
    if a.size == 0:
        return a, b, v
    code = a * (n + 1) + b
    order = np.lexsort((-v, code))  # per pair, highest pass first
    code, v = code[order], v[order]
    first = np.r_[True, code[1:] != code[:-1]]
    code, v = code[first], v[first]
    return code // (n + 1), code % (n + 1), v


def merge_regions(
    regions,
    landscape,
    *,
    neck_ratio=DEFAULT_NECK_RATIO,
    min_distance_px=None,
    min_area_px=None,
    max_area_px=None,
    min_part_px=None,
    connectivity=None,
):
    """Merge adjacent regions of an over-segmentation by relative pass depth.

    Parameters
    ----------
    regions : ndarray of int, shape (Y, X) or (Z, Y, X)
        Regions 1..K (0 = background), e.g. the watershed basins of every
        regional maximum of `landscape`.
    landscape : ndarray of float, same shape
        Positive inside the regions; each region's summit is its maximum.
    neck_ratio : float in (0, 1]
        Two neighbours stay apart only if the highest pass between them is
        lower than ``neck_ratio`` x the lower of their summits; otherwise
        they merge (highest passes first, summits of merged regions are the
        maximum). 1 keeps everything apart.
    min_distance_px : float or None
        Also merge neighbours whose summit positions are closer than this
        (pixels).
    min_area_px : float or None
        Also merge a region with fewer pixels than this into the neighbour
        across its highest pass.
    max_area_px, min_part_px : float or None
        Two neighbours that both have at least `min_part_px` pixels do not
        merge across a wide pass when together they would have more than
        `max_area_px` (the distance and area rules still merge them).
        ``None`` = off.
    connectivity : int or None

    Returns
    -------
    ndarray of int32, same shape; merged regions carry the smallest of their
    original labels (not renumbered).
    """
    regions = np.asarray(regions)
    n = int(regions.max()) if regions.size else 0
    connectivity = check_connectivity(connectivity, regions.ndim)
    if n <= 1:
        return regions.astype(np.int32, copy=False)
    footprint = ndi.generate_binary_structure(regions.ndim, connectivity)
    peak, pos = _region_max(landscape, regions, n, positions=bool(min_distance_px))
    area = np.bincount(regions.ravel(), minlength=n + 1).astype(np.int64)
    a, b, v = _region_edges(regions, landscape, footprint, n)
    order = np.lexsort((b, a, -v))  # highest pass first; ties by labels
    # plain Python lists: the loop touches single elements only
    a, b, v = a[order].tolist(), b[order].tolist(), v[order].tolist()
    peak, area = peak.tolist(), area.tolist()
    pos = None if pos is None else [np.asarray(p) for p in pos]
    parent = list(range(n + 1))

    def find(i):
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    min_area = min_area_px if min_area_px else 0
    for ea, eb, ev in zip(a, b, v):
        ra, rb = find(ea), find(eb)
        if ra == rb:
            continue
        merge = ev >= neck_ratio * min(peak[ra], peak[rb])
        if (
            merge
            and max_area_px
            and area[ra] + area[rb] > max_area_px
            and min(area[ra], area[rb]) >= (min_part_px or 0)
        ):
            merge = False
        if not merge and min_area and min(area[ra], area[rb]) < min_area:
            merge = True
        if not merge and pos is not None:
            merge = float(np.sqrt(((pos[ra] - pos[rb]) ** 2).sum())) < min_distance_px
        if merge:
            keep, gone = (ra, rb) if ra < rb else (rb, ra)
            parent[gone] = keep
            area[keep] += area[gone]
            if peak[gone] > peak[keep]:
                peak[keep] = peak[gone]
                if pos is not None:
                    pos[keep] = pos[gone]
    lut = np.array([find(i) for i in range(n + 1)], dtype=np.int32)
    return lut[regions]


# --------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------


def declump_landscape(
    mask,
    *,
    smooth_sigma_px=0.0,
    intensity=None,
    intensity_weight=1.0,
    intensity_sigma_px=None,
):
    """The height map used for declumping (positive inside `mask`, 0 outside).

    Parameters
    ----------
    mask : ndarray of bool, shape (Y, X) or (Z, Y, X)
    smooth_sigma_px : float >= 0
        Gaussian sigma (pixels) applied to the EDT.
    intensity : ndarray or None, same shape
        When given, the EDT is multiplied by
        ``(I_s / max(I_s))**intensity_weight`` where ``I_s`` is the smoothed
        intensity minus its 1st percentile outside the mask (the
        background), clipped at 1/1000 of the maximum.
    intensity_weight : float >= 0
    intensity_sigma_px : float >= 0 or None
        Gaussian sigma (pixels) applied to `intensity`; ``None`` = same as
        `smooth_sigma_px`.

    Returns
    -------
    ndarray of float32
    """
    distance = ndi.distance_transform_edt(mask).astype(np.float32)
    if smooth_sigma_px > 0:
        distance = ndi.gaussian_filter(
            distance, smooth_sigma_px, mode="nearest", truncate=3.0
        )
    landscape = distance
    if intensity is not None and intensity_weight > 0:
        values = intensity.astype(np.float32)
        isigma = smooth_sigma_px if intensity_sigma_px is None else intensity_sigma_px
        if isigma > 0:
            values = ndi.gaussian_filter(values, isigma, mode="nearest", truncate=3.0)
        outside = values[~mask]
        background = (
            float(np.percentile(outside, 1)) if outside.size else float(values.min())
        )
        values -= background
        top = float(values[mask].max())
        if top > 0:
            values /= top
            np.clip(values, 1e-3, None, out=values)
            landscape = landscape * values**intensity_weight
    landscape[~mask] = 0
    return landscape


def split_touching(
    mask,
    *,
    neck_ratio=DEFAULT_NECK_RATIO,
    smooth_sigma_px=0.0,
    min_distance_px=None,
    min_area_px=None,
    max_area_px=None,
    min_part_px=None,
    intensity=None,
    intensity_weight=1.0,
    intensity_sigma_px=None,
    connectivity=None,
):
    """Label a binary mask, splitting touching objects (distance-transform watershed).

    Parameters
    ----------
    mask : ndarray of bool (or integer, non-zero = foreground), shape (Y, X) or (Z, Y, X)
    neck_ratio : float in (0, 1], default 0.9
        Split two touching blobs when the neck between them is narrower than
        ``neck_ratio`` x (radius of the smaller blob). Scale-free; lower =
        fewer splits, 1 = split at every EDT maximum.
    smooth_sigma_px : float >= 0
        Gaussian sigma (pixels) applied to the distance map before seeding;
        suppresses bumps of jagged outlines.
    min_distance_px : float or None
        Also merge regions whose summits are closer than this (pixels), e.g.
        a fraction of the expected object diameter. ``None`` = off.
    min_area_px : float or None
        Also merge split-off regions smaller than this (pixels) back into
        their neighbour. Whole connected components are never removed here
        (use :func:`scripts.algorithms.cleanup.filter_by_size`). ``None`` = off.
    max_area_px, min_part_px : float or None
        Keep two touching parts of at least `min_part_px` pixels each apart,
        however wide the neck, when together they would exceed `max_area_px`
        pixels (see :func:`merge_regions`). ``None`` = off.
    intensity : ndarray or None, same shape as `mask`
        Optional image (raw or preprocessed): dark gaps between touching
        bright nuclei then count as necks too (see :func:`declump_landscape`).
    intensity_weight : float >= 0
        Exponent of the normalised intensity in the landscape.
    intensity_sigma_px : float >= 0 or None
        Gaussian sigma (pixels) for `intensity`; ``None`` = `smooth_sigma_px`.
    connectivity : int or None
        Object connectivity; ``None`` = full (8 in 2D, 26 in 3D).

    Returns
    -------
    ndarray of int32, same shape
        0 = background, objects 1..N numbered in raster order of their first
        pixel. Every connected component of `mask` keeps all its pixels and
        gets at least one label. Deterministic.
    """
    mask = check_mask(mask, ndims=(2, 3))
    connectivity = check_connectivity(connectivity, mask.ndim)
    if (
        isinstance(neck_ratio, bool)
        or not isinstance(neck_ratio, numbers.Real)
        or not 0 < neck_ratio <= 1
    ):
        raise ValueError(f"neck_ratio must be in (0, 1], got {neck_ratio!r}")
    sigma = check_number("smooth_sigma_px", smooth_sigma_px, allow_none=False)
    min_distance = check_number("min_distance_px", min_distance_px)
    min_area = check_number("min_area_px", min_area_px)
    max_area = check_number("max_area_px", max_area_px)
    min_part = check_number("min_part_px", min_part_px)
    weight = check_number("intensity_weight", intensity_weight, allow_none=False)
    isigma = check_number("intensity_sigma_px", intensity_sigma_px)
    if intensity is not None:
        intensity = check_intensity(intensity, mask.shape, of="mask")
    if not mask.any():
        return np.zeros(mask.shape, dtype=np.int32)

    footprint = ndi.generate_binary_structure(mask.ndim, connectivity)
    landscape = declump_landscape(
        mask,
        smooth_sigma_px=sigma,
        intensity=intensity,
        intensity_weight=weight,
        intensity_sigma_px=isigma,
    )
    peaks = (
        morphology.local_maxima(landscape, footprint=footprint, allow_borders=True)
        & mask
    )
    seeds, _ = ndi.label(peaks, footprint)
    regions = segmentation.watershed(
        -landscape, seeds, mask=mask, connectivity=footprint
    )
    # watershed leaves components without a seed unlabelled (plateau-free
    # landscapes always have one, but be safe): label them as they are
    orphans = mask & (regions == 0)
    if orphans.any():
        extra, _ = ndi.label(orphans, footprint)
        regions = np.where(orphans, extra + regions.max(), regions)
    merged = merge_regions(
        regions,
        landscape,
        neck_ratio=float(neck_ratio),
        min_distance_px=min_distance,
        min_area_px=min_area,
        max_area_px=max_area,
        min_part_px=min_part,
        connectivity=connectivity,
    )
    return relabel_raster(merged)


def object_density(labels, object_size_px):
    """Objects per expected object of foreground: the number of labels over
    ``foreground pixels / object_size_px`` (0 for an empty image).

    About 0.6-1.1 when the objects have the expected size (round objects
    fill a disc of the expected diameter, elongated or clumped ones more);
    well above 1 when they were cut into pieces smaller than expected.
    """
    labels = np.asarray(labels)
    foreground = np.count_nonzero(labels)
    if foreground == 0:
        return 0.0
    return float(labels.max()) * float(object_size_px) / foreground


def texture_maxima(intensity, mask, *, sigma_px, object_size_px, h_fraction=TEXTURE_H):
    """Local maxima of the smoothed intensity per expected object of `mask`.

    Counts the maxima of `intensity` (Gaussian `sigma_px`) inside `mask`
    that rise at least `h_fraction` of the intensity range (5th to 95th
    percentile inside the mask) above their surroundings
    (:func:`skimage.morphology.h_maxima`), per ``object_size_px`` of mask.
    About 1 for evenly stained nuclei (one broad summit each); 2-3 and more
    for textured chromatin (bright chromocentres of mouse nuclei, coarse
    spots), whose every spot the intensity-weighted landscape would make
    a summit of its own.

    Parameters
    ----------
    intensity : ndarray, shape (Y, X) or (Z, Y, X)
    mask : ndarray of bool, same shape
    sigma_px : float >= 0
    object_size_px : float > 0
    h_fraction : float > 0

    Returns
    -------
    float (0 for an empty mask)
    """
    if not mask.any():
        return 0.0
    values = intensity.astype(np.float32)
    if sigma_px > 0:
        values = ndi.gaussian_filter(values, sigma_px, mode="nearest", truncate=3.0)
    # smoothed by sigma, the image holds nothing narrower: every step-th
    # pixel keeps its maxima and makes h_maxima (a reconstruction) cheap
    step = max(int(round(sigma_px)), 2)
    grid = (slice(None, None, step),) * mask.ndim
    values, mask = values[grid], mask[grid]
    if not mask.any():
        return 0.0
    low, high = np.percentile(values[mask], [5, 95])
    inside = np.where(mask, values, float(values[mask].min()))
    peaks = morphology.h_maxima(inside, max(float(high - low), 1e-6) * h_fraction) & mask
    footprint = ndi.generate_binary_structure(mask.ndim, mask.ndim)
    count = ndi.label(peaks, footprint)[1]
    return float(count) * float(object_size_px) / (float(np.count_nonzero(mask)) * step**mask.ndim)


def split_touching_guarded(
    mask,
    *,
    object_size_px,
    max_density=None,
    max_texture=None,
    intensity=None,
    **kwargs,
):
    """:func:`split_touching` that does not explode on textured objects.

    With an `intensity`, every bright spot of a textured nucleus (chromatin)
    can become a summit of the landscape and a piece of its own. Two
    guards fall back to the split by shape alone (no intensity):

    * `max_texture`: the intensity has more than this many local maxima per
      expected object (:func:`texture_maxima`, before splitting);
    * `max_density`: the intensity-weighted split gives more than this many
      objects per expected object of foreground (:func:`object_density`:
      pieces far smaller than the expected object).

    Parameters
    ----------
    mask : ndarray of bool, shape (Y, X) or (Z, Y, X)
    object_size_px : float
        Pixels of one expected object (:func:`scripts.units.object_size_px`).
    max_density, max_texture : float > 0 or None (guard off)
    intensity, **kwargs
        As :func:`split_touching`.

    Returns
    -------
    ndarray of int32, as :func:`split_touching`.
    """
    max_density = check_number("max_density", max_density)
    max_texture = check_number("max_texture", max_texture)
    if intensity is not None and max_texture:
        sigma = kwargs.get("intensity_sigma_px")
        if sigma is None:
            sigma = kwargs.get("smooth_sigma_px", 0.0)
        texture = texture_maxima(
            np.asarray(intensity), check_mask(mask), sigma_px=sigma, object_size_px=object_size_px
        )
        if texture > max_texture:
            intensity = None
    labels = split_touching(mask, intensity=intensity, **kwargs)
    if (
        intensity is not None
        and max_density
        and object_density(labels, object_size_px) > max_density
    ):
        return split_touching(mask, intensity=None, **kwargs)
    return labels
