"""The QC figures of the report (scripts/report/figures.py): what each panel shows,
outlines, histograms, and that the same input gives the same PNG bytes."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image
from skimage.segmentation import find_boundaries

from scripts.report import figures
from scripts.steps.colorize import colorize_labels
from scripts.imaging import read_tiff, write_tiff
from scripts.imaging import mask_to_uint8
from scripts.algorithms.contrast import rescale

COLORS = ("greenyellow", "green", "yellow", "yellowgreen")


def disc(shape, centre, radius):
    yy, xx = np.indices(shape)
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


@pytest.fixture
def scene():
    """A dark uint8 raw image with three blobs (two touching), and its steps."""
    rng = np.random.default_rng(0)
    shape = (60, 80)
    labels = np.zeros(shape, dtype=np.uint16)
    labels[disc(shape, (20, 20), 9)] = 1
    labels[disc(shape, (40, 50), 10)] = 2
    labels[(labels == 0) & disc(shape, (40, 68), 8)] = 3  # touches label 2
    raw = (rng.integers(0, 6, shape) + 40 * (labels > 0)).astype(np.uint8)
    mask = mask_to_uint8(labels > 0)
    colorized = colorize_labels(labels, COLORS)
    steps = [
        ("threshold", mask),
        ("morphology", mask),
        ("label", labels),
        ("colorize", colorized),
        ("rescale", rescale(colorized)),
    ]
    return raw, labels, steps


# --------------------------------------------------------------------------
# Panels of the strip
# --------------------------------------------------------------------------


def test_every_panel_is_rgb_uint8_of_the_image_shape(scene):
    raw, _, steps = scene
    panels = figures.step_panels(raw, steps)
    assert [title.split()[0] for title, _ in panels] == [
        "raw",
        "threshold",
        "morphology",
        "label",
        "colorize",
        "rescale",
    ]
    for _, pixels in panels:
        assert pixels.shape == raw.shape + (3,)
        assert pixels.dtype == np.uint8
    titles = dict((title.split()[0], title) for title, _ in panels)
    assert titles["label"] == "label (3 objects)"
    fraction = np.count_nonzero(steps[0][1]) / raw.size
    assert titles["threshold"] == f"threshold ({fraction:.1%} fg)"


def test_colorized_and_rescaled_panels_are_the_tiff_pixels(scene, tmp_path):
    raw, _, steps = scene
    written = []
    for step, pixels in steps:
        path = tmp_path / f"{step}.tif"
        write_tiff(path, pixels, {"step": step})
        written.append((step, read_tiff(path)[0]))
    panels = dict(zip([s for s, _ in steps], figures.step_panels(raw, written)[1:]))
    np.testing.assert_array_equal(panels["colorize"][1], read_tiff(tmp_path / "colorize.tif")[0])
    np.testing.assert_array_equal(panels["rescale"][1], read_tiff(tmp_path / "rescale.tif")[0])


def test_mask_panels_are_the_masks_in_gray(scene):
    raw, _, steps = scene
    _, threshold = figures.step_panels(raw, steps)[1]
    for channel in range(3):
        np.testing.assert_array_equal(threshold[..., channel], steps[0][1])


def test_label_panel_gives_each_object_its_tab20_colour_on_black(scene):
    raw, labels, steps = scene
    _, panel = figures.step_panels(raw, steps)[3]
    tab20 = np.rint(np.array(colormaps["tab20"].colors) * 255).astype(np.uint8)
    assert (panel[labels == 0] == 0).all()
    for label in (1, 2, 3):
        assert (panel[labels == label] == tab20[label - 1]).all()
    # label 21 wraps around to the first colour
    np.testing.assert_array_equal(figures.label_display_colors(21)[21], tab20[0])


def test_raw_panel_is_the_stretched_raw_image(scene):
    raw, _, steps = scene
    _, panel = figures.step_panels(raw, steps)[0]
    low, high = np.percentile(raw, figures.DISPLAY_PERCENTILES)
    assert (panel[raw <= low] == 0).all()
    assert (panel[raw >= high] == 255).all()
    assert (panel[..., 0] == panel[..., 1]).all() and (panel[..., 1] == panel[..., 2]).all()


def test_large_images_are_subsampled_but_titles_count_every_pixel():
    labels = np.zeros((1200, 900), dtype=np.uint16)
    labels[0, 1] = 1  # a one-pixel object that subsampling misses
    labels[600:700, 400:500] = 2
    mask = mask_to_uint8(labels > 0)
    panels = figures.step_panels(mask, [("threshold", mask), ("label", labels)])
    for _, pixels in panels:
        assert pixels.shape == (400, 300, 3)
    assert panels[2][0] == "label (2 objects)"
    assert panels[1][0] == f"threshold ({10001 / labels.size:.1%} fg)"


def test_stretch_of_a_constant_image_is_black():
    np.testing.assert_array_equal(
        figures.stretch_to_uint8(np.full((4, 5), 7, np.uint16)), np.zeros((4, 5), np.uint8)
    )


def test_volumes_are_shown_as_maximum_projections():
    volume = np.zeros((3, 4, 5), dtype=np.uint8)
    volume[1, 2, 3] = 9
    flat = figures.flatten_for_display(volume)
    assert flat.shape == (4, 5) and flat[2, 3] == 9
    rgba = np.zeros((4, 5, 4), dtype=np.uint8)
    assert figures.flatten_for_display(rgba).shape == (4, 5, 3)


# --------------------------------------------------------------------------
# Outline overlay
# --------------------------------------------------------------------------


def test_outline_overlay_marks_exactly_the_object_boundaries(scene):
    raw, labels, _ = scene
    overlay = figures.outline_overlay(raw, labels, COLORS)
    gray = figures.gray_to_rgb(figures.stretch_to_uint8(raw))
    changed = np.any(overlay != gray, axis=-1)
    edges = find_boundaries(labels, mode="inner")
    np.testing.assert_array_equal(changed, edges)
    # Two touching objects: both edges drawn where they meet.
    assert edges[labels == 2].any() and edges[labels == 3].any()


def luminance(rgb):
    return (np.asarray(rgb, dtype=np.float64) / 255) @ np.array([0.2125, 0.7154, 0.0721])


def test_outlines_have_the_colours_of_the_colorize_tiff_made_visible(scene):
    raw, labels, _ = scene
    overlay = figures.outline_overlay(raw, labels, COLORS)
    edges = find_boundaries(labels, mode="inner")
    tiff_colours = colorize_labels(labels, COLORS)[edges]
    # A dark image: every outline at least the target luminance (the
    # tutorial's dark green is lightened), each the colorize colour mixed with
    # white, so the strongest channel stays the strongest (same hue).
    assert luminance(overlay[edges]).min() >= figures.OUTLINE_LUMINANCE[0] - 0.01
    np.testing.assert_array_equal(overlay[edges].argmax(axis=1), tiff_colours.argmax(axis=1))
    assert np.all(overlay[edges].astype(int) >= tiff_colours)
    light = luminance(tiff_colours) >= figures.OUTLINE_LUMINANCE[0]
    np.testing.assert_array_equal(overlay[edges][light], tiff_colours[light])


def test_outlines_on_a_bright_image_are_darkened():
    labels = np.zeros((40, 40), dtype=np.uint16)
    labels[10:30, 10:30] = 1
    labels[12:20, 32:38] = 2
    # Bright background, darker objects (e.g. a brightfield or inverted image).
    raw = np.random.default_rng(1).integers(200, 256, labels.shape).astype(np.uint8)
    raw[labels > 0] = 60
    overlay = figures.outline_overlay(raw, labels, ["yellow", "green"])
    edges = find_boundaries(labels, mode="inner")
    assert luminance(overlay[edges]).max() <= figures.OUTLINE_LUMINANCE[1] + 0.01


def test_overlay_without_objects_is_the_stretched_raw_image(scene):
    raw, _, _ = scene
    overlay = figures.outline_overlay(raw, np.zeros(raw.shape, np.uint16))
    np.testing.assert_array_equal(overlay, figures.gray_to_rgb(figures.stretch_to_uint8(raw)))


def test_overlay_refuses_mismatched_shapes(scene):
    raw, labels, _ = scene
    with pytest.raises(ValueError, match="differs"):
        figures.outline_overlay(raw, labels[:-1])


@pytest.mark.parametrize(
    ("shape", "expected_side"),
    [((60, 80), 800), ((300, 380), 760), ((1000, 1000), 1000), ((2048, 3000), 1000)],
)
def test_display_overlay_is_sized_for_a_screen(shape, expected_side):
    raw = np.zeros(shape, dtype=np.uint8)
    labels = np.zeros(shape, dtype=np.uint16)
    labels[: shape[0] // 2, : shape[1] // 2] = 1
    rgb = figures.display_overlay(raw, labels)
    assert max(rgb.shape[:2]) == expected_side
    assert np.any(rgb != 0)  # the outline survived the resizing


# --------------------------------------------------------------------------
# Histograms
# --------------------------------------------------------------------------


def test_uint8_histogram_is_the_bincount():
    image = np.random.default_rng(1).integers(0, 60, (50, 70)).astype(np.uint8)
    counts, edges = figures.intensity_histogram(image)
    np.testing.assert_array_equal(counts, np.bincount(image.ravel(), minlength=256))
    np.testing.assert_array_equal(edges, np.arange(257))


def test_uint16_histogram_bins_256_values_each():
    image = np.random.default_rng(2).integers(0, 4096, (40, 40)).astype(np.uint16)
    counts, edges = figures.intensity_histogram(image)
    np.testing.assert_array_equal(counts, np.bincount(image.ravel() >> 8, minlength=256))
    assert edges[0] == 0 and edges[-1] == 65536


def test_other_integer_histograms_count_every_pixel_exactly():
    image = np.array([[-5, -5, 0], [3, 1000, 1000]], dtype=np.int16)
    counts, edges = figures.intensity_histogram(image)
    assert counts.sum() == image.size
    for value in np.unique(image):
        k = np.searchsorted(edges, value, side="right") - 1
        assert counts[k] >= np.count_nonzero(image == value)
    assert edges[0] == -5 and edges[-1] > 1000


def test_float_histogram_is_numpys():
    image = np.random.default_rng(3).random((30, 30))
    counts, edges = figures.intensity_histogram(image)
    expected, expected_edges = np.histogram(image, bins=256, range=(image.min(), image.max()))
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(edges, expected_edges)


def test_saturated_fractions_count_pixels_at_the_dtype_limits():
    image = np.array([[0, 0, 10, 255]], dtype=np.uint8)
    assert figures.saturated_fractions(image) == (0.5, 0.25)


# --------------------------------------------------------------------------
# Saved figures: pixels and determinism
# --------------------------------------------------------------------------


def png_bytes(tmp_path, name, build, *args):
    """The PNG of a matplotlib figure (`build` returns one) or of a picture
    (`build` returns an RGB array)."""
    path = tmp_path / name
    built = build(*args)
    if isinstance(built, np.ndarray):
        figures.save_png(path, built)
    else:
        figures.render(lambda: built, path)
    return path.read_bytes()


def test_strip_png_holds_the_panels_pixel_for_pixel(scene, tmp_path):
    raw, _, steps = scene
    panels = figures.step_panels(raw, steps)
    path = tmp_path / "strip.png"
    figures.save_png(path, figures.strip_picture(panels, image_id="an image"))
    canvas, anchors = figures.strip_canvas(panels)
    saved = np.asarray(Image.open(path).convert("RGB"))
    assert saved.shape == canvas.shape
    # Inside the panels the PNG is the canvas: the TIFF colours, unchanged.
    side, per_row = figures.PANEL_SIDE, figures.PANELS_PER_ROW
    for index, (x, y) in enumerate(anchors):
        top, left = y + figures.TITLE_HEIGHT // 2, x - side // 2
        np.testing.assert_array_equal(
            saved[top : top + side, left : left + side], canvas[top : top + side, left : left + side]
        )
    assert len(anchors) == 6 and anchors[per_row][1] > anchors[0][1]  # two rows of three
    colorize_panel = figures.fit_nearest(panels[4][1])
    colours = {tuple(c) for c in colorize_panel.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in panels[4][1].reshape(-1, 3)}


def test_fit_nearest_keeps_the_aspect_and_only_input_colours():
    pixels = np.arange(30 * 60 * 3, dtype=np.uint32).reshape(30, 60, 3)
    fitted = figures.fit_nearest(pixels, 240)
    assert fitted.shape == (120, 240, 3)
    assert set(fitted.ravel()) <= set(pixels.ravel())
    assert figures.fit_nearest(pixels[:1, :1], 240).shape == (240, 240, 3)


def test_figures_are_byte_identical_on_rerun(scene, tmp_path):
    raw, labels, steps = scene
    panels = figures.step_panels(raw, steps)
    cases = [
        (figures.strip_picture, panels),
        (figures.histogram_picture, raw, rescale(raw), "min-max"),
        (figures.counts_figure, ["a", "b"], [3, 0], [False, True]),
        (figures.counts_figure, [f"i{k}" for k in range(100)], list(range(100)), [False] * 100),
    ]
    for index, (build, *args) in enumerate(cases):
        first = png_bytes(tmp_path, f"{index}a.png", build, *args)
        second = png_bytes(tmp_path, f"{index}b.png", build, *args)
        assert first == second
        assert first[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"matplotlib" not in first.lower()  # no Software tag
    overlay = figures.display_overlay(raw, labels, COLORS)
    figures.save_png(tmp_path / "o1.png", overlay)
    figures.save_png(tmp_path / "o2.png", overlay)
    assert (tmp_path / "o1.png").read_bytes() == (tmp_path / "o2.png").read_bytes()
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o1.png")), overlay)


def test_figures_drawn_in_threads_equal_those_drawn_alone(scene, tmp_path):
    raw, _, steps = scene
    alone = png_bytes(tmp_path, "alone.png", figures.counts_figure, ["a", "b"], [3, 4])
    threads = [
        threading.Thread(
            target=figures.render,
            args=(figures.counts_figure, tmp_path / f"t{k}.png", ["a", "b"], [3, 4]),
        )
        for k in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all((tmp_path / f"t{k}.png").read_bytes() == alone for k in range(3))


def test_no_temporary_file_is_left_behind(scene, tmp_path):
    raw, _, steps = scene
    figures.save_png(tmp_path / "s.png", figures.strip_picture(figures.step_panels(raw, steps)))
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]


def test_the_histogram_picture_shows_both_images_and_their_histograms(scene):
    raw, _, _ = scene
    picture = figures.histogram_picture(raw, rescale(raw), "min-max")
    width, height = figures.PLOT_SIZE
    assert picture.dtype == np.uint8 and picture.shape[1] > 2 * width
    plot = figures.histogram_plot(raw)
    assert plot.shape == (height, width, 3)
    red = np.all(plot == figures.CUMULATIVE_RED, axis=-1)
    gray = np.all(plot == figures.HISTOGRAM_GRAY, axis=-1)
    assert red.any() and gray.any()
    # The cumulative line ends at the top right: every pixel counted.
    assert red[:4, -4:].any()


# --------------------------------------------------------------------------
# Counts plot
# --------------------------------------------------------------------------


def test_counts_plot_has_one_bar_per_image_up_to_the_limit():
    figure = figures.counts_figure(["a", "b", "c"], [4, 0, 7], [False, True, False])
    (axis,) = figure.axes
    bars = axis.patches
    assert [bar.get_width() for bar in bars] == [4, 0, 7]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["a", "b", "c"]
    red = bars[1].get_facecolor()
    assert red != bars[0].get_facecolor()


def test_counts_plot_of_many_images_does_not_grow():
    n = figures.MAX_BARS + 1
    small = figures.counts_figure([str(k) for k in range(n)], list(range(n)))
    large = figures.counts_figure([str(k) for k in range(10_000)], [k % 37 for k in range(10_000)])
    assert len(small.axes) == len(large.axes) == 2
    assert tuple(small.get_size_inches()) == tuple(large.get_size_inches())
