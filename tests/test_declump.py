"""Tests of scripts/algorithms/declump.py (splitting touching objects, numbering) and
scripts/algorithms/diameter.py (the diameter from a mask)."""

from __future__ import annotations

import numpy as np
import pytest

from scripts.algorithms import declump as dc
from scripts.algorithms import diameter


def discs(shape, centres, radius):
    grids = np.indices(shape)
    mask = np.zeros(shape, dtype=bool)
    for centre in centres:
        d2 = sum((g - c) ** 2 for g, c in zip(grids, centre))
        mask |= d2 <= radius**2
    return mask


# -------------------------------------------------------------- splitting


def test_two_touching_discs_give_two_labels():
    mask = discs((60, 80), [(30, 25), (30, 50)], 13)  # overlap 1 px: narrow neck
    labels = dc.split_touching(mask)
    assert labels.dtype == np.int32
    assert labels.max() == 2
    np.testing.assert_array_equal(
        labels > 0, mask
    )  # every pixel labelled, nothing added
    assert labels[30, 25] != labels[30, 50]
    sizes = np.bincount(labels.ravel())[1:]
    assert (
        abs(int(sizes[0]) - int(sizes[1])) <= 0.05 * sizes.sum()
    )  # split near the middle


def test_single_disc_and_ellipse_stay_whole():
    assert dc.split_touching(discs((50, 50), [(25, 25)], 15)).max() == 1
    yy, xx = np.indices((60, 100))
    ellipse = ((yy - 30) / 12.0) ** 2 + ((xx - 50) / 35.0) ** 2 <= 1
    assert dc.split_touching(ellipse).max() == 1


def test_neck_ratio_decides():
    # centres 8 px apart, radius 12: the distance map is 12.0 between the
    # centres and 12.04 at them -- no real neck; only neck_ratio=1 (split at
    # every maximum) splits
    mask = discs((60, 80), [(30, 36), (30, 44)], 12)
    assert dc.split_touching(mask, neck_ratio=0.9).max() == 1
    assert dc.split_touching(mask, neck_ratio=1.0).max() == 2
    # centres 14 px apart: distance map 10.0 at the neck = 0.83 x the radius
    mask = discs((60, 80), [(30, 33), (30, 47)], 12)
    assert dc.split_touching(mask, neck_ratio=0.9).max() == 2
    assert dc.split_touching(mask, neck_ratio=0.75).max() == 1


def test_chain_of_three_and_separate_objects():
    mask = discs((60, 120), [(30, 20), (30, 43), (30, 66)], 12) | discs(
        (60, 120), [(30, 100)], 8
    )
    labels = dc.split_touching(mask)
    assert labels.max() == 4


def test_split_is_scale_free():
    centres = [(30, 25), (30, 48), (52, 36)]
    small = dc.split_touching(discs((80, 80), centres, 12))
    large = dc.split_touching(
        discs((240, 240), [(3 * r, 3 * c) for r, c in centres], 36)
    )
    assert small.max() == large.max() == 3


def test_labels_are_deterministic_and_in_raster_order():
    mask = discs((60, 120), [(40, 20), (10, 60), (40, 100), (30, 60)], 9)
    a = dc.split_touching(mask)
    b = dc.split_touching(mask.copy())
    np.testing.assert_array_equal(a, b)
    # label k's first pixel comes before label k+1's first pixel in raster order
    flat = a.ravel()
    firsts = [np.flatnonzero(flat == k)[0] for k in range(1, a.max() + 1)]
    assert firsts == sorted(firsts)
    assert set(np.unique(a)) == set(range(a.max() + 1))  # consecutive 0..N


def test_min_distance_prevents_split():
    mask = discs((60, 80), [(30, 25), (30, 50)], 13)
    assert dc.split_touching(mask, min_distance_px=20).max() == 2  # centres 25 apart
    assert dc.split_touching(mask, min_distance_px=30).max() == 1


def test_min_area_merges_fragments_back():
    mask = discs((60, 80), [(30, 30)], 14) | discs(
        (60, 80), [(30, 47)], 5
    )  # small bump
    assert dc.split_touching(mask, neck_ratio=1.0).max() == 2
    merged = dc.split_touching(mask, neck_ratio=1.0, min_area_px=100)  # bump ~80 px
    assert merged.max() == 1
    np.testing.assert_array_equal(merged > 0, mask)


def test_intensity_splits_where_shape_cannot():
    # a 20 x 40 rectangle (no neck) made of two bright nuclei with a dark seam
    mask = np.zeros((40, 60), dtype=bool)
    mask[10:30, 10:50] = True
    yy, xx = np.indices(mask.shape)
    intensity = 10 + 100 * (
        np.exp(-((yy - 20) ** 2 + (xx - 20) ** 2) / 60.0)
        + np.exp(-((yy - 20) ** 2 + (xx - 40) ** 2) / 60.0)
    )
    assert dc.split_touching(mask).max() == 1
    labels = dc.split_touching(mask, intensity=intensity)
    assert labels.max() == 2
    assert labels[20, 20] != labels[20, 40]


def test_3d_two_touching_balls():
    mask = discs((30, 40, 60), [(15, 20, 20), (15, 20, 39)], 10)
    labels = dc.split_touching(mask)
    assert labels.max() == 2
    assert labels[15, 20, 20] != labels[15, 20, 39]


def test_empty_mask():
    out = dc.split_touching(np.zeros((10, 10), dtype=bool))
    assert out.dtype == np.int32 and not out.any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"neck_ratio": 0}, "neck_ratio"),
        ({"neck_ratio": 1.5}, "neck_ratio"),
        ({"min_distance_px": -1}, "min_distance_px"),
        ({"smooth_sigma_px": float("nan")}, "smooth_sigma_px"),
        ({"intensity": np.zeros((3, 3))}, "intensity shape"),
        ({"connectivity": 3}, "connectivity"),
    ],
)
def test_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dc.split_touching(np.ones((10, 10), dtype=bool), **kwargs)


def test_rejects_float_and_4d_masks():
    with pytest.raises(ValueError, match="bool or integer"):
        dc.split_touching(np.ones((5, 5)))
    with pytest.raises(ValueError, match="2D"):
        dc.split_touching(np.ones((2, 2, 2, 2), dtype=bool))


# -------------------------------------------------------------- helpers


def test_relabel_raster():
    labels = np.array([[0, 9, 9], [5, 0, 2], [5, 2, 2]], dtype=np.uint16)
    np.testing.assert_array_equal(
        dc.relabel_raster(labels),
        np.array([[0, 1, 1], [2, 0, 3], [2, 3, 3]], dtype=np.int32),
    )
    big = np.array([[0, 2**31 - 1], [7, 0]], dtype=np.int64)
    np.testing.assert_array_equal(dc.relabel_raster(big), [[0, 1], [2, 0]])
    assert dc.relabel_raster(np.zeros((2, 2), dtype=int)).max() == 0


def test_merge_regions_by_pass_height():
    regions = np.array([[1, 1, 2, 2]])
    landscape = np.array([[1.0, 10.0, 9.5, 1.0]])  # pass 9.5 vs summits 10, 9.5
    assert dc.merge_regions(regions, landscape, neck_ratio=0.9).max() == 1
    landscape = np.array([[1.0, 10.0, 5.0, 8.0]])  # pass 5 < 0.9 * 8
    assert set(np.unique(dc.merge_regions(regions, landscape, neck_ratio=0.9))) == {
        1,
        2,
    }


def test_estimate_diameter_px():
    assert diameter.estimate_diameter_px(discs((60, 60), [(30, 30)], 10)) == pytest.approx(
        20, abs=1
    )
    # a clump of two touching discs still measures one disc
    clump = discs((60, 90), [(30, 30), (30, 52)], 10)
    assert diameter.estimate_diameter_px(clump) == pytest.approx(20, abs=1)
    assert np.isnan(diameter.estimate_diameter_px(np.zeros((9, 9), dtype=bool)))
