"""scripts.steps.colorize: the tutorial's label2rgb + img_as_ubyte, as a lookup table."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import color, measure, util

from scripts.algorithms.palette import (
    TUTORIAL_COLORS,
    color_to_rgb,
    float_to_uint8,
    label_palette,
)
from scripts.steps.colorize import colorize_labels, intensity_to_unit

COLORS = ["greenyellow", "green", "yellow", "yellowgreen"]


def blob_labels(seed, shape=(60, 70), percentile=70):
    """A label image as the label step makes it (skimage.measure.label)."""
    rng = np.random.default_rng(seed)
    field = ndi.gaussian_filter(rng.random(shape), 2.0)
    return measure.label(field > np.percentile(field, percentile))


def reference(labels, **kwargs):
    return util.img_as_ubyte(color.label2rgb(labels, colors=COLORS, bg_label=0, **kwargs))


def gray_image(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True, dtype=dtype)


LABEL_CASES = {
    "blobs-a": blob_labels(0),
    "blobs-b": blob_labels(1, percentile=55),
    "blobs-c": blob_labels(2, shape=(33, 47), percentile=80),
    "one-object": measure.label(np.pad(np.ones((5, 5), bool), 3)),
    "all-foreground": measure.label(np.ones((6, 7), bool)),
    "no-objects": measure.label(np.zeros((8, 9), bool)),
    "many-single-pixels": measure.label(np.pad(np.eye(12, dtype=bool)[:, ::-1], 1)
                                        | np.pad(np.eye(12, dtype=bool), 1),
                                        connectivity=1),
}


def test_tutorial_colours():
    assert tuple(TUTORIAL_COLORS) == tuple(COLORS)


def test_label_cases_cover_cycling_and_empty():
    counts = {name: int(labels.max()) for name, labels in LABEL_CASES.items()}
    assert counts["no-objects"] == 0
    assert max(counts.values()) > 2 * len(COLORS)  # several turns of the cycle


@pytest.mark.parametrize("name", sorted(LABEL_CASES))
def test_equals_label2rgb_then_img_as_ubyte(name):
    labels = LABEL_CASES[name]
    rgb = colorize_labels(labels)
    assert rgb.dtype == np.uint8
    assert rgb.shape == labels.shape + (3,)
    assert np.array_equal(rgb, reference(labels))


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.int32, np.int64])
def test_label_dtypes_give_the_same_colours(dtype):
    labels = LABEL_CASES["blobs-a"]
    assert np.array_equal(colorize_labels(labels.astype(dtype)), reference(labels))


def test_colours_cycle_over_labels():
    labels = np.arange(10, dtype=np.uint16).reshape(2, 5)
    rgb = colorize_labels(labels)
    as_bytes = [tuple(int(v) for v in rgb.reshape(-1, 3)[k]) for k in range(10)]
    greenyellow, green, yellow, yellowgreen = [
        tuple(int(v) for v in np.rint(np.array(color.color_dict[name]) * 255))
        for name in COLORS
    ]
    assert as_bytes == [
        (0, 0, 0),
        greenyellow, green, yellow, yellowgreen,
        greenyellow, green, yellow, yellowgreen,
        greenyellow,
    ]
    assert green == (0, 128, 0)


@pytest.mark.parametrize("name", ["blobs-a", "blobs-b", "one-object", "no-objects"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_overlay_equals_label2rgb_with_image(name, dtype):
    labels = LABEL_CASES[name]
    gray = gray_image(labels.shape, dtype, seed=3)
    rgb = colorize_labels(labels, COLORS, image=gray, alpha=0.3)
    assert rgb.dtype == np.uint8 and rgb.shape == labels.shape + (3,)
    assert np.array_equal(rgb, reference(labels, image=gray, alpha=0.3))


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_overlay_alpha_equals_label2rgb(alpha):
    labels = LABEL_CASES["blobs-b"]
    gray = gray_image(labels.shape, np.uint8, seed=4)
    rgb = colorize_labels(labels, COLORS, image=gray, alpha=alpha)
    assert np.array_equal(rgb, reference(labels, image=gray, alpha=alpha))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_overlay_without_background_colour_equals_label2rgb(dtype):
    labels = LABEL_CASES["blobs-a"]
    gray = gray_image(labels.shape, dtype, seed=5)
    rgb = colorize_labels(labels, COLORS, image=gray, alpha=0.3, bg_color=None)
    assert np.array_equal(rgb, reference(labels, image=gray, alpha=0.3, bg_color=None))
    # The raw image shows unchanged (as gray) where there is no object.
    background = rgb[labels == 0]
    assert (background == background[:, :1]).all()
    if dtype == np.uint8:
        assert np.array_equal(background[:, 0], gray[labels == 0])


def test_no_overlay_without_background_colour_equals_label2rgb():
    labels = LABEL_CASES["blobs-a"]
    rgb = colorize_labels(labels, bg_color=None)
    assert np.array_equal(rgb, reference(labels, bg_color=None))
    assert not rgb[labels == 0].any()


@pytest.mark.parametrize("bg_color", ["white", "navy", (0.2, 0.4, 0.6)])
def test_background_colour_equals_label2rgb(bg_color):
    labels = LABEL_CASES["blobs-c"]
    assert np.array_equal(colorize_labels(labels, bg_color=bg_color),
                          reference(labels, bg_color=bg_color))
    gray = gray_image(labels.shape, np.uint8, seed=6)
    assert np.array_equal(
        colorize_labels(labels, image=gray, bg_color=bg_color),
        reference(labels, image=gray, alpha=0.3, bg_color=bg_color),
    )


def test_overlay_shape_mismatch_raises():
    labels = LABEL_CASES["blobs-a"]
    with pytest.raises(ValueError, match=r"image shape \(60, 69\) differs from label shape \(60, 70\)"):
        colorize_labels(labels, image=np.zeros((60, 69), np.uint8))


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_alpha_out_of_range_raises(alpha):
    with pytest.raises(ValueError, match=f"alpha must be in \\[0, 1\\], got {alpha}"):
        colorize_labels(LABEL_CASES["blobs-a"], alpha=alpha)


# ---------------------------------------------------------------------------
# Colour by label id
# ---------------------------------------------------------------------------


def test_a_label_keeps_its_colour_when_other_labels_are_removed():
    labels = LABEL_CASES["blobs-a"]
    assert labels.max() >= 6
    full = colorize_labels(labels)
    kept = labels.copy()
    kept[np.isin(kept, [1, 2, 4])] = 0  # labels 3, 5, 6, ... remain, not sequential
    partial = colorize_labels(kept)
    for label in (3, 5, 6):
        where = kept == label
        assert np.array_equal(partial[where], full[where])
    assert not partial[np.isin(labels, [1, 2, 4])].any()
    # label2rgb would colour by rank instead: label 3 would take the first colour.
    by_rank = reference(kept)
    assert not np.array_equal(by_rank[kept == 3][0], partial[kept == 3][0])


def test_label_colour_is_its_id_modulo_the_palette():
    labels = np.array([[0, 7, 12, 1001]], dtype=np.uint16)
    rgb = colorize_labels(labels, ["red", "lime", "blue"])
    assert rgb[0].tolist() == [[0, 0, 0], [255, 0, 0], [0, 0, 255], [0, 255, 0]]


# ---------------------------------------------------------------------------
# Colours
# ---------------------------------------------------------------------------


def test_rgb_triples_are_accepted_and_equal_label2rgb():
    labels = LABEL_CASES["blobs-a"]
    triples = [(1.0, 0.0, 0.0), [0.0, 0.5, 1.0], np.array([0.2, 0.2, 0.2])]
    rgb = colorize_labels(labels, triples)
    expected = util.img_as_ubyte(color.label2rgb(labels, colors=triples, bg_label=0))
    assert np.array_equal(rgb, expected)
    assert rgb[labels == 1][0].tolist() == [255, 0, 0]
    assert rgb[labels == 2][0].tolist() == [0, 128, 255]


def test_names_and_triples_can_be_mixed():
    labels = np.array([[1, 2]], dtype=np.uint16)
    assert colorize_labels(labels, ["blue", (1, 1, 0)]).tolist() == [[[0, 0, 255], [255, 255, 0]]]


@pytest.mark.parametrize("name", ["greenish", "Green", "ggreen", ""])
def test_unknown_colour_name_raises_naming_it(name):
    with pytest.raises(ValueError) as error:
        colorize_labels(LABEL_CASES["blobs-a"], ["green", name])
    assert f"unknown colour name {name!r}" in str(error.value)
    assert "skimage.color.color_dict" in str(error.value)


def test_unknown_background_colour_raises_naming_it():
    with pytest.raises(ValueError, match="unknown colour name 'blackish'"):
        colorize_labels(LABEL_CASES["blobs-a"], bg_color="blackish")


@pytest.mark.parametrize("bad", [(1, 0), (0, 0, 0, 1), (1.5, 0, 0), (-0.1, 0, 0)])
def test_bad_rgb_triple_raises(bad):
    with pytest.raises(ValueError, match="must be a name or three numbers in \\[0, 1\\]"):
        color_to_rgb(bad)


def test_color_to_rgb():
    assert color_to_rgb("green").tolist() == list(color.color_dict["green"])
    assert color_to_rgb("greenyellow").tolist() == list(color.color_dict["greenyellow"][:3])
    assert color_to_rgb([0.1, 0.2, 0.3]).dtype == np.float64


def test_label_palette():
    palette = label_palette(5, ["red", "blue"], bg_color="white")
    assert palette.shape == (6, 3)
    assert palette.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0]]
    assert label_palette(0).shape == (1, 3)
    assert label_palette(0, bg_color=None).tolist() == [[0, 0, 0]]


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------


def test_float_to_uint8_equals_img_as_ubyte():
    values = np.concatenate([np.linspace(0, 1, 2001), [0.5 / 255, 1.5 / 255, 254.5 / 255]])
    assert np.array_equal(float_to_uint8(values), util.img_as_ubyte(values))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_intensity_to_unit_equals_img_as_float_for_unsigned(dtype):
    image = gray_image((10, 10), dtype, seed=7)
    assert np.array_equal(intensity_to_unit(image), util.img_as_float(image))
    every_uint8 = np.arange(256, dtype=np.uint8)  # 1/255 rounds differently from /255
    assert np.array_equal(intensity_to_unit(every_uint8), util.img_as_float(every_uint8))


def test_intensity_to_unit_floats_are_min_max_scaled():
    image = np.array([[2.0, 4.0], [6.0, 10.0]])
    assert intensity_to_unit(image).tolist() == [[0, 0.25], [0.5, 1]]
    assert not intensity_to_unit(np.full((2, 2), 3.5)).any()


def test_intensity_to_unit_signed_integers_clip_negative_values():
    image = np.array([-100, 0, 16383, 32767], dtype=np.int16)
    assert intensity_to_unit(image).tolist() == pytest.approx([0, 0, 16383 / 32767, 1])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.float32])
@pytest.mark.parametrize("bg_color", ["black", None])
def test_overlay_blended_in_blocks_equals_at_once(monkeypatch, dtype, bg_color):
    from scripts.steps import colorize

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 6, (37, 41)).astype(np.uint16)
    image = rng.integers(-500, 4000, labels.shape).astype(dtype)
    whole = colorize.colorize_labels(labels, image=image, bg_color=bg_color)
    monkeypatch.setattr(colorize, "BLEND_BLOCK_PIXELS", 100)  # 16 blocks
    in_blocks = colorize.colorize_labels(labels, image=image, bg_color=bg_color)
    np.testing.assert_array_equal(in_blocks, whole)
    assert in_blocks.shape == labels.shape + (3,) and in_blocks.dtype == np.uint8
