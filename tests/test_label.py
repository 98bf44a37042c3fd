"""scripts.steps.label: connected components, uint16 unless more than 65,535 objects."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import measure

from scripts.steps.label import (
    UINT16_MAX_LABEL,
    foreground_fraction,
    label_objects,
    smallest_label_dtype,
)


def random_mask(seed=0, shape=(80, 90), density=0.45):
    rng = np.random.default_rng(seed)
    return rng.random(shape) < density


@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_labels_equal_skimage(seed, connectivity):
    mask = random_mask(seed)
    labels, count = label_objects(mask, connectivity)
    expected, expected_count = measure.label(mask, connectivity=connectivity, return_num=True)
    assert labels.dtype == np.uint16
    assert labels.shape == mask.shape
    assert np.array_equal(labels, expected)
    assert count == expected_count == int(labels.max())
    assert isinstance(count, int)


def test_default_connectivity_is_the_tutorials():
    """The tutorial's morphology.label joins diagonal neighbours in 2D."""
    mask = random_mask(3)
    labels, count = label_objects(mask)
    assert np.array_equal(labels, measure.label(mask))
    assert count == measure.label(mask).max()


def test_labels_are_numbered_in_raster_order():
    mask = np.zeros((6, 8), dtype=bool)
    mask[5, 0:2] = True  # first pixel at (5, 0): third
    mask[0, 6] = True  # (0, 6): first
    mask[2:4, 2:5] = True  # (2, 2): second
    labels, count = label_objects(mask)
    assert count == 3
    assert labels[0, 6] == 1 and labels[2, 2] == 2 and labels[5, 0] == 3
    assert set(np.unique(labels)) == {0, 1, 2, 3}


def test_empty_mask_has_no_objects():
    labels, count = label_objects(np.zeros((20, 30), dtype=bool))
    assert count == 0
    assert labels.dtype == np.uint16
    assert labels.shape == (20, 30)
    assert not labels.any()


@pytest.mark.parametrize("connectivity", [1, 2])
def test_all_foreground_is_one_object(connectivity):
    labels, count = label_objects(np.ones((20, 30), dtype=bool), connectivity)
    assert count == 1
    assert labels.dtype == np.uint16
    assert (labels == 1).all()


def test_single_pixel_objects():
    mask = np.zeros((9, 9), dtype=bool)
    for position in [(0, 0), (0, 8), (8, 0), (8, 8), (4, 4)]:
        mask[position] = True
    labels, count = label_objects(mask)
    assert count == 5
    assert sorted(labels[mask].tolist()) == [1, 2, 3, 4, 5]
    assert labels[~mask].max() == 0


def test_diagonal_pixels_join_with_connectivity_2_only():
    mask = np.eye(5, dtype=bool)
    mask[0, 4] = True
    labels_1, count_1 = label_objects(mask, connectivity=1)
    labels_2, count_2 = label_objects(mask, connectivity=2)
    assert count_1 == 6  # five diagonal pixels + the corner, none sharing an edge
    assert count_2 == 2  # the diagonal line + the lone corner
    assert len(np.unique(labels_1[mask])) == 6
    assert (labels_2[np.eye(5, dtype=bool)] == 1).all()


def test_label_3d_mask():
    mask = np.zeros((3, 4, 4), dtype=bool)
    mask[0, 0, 0] = mask[1, 1, 1] = True  # corner-touching in 3D
    mask[2, 3, 3] = True
    assert label_objects(mask, connectivity=3)[1] == 2
    assert label_objects(mask, connectivity=1)[1] == 3


@pytest.mark.parametrize("connectivity", [0, 3, -1])
def test_connectivity_out_of_range_raises(connectivity):
    with pytest.raises(
        ValueError, match=f"label connectivity must be between 1 and 2, got {connectivity}"
    ):
        label_objects(np.ones((3, 3), dtype=bool), connectivity)


# ---------------------------------------------------------------------------
# dtype: uint16 up to 65,535 objects, then uint32
# ---------------------------------------------------------------------------


def isolated_pixels(n_rows, n_cols):
    """Pixels on a grid with step 2: no two touch, even diagonally."""
    mask = np.zeros((2 * n_rows, 2 * n_cols), dtype=bool)
    mask[::2, ::2] = True
    return mask


@pytest.mark.parametrize("connectivity", [1, 2])
def test_more_than_65535_objects_are_uint32(connectivity):
    mask = isolated_pixels(257, 256)  # 65,792 objects
    labels, count = label_objects(mask, connectivity)
    assert count == 257 * 256 > UINT16_MAX_LABEL
    assert labels.dtype == np.uint32
    assert int(labels.max()) == count
    assert labels[-2, -2] == count  # the last pixel keeps its number, not wrapped
    assert np.array_equal(labels, measure.label(mask, connectivity=connectivity))


def test_exactly_65535_objects_fit_uint16():
    mask = np.zeros((2 * 257, 2 * 255), dtype=bool)  # 257 * 255 = 65,535
    mask[::2, ::2] = True
    labels, count = label_objects(mask)
    assert count == 65_535
    assert labels.dtype == np.uint16
    assert int(labels.max()) == 65_535


def test_smallest_label_dtype_boundary():
    labels = np.array([[0, 1], [2, 3]], dtype=np.int64)
    assert smallest_label_dtype(labels, 65_535).dtype == np.uint16
    assert smallest_label_dtype(labels, 65_536).dtype == np.uint32
    assert smallest_label_dtype(labels, 3).tolist() == [[0, 1], [2, 3]]


# ---------------------------------------------------------------------------
# foreground_fraction
# ---------------------------------------------------------------------------


def test_foreground_fraction():
    labels = np.zeros((4, 5), dtype=np.uint16)
    labels[0, :3] = 1
    labels[3, 4] = 7
    assert foreground_fraction(labels) == 4 / 20
    assert foreground_fraction(np.zeros((3, 3), np.uint16)) == 0.0
    assert foreground_fraction(np.ones((3, 3), np.uint16)) == 1.0
    assert foreground_fraction(np.zeros((0, 3), np.uint16)) == 0.0
    assert isinstance(foreground_fraction(labels), float)
