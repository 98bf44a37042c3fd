"""scripts.steps.morphology: the tutorial's erosion/dilation loop, one scipy call per step."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import filters
from skimage import morphology as skmorph

from scripts.imaging import read_image
from scripts.steps.morphology import (
    OPERATIONS,
    TUTORIAL_STEPS,
    apply_operation,
    apply_sequence,
    footprint,
)
from tests.tutorial import tutorial_morphology

CROSS = ndi.generate_binary_structure(2, 1)
SQUARE = np.ones((3, 3), dtype=bool)


def assert_tutorial_equal(mask):
    expected = tutorial_morphology(mask)
    result = apply_sequence(mask)
    assert result.dtype == bool
    assert result.shape == mask.shape
    mismatches = np.argwhere(result != expected)
    assert mismatches.size == 0, (
        f"{len(mismatches)} pixels differ from the tutorial, first at {mismatches[:5].tolist()}"
    )


def border_objects(shape=(48, 56)):
    """Objects touching every edge and every corner, plus a hole near an edge."""
    mask = np.zeros(shape, dtype=bool)
    rows, cols = shape
    for r, c in [(0, 0), (0, cols - 5), (rows - 5, 0), (rows - 5, cols - 5)]:
        mask[r : r + 5, c : c + 5] = True  # the four corners
    mask[0:3, 15:30] = True  # top edge
    mask[rows - 2 :, 20:40] = True  # bottom edge, 2 px thick
    mask[18:30, 0:4] = True  # left edge
    mask[10:40, cols - 9 :] = True  # right edge, with a hole that touches it
    mask[20:24, cols - 3 :] = False
    mask[0, 45] = True  # single pixels on the border
    mask[rows - 1, 10] = True
    mask[22:27, 24:29] = True  # one interior object
    return mask


# ---------------------------------------------------------------------------
# The tutorial equivalence
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("density", [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tutorial_equivalence_random_masks(density, seed):
    rng = np.random.default_rng(seed)
    assert_tutorial_equal(rng.random((61, 73)) < density)


@pytest.mark.parametrize("seed", [3, 4])
def test_tutorial_equivalence_random_blobs(seed):
    """Smoothed noise: blobs of many sizes with holes, as real masks have."""
    rng = np.random.default_rng(seed)
    field = ndi.gaussian_filter(rng.random((90, 110)), 2.0)
    assert_tutorial_equal(field > np.percentile(field, 60))


def test_tutorial_equivalence_objects_touching_every_border_and_corner():
    mask = border_objects()
    assert mask[0, 0] and mask[0, -1] and mask[-1, 0] and mask[-1, -1]
    assert_tutorial_equal(mask)
    assert_tutorial_equal(~mask)
    assert_tutorial_equal(mask.T.copy())


@pytest.mark.parametrize(
    "mask",
    [
        np.zeros((40, 50), dtype=bool),
        np.ones((40, 50), dtype=bool),
        np.zeros((1, 1), dtype=bool),
        np.ones((1, 1), dtype=bool),
        np.ones((1, 30), dtype=bool),
        np.ones((30, 1), dtype=bool),
    ],
    ids=["all-false", "all-true", "1x1-false", "1x1-true", "row", "column"],
)
def test_tutorial_equivalence_uniform_and_degenerate(mask):
    assert_tutorial_equal(mask)


@pytest.mark.parametrize("position", [(0, 0), (0, 29), (19, 0), (19, 29), (10, 15), (0, 15)])
def test_tutorial_equivalence_single_pixel(position):
    mask = np.zeros((20, 30), dtype=bool)
    mask[position] = True
    assert_tutorial_equal(mask)
    assert_tutorial_equal(~mask)  # a single background pixel


def test_tutorial_equivalence_bundled_examples(example_image):
    image, _ = read_image(example_image)
    mask = image > filters.threshold_otsu(image)
    assert mask.any() and not mask.all()
    assert_tutorial_equal(mask)


def test_tutorial_equivalence_3d():
    rng = np.random.default_rng(5)
    assert_tutorial_equal(rng.random((9, 24, 26)) < 0.6)


def test_single_pixels_and_small_specks_are_removed():
    """What the tutorial's first two erosions are for."""
    mask = np.zeros((60, 60), dtype=bool)
    mask[5, 5] = mask[50, 8] = True
    mask[10:13, 40:43] = True  # a 3x3 speck
    assert not apply_sequence(mask).any()


def test_all_true_stays_all_true_and_all_false_stays_all_false():
    """Erosion does not eat objects from the image border (skimage's rule)."""
    assert apply_sequence(np.ones((30, 30), dtype=bool)).all()
    assert not apply_sequence(np.zeros((30, 30), dtype=bool)).any()


def test_input_mask_is_not_modified():
    rng = np.random.default_rng(6)
    mask = rng.random((40, 40)) < 0.5
    before = mask.copy()
    apply_sequence(mask)
    assert np.array_equal(mask, before)


def test_uint8_mask_is_treated_as_boolean():
    rng = np.random.default_rng(7)
    mask = rng.random((40, 40)) < 0.5
    as_uint8 = mask.astype(np.uint8) * 255
    result = apply_sequence(as_uint8)
    assert result.dtype == bool
    assert np.array_equal(result, apply_sequence(mask))


# ---------------------------------------------------------------------------
# Single operations
# ---------------------------------------------------------------------------


def repeat(function, mask, times, structure):
    for _ in range(times):
        mask = function(mask, structure)
    return mask


def sk_erode(mask, structure):
    return ndi.binary_erosion(mask, structure=structure, border_value=1)


def sk_dilate(mask, structure):
    return ndi.binary_dilation(mask, structure=structure, border_value=0)


@pytest.fixture
def random_mask():
    rng = np.random.default_rng(8)
    field = ndi.gaussian_filter(rng.random((64, 64)), 1.5)
    return field > np.percentile(field, 55)


@pytest.mark.parametrize("iterations", [1, 2, 3, 5])
@pytest.mark.parametrize("structure", [CROSS, SQUARE], ids=["cross", "square"])
def test_opening_is_erosion_then_dilation(random_mask, iterations, structure):
    expected = repeat(sk_dilate, repeat(sk_erode, random_mask, iterations, structure),
                      iterations, structure)
    assert np.array_equal(apply_operation(random_mask, "opening", iterations, structure), expected)
    via_steps = apply_sequence(
        random_mask, [("erosion", iterations), ("dilation", iterations)],
        connectivity=1 if structure is CROSS else 2,
    )
    assert np.array_equal(apply_operation(random_mask, "opening", iterations, structure), via_steps)


@pytest.mark.parametrize("iterations", [1, 2, 3, 5])
@pytest.mark.parametrize("structure", [CROSS, SQUARE], ids=["cross", "square"])
def test_closing_is_dilation_then_erosion(random_mask, iterations, structure):
    expected = repeat(sk_erode, repeat(sk_dilate, random_mask, iterations, structure),
                      iterations, structure)
    assert np.array_equal(apply_operation(random_mask, "closing", iterations, structure), expected)


def test_opening_and_closing_differ_from_each_other(random_mask):
    """Guards against the two being swapped."""
    opened = apply_operation(random_mask, "opening", 2, CROSS)
    closed = apply_operation(random_mask, "closing", 2, CROSS)
    assert opened.sum() < random_mask.sum() < closed.sum()
    assert not (opened & ~random_mask).any()  # opening is anti-extensive
    assert not (random_mask & ~closed).any()  # closing is extensive


def test_erosion_and_dilation_iterations_equal_repeated_single_steps(random_mask):
    for n in (1, 3, 7):
        assert np.array_equal(
            apply_operation(random_mask, "erosion", n, CROSS),
            repeat(sk_erode, random_mask, n, CROSS),
        )
        assert np.array_equal(
            apply_operation(random_mask, "dilation", n, CROSS),
            repeat(sk_dilate, random_mask, n, CROSS),
        )


@pytest.mark.parametrize("operation", OPERATIONS)
def test_zero_iterations_is_a_no_op(operation):
    """scipy reads iterations=0 as "repeat until nothing changes"; here it means none."""
    mask = np.zeros((30, 30), dtype=bool)
    mask[5:25, 5:25] = True
    mask[14, 14] = False  # a hole that closing-until-convergence would fill
    mask[0, 29] = True  # a speck that erosion-until-convergence would remove
    result = apply_operation(mask, operation, 0, CROSS)
    assert np.array_equal(result, mask)
    assert np.array_equal(apply_sequence(mask, [(operation, 0)]), mask)


def test_zero_iterations_in_a_sequence_skips_only_that_step():
    mask = np.zeros((30, 30), dtype=bool)
    mask[10:20, 10:20] = True
    result = apply_sequence(mask, [("erosion", 0), ("erosion", 1), ("dilation", 0)])
    assert result.sum() == 8 * 8  # one erosion: the 10x10 square loses its rim
    assert np.array_equal(result, sk_erode(mask, CROSS))


def test_empty_sequence_returns_the_mask():
    mask = np.eye(10, dtype=bool)
    assert np.array_equal(apply_sequence(mask, []), mask)


@pytest.mark.parametrize("iterations", [-1, -14])
def test_negative_iterations_raise(iterations):
    mask = np.ones((5, 5), dtype=bool)
    with pytest.raises(ValueError, match=f"iterations must be >= 0, got {iterations}"):
        apply_operation(mask, "erosion", iterations, CROSS)
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        apply_sequence(mask, [("dilation", iterations)])


@pytest.mark.parametrize("operation", ["erode", "Erosion", "tophat", ""])
def test_unknown_operation_raises_naming_it_and_the_allowed_ones(operation):
    with pytest.raises(ValueError) as error:
        apply_sequence(np.ones((5, 5), dtype=bool), [(operation, 1)])
    message = str(error.value)
    assert repr(operation) in message
    assert "erosion, dilation, opening, closing" in message


def test_tutorial_steps_are_the_tutorials():
    assert tuple(TUTORIAL_STEPS) == (("erosion", 2), ("dilation", 14), ("erosion", 4))


# ---------------------------------------------------------------------------
# Footprints and dimensions
# ---------------------------------------------------------------------------


def test_footprint_connectivity_1_is_the_cross_and_2_the_square():
    assert np.array_equal(footprint(2, 1), CROSS)
    assert np.array_equal(footprint(2, 1), skmorph.footprint_rectangle((3, 3)) & CROSS)
    assert footprint(2, 1).sum() == 5
    assert np.array_equal(footprint(2, 2), SQUARE)
    assert footprint(3, 1).sum() == 7
    assert footprint(3, 3).sum() == 27


@pytest.mark.parametrize("ndim, connectivity", [(2, 0), (2, 3), (3, 4), (1, 2)])
def test_footprint_connectivity_out_of_range_raises(ndim, connectivity):
    with pytest.raises(ValueError, match=f"between 1 and {ndim}, got {connectivity}"):
        footprint(ndim, connectivity)


def test_connectivity_2_uses_the_square_footprint():
    mask = np.zeros((11, 11), dtype=bool)
    mask[5, 5] = True
    cross = apply_sequence(mask, [("dilation", 1)], connectivity=1)
    square = apply_sequence(mask, [("dilation", 1)], connectivity=2)
    assert cross.sum() == 5 and not cross[4, 4]
    assert square.sum() == 9 and square[4:7, 4:7].all()
    assert apply_sequence(mask, [("dilation", 3)], connectivity=2).sum() == 49  # 7x7
    assert apply_sequence(mask, [("dilation", 3)], connectivity=1).sum() == 25  # diamond


def test_connectivity_2_equals_skimage_with_square_footprint():
    rng = np.random.default_rng(9)
    mask = rng.random((50, 50)) < 0.55
    steps = [("erosion", 1), ("dilation", 3), ("erosion", 2)]
    expected = mask
    for operation, n in steps:
        for _ in range(n):
            if operation == "erosion":
                expected = skmorph.erosion(expected, SQUARE, mode="ignore")
            else:
                expected = skmorph.dilation(expected, SQUARE, mode="ignore")
    assert np.array_equal(apply_sequence(mask, steps, connectivity=2), expected)


def test_3d_mask_uses_a_3d_footprint():
    mask = np.zeros((7, 7, 7), dtype=bool)
    mask[3, 3, 3] = True
    grown = apply_sequence(mask, [("dilation", 1)])
    assert grown.shape == (7, 7, 7)
    assert grown.sum() == 7  # the 3D cross: centre and six face neighbours
    assert grown[2, 3, 3] and grown[4, 3, 3]
    assert apply_sequence(mask, [("dilation", 1)], connectivity=3).sum() == 27


def test_3d_connectivity_out_of_range_raises():
    with pytest.raises(ValueError, match="between 1 and 3, got 4"):
        apply_sequence(np.ones((3, 3, 3), dtype=bool), [("erosion", 1)], connectivity=4)


def test_2d_connectivity_3_raises():
    with pytest.raises(ValueError, match="between 1 and 2, got 3"):
        apply_sequence(np.ones((3, 3), dtype=bool), connectivity=3)
