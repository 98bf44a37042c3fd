"""Tests of scripts/algorithms/cleanup.py: fill holes, size filter, border exclusion."""

from __future__ import annotations

import numpy as np
import pytest

from scripts.algorithms import cleanup as cu


def disc(shape, centre, radius):
    yy, xx = np.indices(shape)
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def squares(shape, corners_sizes):
    mask = np.zeros(shape, dtype=bool)
    for (r, c), s in corners_sizes:
        mask[r : r + s, c : c + s] = True
    return mask


# -------------------------------------------------------------- fill holes


def test_disc_with_hole_is_filled():
    mask = disc((40, 40), (20, 20), 10) & ~disc((40, 40), (20, 20), 3)
    filled = cu.fill_holes(mask)
    assert filled.dtype == bool
    np.testing.assert_array_equal(filled, disc((40, 40), (20, 20), 10))


def test_background_touching_border_is_not_a_hole():
    mask = np.zeros((10, 10), dtype=bool)
    mask[2:8, 0:6] = True
    mask[4:6, 0:3] = False  # notch open to the left border
    np.testing.assert_array_equal(cu.fill_holes(mask), mask)


def test_max_hole_area_is_inclusive():
    mask = np.ones((12, 12), dtype=bool)
    mask[2:4, 2:4] = False  # hole of 4 px
    mask[6:9, 6:9] = False  # hole of 9 px
    only_small = cu.fill_holes(mask, max_hole_area_px=4)
    assert only_small[2:4, 2:4].all() and not only_small[6:9, 6:9].any()
    assert cu.fill_holes(mask, max_hole_area_px=3)[2:4, 2:4].sum() == 0
    assert cu.fill_holes(mask, max_hole_area_px=9).all()


def test_fill_holes_diagonal_gap_counts_as_closed():
    # a hole whose only exit is a diagonal step is enclosed (holes use face connectivity)
    mask = np.ones((5, 5), dtype=bool)
    mask[2, 2] = False
    mask[1, 1] = False  # touches the hole only diagonally
    mask[0, 0] = False
    assert cu.fill_holes(mask)[2, 2]


def test_fill_holes_3d():
    mask = np.zeros((7, 7, 7), dtype=bool)
    mask[1:6, 1:6, 1:6] = True
    mask[3, 3, 3] = False
    assert cu.fill_holes(mask)[3, 3, 3]


# -------------------------------------------------------------- size filter


def test_filter_by_size_bounds_are_inclusive():
    mask = squares((20, 40), [((1, 1), 2), ((1, 10), 3), ((1, 20), 4)])  # 4, 9, 16 px
    keep = cu.filter_by_size(mask, min_area_px=9)
    assert keep.dtype == bool
    assert (
        not keep[1:3, 1:3].any() and keep[1:4, 10:13].all() and keep[1:5, 20:24].all()
    )
    keep = cu.filter_by_size(mask, max_area_px=9)
    assert (
        keep[1:3, 1:3].all() and keep[1:4, 10:13].all() and not keep[1:5, 20:24].any()
    )
    keep = cu.filter_by_size(mask, min_area_px=9, max_area_px=9)
    assert keep.sum() == 9
    np.testing.assert_array_equal(cu.filter_by_size(mask), mask)


def test_filter_by_size_on_labels_keeps_values_and_dtype():
    labels = np.zeros((10, 10), dtype=np.uint16)
    labels[0:2, 0:2] = 7  # 4 px
    labels[5:9, 5:9] = 3  # 16 px
    out = cu.filter_by_size(labels, min_area_px=5)
    assert out.dtype == np.uint16
    assert set(np.unique(out)) == {0, 3}
    assert (out == 3).sum() == 16


def test_filter_by_size_connectivity():
    mask = np.zeros((5, 5), dtype=bool)
    mask[1, 1] = mask[2, 2] = True  # diagonal neighbours
    assert (
        cu.filter_by_size(mask, min_area_px=2).sum() == 2
    )  # full connectivity: one object
    assert cu.filter_by_size(mask, min_area_px=2, connectivity=1).sum() == 0


def test_filter_by_size_validation():
    mask = np.zeros((4, 4), dtype=bool)
    with pytest.raises(ValueError, match="min_area_px"):
        cu.filter_by_size(mask, min_area_px=-1)
    with pytest.raises(
        ValueError, match=r"min_area_px \(10.0\) must be <= max_area_px \(5.0\)"
    ):
        cu.filter_by_size(mask, 10, 5)
    with pytest.raises(ValueError, match="connectivity"):
        cu.filter_by_size(mask, 1, connectivity=3)
    with pytest.raises(ValueError, match="bool or integer"):
        cu.filter_by_size(mask.astype(float), 1)


# -------------------------------------------------------------- border


def test_objects_touching_the_border_are_dropped():
    mask = squares((20, 20), [((0, 5), 3), ((8, 8), 3), ((17, 17), 3), ((8, 0), 2)])
    out = cu.clear_border(mask)
    np.testing.assert_array_equal(out, squares((20, 20), [((8, 8), 3)]))


def test_clear_border_buffer_and_labels():
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[2:5, 2:5] = 4  # 2 px from the edge
    labels[8:12, 8:12] = 9
    assert set(np.unique(cu.clear_border(labels))) == {0, 4, 9}
    assert set(np.unique(cu.clear_border(labels, buffer_px=2))) == {0, 9}
    with pytest.raises(ValueError, match="buffer_px"):
        cu.clear_border(labels, buffer_px=-1)


def test_clear_border_3d_includes_top_and_bottom_planes():
    mask = np.zeros((6, 10, 10), dtype=bool)
    mask[0:2, 4:6, 4:6] = True  # touches z = 0
    mask[2:4, 4:6, 4:6] = False
    mask[3:5, 1:3, 6:8] = True  # interior
    out = cu.clear_border(mask)
    assert not out[0:2].any() and out[3:5, 1:3, 6:8].all()


# -------------------------------------------------------------- cleanup


def test_cleanup_order_fill_then_size_then_border():
    mask = np.zeros((40, 40), dtype=bool)
    ring = disc((40, 40), (20, 20), 6) & ~disc(
        (40, 40), (20, 20), 3
    )  # 84 px ring, 29 px hole
    mask |= ring
    mask[0:3, 0:3] = True  # 9 px at the border
    mask[30, 30] = True  # 1 px speck
    out = cu.cleanup(mask, fill_holes=True, min_area_px=100, exclude_border=True)
    # filled disc has 113 px >= 100: kept; the others are gone
    np.testing.assert_array_equal(out, disc((40, 40), (20, 20), 6))
    # without filling, the ring alone is below 100 px
    assert not cu.cleanup(mask, min_area_px=100).any()


def test_cleanup_all_off_returns_a_copy():
    mask = disc((10, 10), (5, 5), 3)
    out = cu.cleanup(mask)
    np.testing.assert_array_equal(out, mask)
    assert out is not mask


def test_cleanup_accepts_uint8_masks_and_validates_flags():
    mask = (disc((10, 10), (5, 5), 3) * 255).astype(np.uint8)
    assert cu.cleanup(mask).dtype == bool
    with pytest.raises(ValueError, match="fill_holes"):
        cu.cleanup(mask, fill_holes="yes")
