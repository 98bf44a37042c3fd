"""Pictures for checking a segmentation by eye: the report's QC figures.

Pure functions turn arrays into display arrays (uint8 gray or RGB) and
matplotlib figures; :func:`save_figure` and :func:`save_png` write them
atomically and deterministically (fixed dpi, no "Software" or date metadata:
the same input gives the same bytes). The Snakemake entry points that read
the files are in :mod:`scripts.report` (``image``, ``counts``, ``evaluation``,
``wells``).

Colours follow the TIFFs: masks are gray 0/255 as stored, the colorize and
rescale panels are the TIFF pixels unchanged, and object outlines are drawn
in the colour each object has in the colorize TIFF (``colorize.colors``).
Only the label panel uses its own palette (matplotlib's ``tab20``, label *k*
gets colour *(k - 1) mod 20*) so that touching objects look different.

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas,
never with ``pyplot``: jobs may run as threads inside the Snakemake process
(``job_processes: 0``, the tables always; docs/design.md) and pyplot's
global state is not thread-safe. Rendering is
serialised by a lock as well (matplotlib promises no thread safety).

Command line (README pictures)::

    python -m scripts.report.figures results four_cells docs/four_cells_steps.png

draws the strip of steps of one image from a finished run.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from skimage.segmentation import find_boundaries  # noqa: E402

from scripts.algorithms.palette import TUTORIAL_COLORS, float_to_uint8, label_palette  # noqa: E402
from scripts.config.screens import row_letters  # noqa: E402
from scripts.imaging import LUMA_WEIGHTS, atomic_path  # noqa: E402

#: Resolution of every saved figure (fixed, so the bytes are too).
DPI = 100
#: Percentiles of the contrast stretch used to *display* raw images.
DISPLAY_PERCENTILES = (0.5, 99.5)
#: The step whose output is drawn as a label image (one colour per object).
LABEL_STEP = "label"
#: Images are subsampled to at most this many pixels per side for the strip
#: and the histogram figure (which show them at about :data:`PANEL_SIDE` pixels).
PANEL_MAX_SIDE = 512
#: Outline overlays are written at the image's own resolution, enlarged by
#: the largest whole factor that keeps the longer side <= OVERLAY_TARGET_SIDE,
#: or subsampled by the smallest whole factor that brings it <= OVERLAY_MAX_SIDE.
OVERLAY_TARGET_SIDE = 800
OVERLAY_MAX_SIDE = 1024
#: Up to this many images, the counts plot has one bar per image.
MAX_BARS = 60
#: Colour of flagged values in the counts plot (images without objects).
WARNING_COLOR = "#d62728"
BAR_COLOR = "#4c72b0"

_RENDER_LOCK = threading.RLock()


# --------------------------------------------------------------------------
# Display arrays
# --------------------------------------------------------------------------


def flatten_for_display(pixels):
    """A 2D gray or (Y, X, 3) RGB array: 3D volumes become their maximum
    projection along the first axis; 2D and RGB(A) arrays are kept (alpha
    dropped)."""
    pixels = np.asarray(pixels)
    is_colour = pixels.ndim >= 3 and pixels.shape[-1] in (3, 4)
    while pixels.ndim > (3 if is_colour else 2):
        pixels = pixels.max(axis=0)
    if is_colour:
        pixels = pixels[..., :3]
    return pixels


def stretch_to_uint8(image, percentiles=DISPLAY_PERCENTILES):
    """Gray uint8 image for display: `image` linearly stretched so that the
    lower percentile becomes 0 and the upper 255, values outside clipped.

    Parameters
    ----------
    image : ndarray, shape (Y, X), any real dtype
    percentiles : (float, float) or None
        None stretches min-max.

    Returns
    -------
    gray : ndarray of uint8, shape (Y, X)
        All zeros for a constant image.
    """
    values = np.asarray(image, dtype=np.float64)
    if values.size == 0:
        return np.zeros(values.shape, dtype=np.uint8)
    if percentiles is None:
        low, high = float(values.min()), float(values.max())
    else:
        low, high = (float(v) for v in np.percentile(values, percentiles))
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return float_to_uint8(np.clip((values - low) / (high - low), 0, 1))


def gray_to_rgb(gray):
    """(Y, X) uint8 -> (Y, X, 3) uint8 with three equal planes."""
    return np.repeat(np.asarray(gray, dtype=np.uint8)[..., None], 3, axis=-1)


def label_display_colors(max_label):
    """uint8 RGB table (max_label + 1, 3): black, then tab20 cycled."""
    tab20 = np.array(colormaps["tab20"].colors, dtype=np.float64)
    index = np.arange(max_label, dtype=np.int64) % len(tab20)
    table = np.concatenate([np.zeros((1, 3)), tab20[index]])
    return float_to_uint8(table)


def labels_to_rgb(labels):
    """Label image as RGB uint8: background black, label k tab20[(k-1) % 20]."""
    labels = np.asarray(labels)
    max_label = int(labels.max()) if labels.size else 0
    return label_display_colors(max_label)[labels]


def is_mask(pixels):
    """True for a uint8 image whose values are all 0 or 255 (a stored mask)."""
    return pixels.dtype == np.uint8 and bool(np.all((pixels == 0) | (pixels == 255)))


def step_panel(step, pixels, max_side=PANEL_MAX_SIDE):
    """(title, RGB uint8 array) showing one step's output as its TIFF does.

    RGB outputs (colorize, rescale) are returned unchanged; uint8 gray outputs
    (the 0/255 masks of threshold and morphology) as gray; label steps in
    the label palette (:func:`labels_to_rgb`); any other gray output
    (e.g. float) min-max stretched. Volumes are shown as their maximum
    projection, images larger than `max_side` subsampled (every n-th pixel);
    the title's numbers (objects, foreground fraction) count every pixel.
    """
    pixels = np.asarray(pixels)
    is_colour = pixels.ndim >= 3 and pixels.shape[-1] in (3, 4)
    label_image = step == LABEL_STEP and not is_colour
    mask = not is_colour and not label_image and is_mask(pixels)
    if label_image:
        title = f"{step} ({int(pixels.max()) if pixels.size else 0} objects)"
    elif mask:
        title = f"{step} ({np.count_nonzero(pixels) / max(pixels.size, 1):.1%} fg)"
    else:
        title = step
    shown = flatten_for_display(pixels)
    stride = subsample_stride(shown.shape, max_side)
    shown = shown[::stride, ::stride]
    if is_colour:
        return title, np.asarray(shown, dtype=np.uint8)
    if label_image:
        return title, labels_to_rgb(shown)
    if shown.dtype == np.uint8:
        return title, gray_to_rgb(shown)
    return title, gray_to_rgb(stretch_to_uint8(shown, None))


def step_panels(raw, steps, max_side=PANEL_MAX_SIDE):
    """The panels of the strip: the raw image, then one per step.

    Parameters
    ----------
    raw : ndarray, shape (Y, X) or (Z, Y, X)
        The raw image as read (any dtype); shown contrast-stretched between
        the 0.5 and 99.5 percentiles so that dark images are visible.
    steps : sequence of (str, ndarray)
        Step name and the pixels of its output TIFF, in workflow order.
    max_side : int
        Larger images are subsampled to at most this many pixels per side
        (the strip shows each panel at :data:`PANEL_SIDE` pixels).

    Returns
    -------
    list of (str, ndarray of uint8, shape (Y', X', 3))
        ``(Y', X') == (Y, X)`` for images up to `max_side`.
    """
    shown = flatten_for_display(raw)
    stride = subsample_stride(shown.shape, max_side)
    low, high = DISPLAY_PERCENTILES
    panels = [
        (
            f"raw ({low:g}-{high:g} % stretch)",
            gray_to_rgb(stretch_to_uint8(shown[::stride, ::stride])),
        )
    ]
    panels.extend(step_panel(step, pixels, max_side) for step, pixels in steps)
    return panels


def subsample_stride(shape, max_side):
    """Smallest integer stride that brings the longer side to <= max_side."""
    return max(1, -(-max(shape[:2]) // max_side))


def overlay_zoom(shape, target_side=OVERLAY_TARGET_SIDE, max_side=OVERLAY_MAX_SIDE):
    """(enlarge, stride): whole factors that bring the overlay's longer side
    near `target_side` (small images) or below `max_side` (large ones)."""
    side = max(shape[:2])
    if side > max_side:
        return 1, subsample_stride(shape, max_side)
    return max(1, target_side // max(side, 1)), 1


#: Least luminance of an outline on a dark image, and most on a bright one
#: (0..1, the ITU-R BT.709 weights of scikit-image's rgb2gray).
OUTLINE_LUMINANCE = (0.6, 0.35)


def contrasting_colors(palette, background):
    """The colours of `palette` (uint8 RGB rows) made to stand out against a
    gray `background` (0..255): on a dark image (below mid-gray) a colour
    darker than :data:`OUTLINE_LUMINANCE`'s first value is mixed with white
    until it reaches it, on a bright image one lighter than the second is
    mixed with black. The hue is kept, so an outline's colour still names
    its object's colour in the colorize TIFF."""
    rgb = palette.astype(np.float64) / 255
    luminance = rgb @ LUMA_WEIGHTS
    if background < 128:
        target = OUTLINE_LUMINANCE[0]
        mix = np.clip((target - luminance) / np.maximum(1 - luminance, 1e-9), 0, 1)
        rgb = rgb + (1 - rgb) * mix[:, None]
    else:
        target = OUTLINE_LUMINANCE[1]
        mix = np.clip((luminance - target) / np.maximum(luminance, 1e-9), 0, 1)
        rgb = rgb * (1 - mix[:, None])
    return float_to_uint8(rgb)


def outline_overlay(raw, labels, colors=TUTORIAL_COLORS):
    """Object outlines drawn over the contrast-stretched raw image.

    Parameters
    ----------
    raw : ndarray, shape (Y, X)
        Raw image (any dtype); shown as :func:`stretch_to_uint8` does.
    labels : ndarray of int, shape (Y, X)
        Label image, 0 = background.
    colors : sequence of colour names
        The colorize step's colours: the outline of label k is drawn in
        ``colors[(k - 1) % len(colors)]``, its colour in the colorize TIFF.

    Returns
    -------
    rgb : ndarray of uint8, shape (Y, X, 3)
        Gray everywhere except the pixels of
        ``skimage.segmentation.find_boundaries(labels, mode="inner")`` (the
        object pixels that touch another label or the background), which
        take their object's colour, lightened on a dark image and darkened
        on a bright one (:func:`contrasting_colors`).
    """
    raw = flatten_for_display(raw)
    labels = flatten_for_display(labels)
    if raw.shape != labels.shape:
        raise ValueError(f"raw shape {raw.shape} differs from label shape {labels.shape}")
    rgb = gray_to_rgb(stretch_to_uint8(raw))
    max_label = int(labels.max()) if labels.size else 0
    if max_label == 0:
        return rgb
    gray = rgb[..., 0]
    palette = contrasting_colors(float_to_uint8(label_palette(max_label, colors)), np.median(gray))
    edges = find_boundaries(labels, mode="inner")
    rgb[edges] = palette[labels[edges]]
    return rgb


def display_overlay(raw, labels, colors=TUTORIAL_COLORS):
    """:func:`outline_overlay` at a size fit for a screen (see
    :func:`overlay_zoom`): large images are subsampled *before* the outlines
    are found, so outlines stay one (enlarged) pixel wide and visible."""
    enlarge, stride = overlay_zoom(np.shape(labels))
    raw = flatten_for_display(raw)[::stride, ::stride]
    labels = flatten_for_display(labels)[::stride, ::stride]
    rgb = outline_overlay(raw, labels, colors)
    if enlarge > 1:
        rgb = np.repeat(np.repeat(rgb, enlarge, axis=0), enlarge, axis=1)
    return rgb


# --------------------------------------------------------------------------
# Histograms
# --------------------------------------------------------------------------


def histogram_range(image):
    """(low, high) of the histogram's x axis: the dtype's full range for
    uint8 and uint16 (so before/after rescaling share one axis, as in the
    tutorial's figure), else the image's own min and max."""
    if image.dtype in (np.uint8, np.uint16):
        return 0, int(np.iinfo(image.dtype).max)
    if image.size == 0:
        return 0, 0
    return image.min().item(), image.max().item()


def intensity_histogram(image, bins=256):
    """Pixel counts of `image` in `bins` equal bins of :func:`histogram_range`.

    Integer images are binned exactly: each bin holds ``width`` consecutive
    integer values, ``width = ceil((high - low + 1) / bins)``, so a uint8
    image gets one bin per value (the counts are ``np.bincount``) and a
    uint16 image bins of 256 values. Float images use ``np.histogram``.

    Returns
    -------
    counts : ndarray of int64, shape (n,)
    edges : ndarray of float64, shape (n + 1,)
        Bin k holds the values in ``[edges[k], edges[k + 1])``.
    """
    image = np.asarray(image)
    low, high = histogram_range(image)
    values = image.ravel()
    if np.issubdtype(image.dtype, np.integer) or image.dtype == bool:
        width = max(1, -(-(int(high) - int(low) + 1) // bins))
        n_bins = -(-(int(high) - int(low) + 1) // width)
        shifted = values.astype(np.int64) - int(low)
        counts = np.bincount(shifted // width, minlength=n_bins)[:n_bins]
        edges = int(low) + width * np.arange(n_bins + 1, dtype=np.float64)
        return counts.astype(np.int64), edges
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(values, bins=bins, range=(float(low), float(high)))
    return counts.astype(np.int64), edges


def saturated_fractions(image):
    """Fractions of pixels at the dtype's minimum and maximum (integers) or
    at the image's min and max (floats): what a rescale clipped."""
    if image.size == 0:
        return 0.0, 0.0
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        low, high = info.min, info.max
    else:
        low, high = image.min(), image.max()
    return float(np.mean(image == low)), float(np.mean(image == high))


def gray_for_display(image):
    """uint8 gray image showing `image` on its histogram range
    (:func:`histogram_range`: the dtype's full range for uint8/uint16, so a
    dark image stays dark, as a viewer shows it)."""
    low, high = histogram_range(image)
    if high <= low:
        return np.zeros(image.shape, dtype=np.uint8)
    unit = (np.asarray(image, dtype=np.float64) - low) / (high - low)
    return float_to_uint8(np.clip(unit, 0, 1))


#: Size of one histogram plot of :func:`histogram_picture` (px).
PLOT_SIZE = (360, 150)
#: Colours of the histogram pictures.
HISTOGRAM_GRAY = (90, 90, 90)
CUMULATIVE_RED = (214, 39, 40)
AXIS_GRAY = (120, 120, 120)


def histogram_plot(image, size=PLOT_SIZE):
    """A histogram of `image` drawn in pixels: the counts as gray columns
    (:func:`intensity_histogram`), the cumulative distribution as a red
    line, on white.

    Returns
    -------
    ndarray of uint8, shape (height, width, 3)
    """
    width, height = size
    counts, _ = intensity_histogram(image)
    plot = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(plot)
    top = max(int(counts.max()), 1)
    columns = np.linspace(0, width, counts.size + 1)
    for index, count in enumerate(counts):
        if count:
            x0, x1 = columns[index], max(columns[index + 1] - 1, columns[index])
            draw.rectangle((x0, height - 1 - count / top * (height - 2), x1, height - 1), fill=HISTOGRAM_GRAY)
    cumulative = np.cumsum(counts) / max(int(counts.sum()), 1)
    points = [(float(x), float(height - 1 - c * (height - 2))) for x, c in zip(columns[1:], cumulative)]
    draw.line(points, fill=CUMULATIVE_RED, width=2)
    draw.rectangle((0, 0, width - 1, height - 1), outline=AXIS_GRAY)
    return np.asarray(plot)


def histogram_picture(raw, rescaled, rescale_label):
    """The tutorial's contrast figure for one image: the raw image and the
    raw image rescaled as the ``rescale`` step is configured, each above its
    intensity histogram (gray) and cumulative distribution (red), on the
    dtype's full range (uint8 and uint16) or the values present (others).
    Drawn with Pillow, pixel by pixel.

    Parameters
    ----------
    raw, rescaled : ndarray, shape (Y, X) or (Z, Y, X)
        Histograms count every pixel; volumes are shown as their maximum
        projection.
    rescale_label : str
        How it was rescaled ("min-max", "percentiles 0.5-99.5").

    Returns
    -------
    ndarray of uint8, shape (Y, X, 3)
    """
    width, height = PLOT_SIZE
    margin, title_height, label_height = 24, 36, 18
    low_clip, high_clip = saturated_fractions(rescaled)
    titles = (
        f"raw ({raw.dtype}, values {raw.min().item():g} to {raw.max().item():g})",
        f"rescaled ({rescale_label}): {low_clip:.2%} of pixels\n"
        f"at the minimum, {high_clip:.2%} at the maximum",
    )
    size = (2 * width + 3 * margin, title_height + width + margin + height + 2 * label_height + margin)
    canvas = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(canvas)
    title_font, label_font = text_font(12), text_font(11)
    for column, (image, title) in enumerate(zip((raw, rescaled), titles)):
        left = margin + column * (width + margin)
        shown = flatten_for_display(image)  # 3D: maximum projection
        stride = subsample_stride(shown.shape, PANEL_MAX_SIDE)
        fitted = fit_nearest(gray_to_rgb(gray_for_display(shown[::stride, ::stride])), width)
        top = title_height + (width - fitted.shape[0]) // 2
        canvas.paste(Image.fromarray(fitted), (left + (width - fitted.shape[1]) // 2, top))
        draw.multiline_text((left + width // 2, title_height // 2), title, fill="black",
                            font=title_font, anchor="mm", align="center", spacing=2)
        plot_top = title_height + width + margin
        canvas.paste(Image.fromarray(histogram_plot(image)), (left, plot_top))
        low, high = histogram_range(image)
        below = plot_top + height + 2
        draw.text((left, below), f"{low:g}", fill="black", font=label_font, anchor="la")
        draw.text((left + width, below), f"{high:g}", fill="black", font=label_font, anchor="ra")
        draw.text((left + width // 2, below + label_height), "intensity: pixels (gray), cumulative fraction (red)",
                  fill="black", font=label_font, anchor="ma")
    return np.asarray(canvas)


# --------------------------------------------------------------------------
# Strip of steps
# --------------------------------------------------------------------------

#: Each strip panel is fitted into a square of this many pixels.
PANEL_SIDE = 360
#: Panels per row of the strip: the raw image and five steps in two rows.
PANELS_PER_ROW = 3
#: Height of the band above each row of panels (their titles), of the
#: header band (the image id, up to two lines) and the gap between panels (px).
TITLE_HEIGHT = 22
HEADER_HEIGHT = 36
GAP = 8
#: Characters of the image id per header line before it wraps.
HEADER_CHARACTERS = 100


def fit_nearest(pixels, side=PANEL_SIDE):
    """Resize to fit a `side` x `side` square, aspect kept, by picking the
    nearest pixel (no interpolation: every output colour is an input colour)."""
    height, width = pixels.shape[:2]
    scale = side / max(height, width, 1)
    out_height = max(1, round(height * scale))
    out_width = max(1, round(width * scale))
    rows = (2 * np.arange(out_height) + 1) * height // (2 * out_height)
    cols = (2 * np.arange(out_width) + 1) * width // (2 * out_width)
    return pixels[rows[:, None], cols]


def strip_canvas(panels, side=PANEL_SIDE, per_row=PANELS_PER_ROW):
    """The panels fitted into squares on white, `per_row` to a row, each row
    below a band for its titles, all below a header band.

    Returns
    -------
    canvas : ndarray of uint8, shape (HEADER_HEIGHT + rows * (TITLE_HEIGHT +
        side + GAP), per_row * side + (per_row + 1) * GAP, 3)
    anchors : list of (int, int)
        (x, y) pixel of the centre of each panel's title.
    """
    rows = -(-len(panels) // per_row)
    row_height = TITLE_HEIGHT + side + GAP
    width = per_row * side + (per_row + 1) * GAP
    canvas = np.full((HEADER_HEIGHT + rows * row_height, width, 3), 255, dtype=np.uint8)
    anchors = []
    for index, (_, pixels) in enumerate(panels):
        row, column = divmod(index, per_row)
        fitted = fit_nearest(pixels, side)
        cell_left = GAP + column * (side + GAP)
        cell_top = HEADER_HEIGHT + row * row_height + TITLE_HEIGHT
        top = cell_top + (side - fitted.shape[0]) // 2
        left = cell_left + (side - fitted.shape[1]) // 2
        canvas[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
        anchors.append((cell_left + side // 2, cell_top - TITLE_HEIGHT // 2))
    return canvas, anchors


def wrap_id(image_id, width=HEADER_CHARACTERS):
    """The image id in lines of at most `width` characters (ids have no
    spaces to break at, e.g. DSB2018's 64 hex digits)."""
    return "\n".join(image_id[start : start + width] for start in range(0, len(image_id), width)) or " "


def text_font(size):
    """The font of every label drawn on a picture (Pillow's own, at `size`
    pixels): the same pixels on every machine."""
    return ImageFont.load_default(size=size)


def strip_picture(panels, side=PANEL_SIDE, image_id=""):
    """The panels in a grid with their titles under a header naming the
    image: :func:`strip_canvas` with the text drawn on it (Pillow, no
    matplotlib: a few milliseconds).

    Returns
    -------
    ndarray of uint8, shape of the canvas
        Outside the text, the canvas's pixels unchanged.
    """
    canvas, anchors = strip_canvas(panels, side)
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    if image_id:
        draw.multiline_text(
            (GAP, HEADER_HEIGHT // 2), wrap_id(image_id), fill="black",
            font=text_font(12), anchor="lm", spacing=2,
        )
    for (title, _), (x, y) in zip(panels, anchors):
        draw.text((x, y), title, fill="black", font=text_font(13), anchor="mm")
    return np.asarray(picture)


# --------------------------------------------------------------------------
# Counts of the whole run
# --------------------------------------------------------------------------


def counts_figure(images, objects, flagged=None):
    """Objects per image for the whole run.

    Up to :data:`MAX_BARS` images: one horizontal bar per image, in the
    order given (sorted ids from the counts table), the count written at the
    bar. More images: a histogram of the counts and the counts sorted from
    low to high (a rank plot with the median), whose size does not grow with
    the number of images.

    Parameters
    ----------
    images : sequence of str
    objects : sequence of int
    flagged : sequence of bool or None
        Images with a note or a QC flag in the counts table (constant image,
        no objects, a count that cannot be trusted): drawn in red.

    Returns
    -------
    matplotlib.figure.Figure
    """
    objects = np.asarray(objects, dtype=np.int64)
    n = len(objects)
    flagged = np.zeros(n, dtype=bool) if flagged is None else np.asarray(flagged, bool)
    if n <= MAX_BARS:
        figure = Figure(figsize=(7.0, 1.2 + 0.28 * max(n, 1)))
        axis = figure.subplots()
        positions = np.arange(n)
        colors = [WARNING_COLOR if flag else BAR_COLOR for flag in flagged]
        axis.barh(positions, objects, color=colors, height=0.7)
        axis.set_yticks(positions, labels=list(images), fontsize=8)
        axis.invert_yaxis()
        top = int(objects.max()) if n else 0
        axis.set_xlim(0, max(top, 1) * 1.12)
        for position, value in zip(positions, objects):
            axis.text(value, position, f" {value}", va="center", fontsize=8)
        axis.set_xlabel("objects")
        axis.set_title(f"Objects per image ({n} images)", fontsize=10)
        axis.spines[["top", "right"]].set_visible(False)
    else:
        figure = Figure(figsize=(10.0, 4.0))
        left, right = figure.subplots(1, 2)
        top = int(objects.max())
        width = max(1, -(-(top + 1) // 50))
        edges = np.arange(0, top + width + 1, width) - 0.5
        left.hist(objects, bins=edges, color=BAR_COLOR)
        left.set_xlabel("objects per image")
        left.set_ylabel("images")
        left.set_title(f"Distribution over {n} images", fontsize=10)
        order = np.argsort(objects, kind="stable")
        ranks = np.arange(1, n + 1)
        right.plot(ranks, objects[order], color=BAR_COLOR, linewidth=1)
        bad = flagged[order]
        right.scatter(ranks[bad], objects[order][bad], color=WARNING_COLOR, s=8, zorder=3)
        median = float(np.median(objects))
        right.axhline(median, color="0.5", linestyle="--", linewidth=1)
        right.text(1, median, f" median {median:g}", va="bottom", fontsize=8, color="0.3")
        right.set_xlabel("images, sorted by count")
        right.set_ylabel("objects")
        right.set_title(
            f"Sorted counts (min {objects.min()}, max {top}; "
            f"{int(flagged.sum())} flagged in red)",
            fontsize=10,
        )
        for axis in (left, right):
            axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def evaluation_figure(true_counts, found_counts, f1=None, datasets=None):
    """Found against true counts, one point per image (the diagonal is a
    perfect count), and, when instance masks gave an F1 for some images, the
    F1 at the configured IoU per image sorted from low to high.

    Parameters
    ----------
    true_counts, found_counts : sequence of int
    f1 : sequence of float or None
        NaN for images without a true label image.
    datasets : sequence of str or None
        Colours the points by data set (evaluation.counts' column dataset).

    Returns
    -------
    matplotlib.figure.Figure
    """
    true_counts = np.asarray(true_counts, dtype=np.float64)
    found_counts = np.asarray(found_counts, dtype=np.float64)
    f1 = np.asarray(f1 if f1 is not None else [], dtype=np.float64)
    has_f1 = f1.size and bool(np.isfinite(f1).any())
    figure = Figure(figsize=(10.0 if has_f1 else 5.2, 4.4))
    axes = figure.subplots(1, 2 if has_f1 else 1)
    counts_axis = axes[0] if has_f1 else axes
    names = list(datasets) if datasets is not None else [""] * len(true_counts)
    top = max(float(true_counts.max(initial=0)), float(found_counts.max(initial=0)), 1.0)
    counts_axis.plot([0, top * 1.05], [0, top * 1.05], color="0.6", linewidth=1, zorder=1)
    for index, name in enumerate(sorted(set(names))):
        chosen = np.array([n == name for n in names])
        counts_axis.scatter(
            true_counts[chosen], found_counts[chosen], s=14, zorder=2,
            color=colormaps["tab10"](index % 10), label=name or None,
        )
    if any(names):
        counts_axis.legend(fontsize=7, frameon=False)
    counts_axis.set_xlim(0, top * 1.05)
    counts_axis.set_ylim(0, top * 1.05)
    counts_axis.set_xlabel("true objects")
    counts_axis.set_ylabel("objects found")
    counts_axis.set_title(f"Counts of {len(true_counts)} images (diagonal: exact)", fontsize=10)
    if has_f1:
        values = np.sort(f1[np.isfinite(f1)])
        right = axes[1]
        right.plot(np.arange(1, values.size + 1), values, marker="o", markersize=3,
                   color=BAR_COLOR, linewidth=1)
        right.set_ylim(0, 1.02)
        right.set_xlabel("images, sorted by F1")
        right.set_ylabel("F1")
        right.set_title(f"F1 of {values.size} images with true labels", fontsize=10)
    for axis in np.atleast_1d(axes):
        axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


#: Rows and columns of the plate formats.
PLATE_SHAPES = {96: (8, 12), 384: (16, 24), 1536: (32, 48)}


def plate_shape(positions, plate_format="auto"):
    """(rows, columns) of the plate drawn: the format's, or with ``auto``
    the smallest of 96, 384 and 1536 wells that holds every well position
    ``(row, column)`` (from 1)."""
    if plate_format != "auto":
        return PLATE_SHAPES[int(plate_format)]
    rows = max((row for row, _ in positions), default=1)
    columns = max((column for _, column in positions), default=1)
    for shape in PLATE_SHAPES.values():
        if rows <= shape[0] and columns <= shape[1]:
            return shape
    return rows, columns


def plate_figure(plates, column_names, plate_format="auto"):
    """Plate heatmaps: one per plate and column of the per-well table.

    Parameters
    ----------
    plates : dict of str -> dict of (int, int) -> dict of str -> float
        Plate name -> well position ``(row, column)`` -> value by column name.
    column_names : sequence of str
        The columns drawn (one heatmap each, side by side).
    plate_format : "auto", 96, 384 or 1536

    Returns
    -------
    matplotlib.figure.Figure
        Wells without a value are light gray; each heatmap has its colour bar.
    """
    names = sorted(plates)
    positions = [position for wells in plates.values() for position in wells]
    rows, columns = plate_shape(positions, plate_format)
    cell = 0.32 if columns <= 24 else 0.18
    width = max(4.0, columns * cell + 1.6)
    figure = Figure(figsize=(width * len(column_names), (rows * cell + 1.0) * len(names)))
    axes = np.asarray(figure.subplots(len(names), len(column_names), squeeze=False))
    for row_index, plate in enumerate(names):
        for column_index, name in enumerate(column_names):
            axis = axes[row_index, column_index]
            grid = np.full((rows, columns), np.nan)
            for (row, column), values in plates[plate].items():
                value = values.get(name)
                if value is not None and 1 <= row <= rows and 1 <= column <= columns:
                    grid[row - 1, column - 1] = value
            colormap = colormaps["viridis"].with_extremes(bad="0.88")
            image = axis.imshow(np.ma.masked_invalid(grid), cmap=colormap, aspect="equal")
            figure.colorbar(image, ax=axis, shrink=0.8)
            step = 1 if columns <= 24 else 4
            axis.set_xticks(np.arange(0, columns, step), labels=[str(c + 1) for c in range(0, columns, step)], fontsize=7)
            axis.set_yticks(np.arange(0, rows, step), labels=[row_letters(r + 1) for r in range(0, rows, step)], fontsize=7)
            title = f"{name}" + (f" — {plate}" if plate else "")
            axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------
# Writing (atomic, deterministic)
# --------------------------------------------------------------------------


def save_figure(figure, path, dpi=DPI):
    """Write a figure as PNG atomically; same figure, same bytes (no
    "Software" metadata, fixed dpi). Rendering holds a lock (thread jobs)."""
    with _RENDER_LOCK, atomic_path(path) as tmp:
        FigureCanvasAgg(figure)
        figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})


def render(build, path, *args, **kwargs):
    """Build a figure with ``build(*args, **kwargs)`` and save it to `path`
    (:func:`save_figure`), both under the rendering lock."""
    with _RENDER_LOCK:
        save_figure(build(*args, **kwargs), path)


def save_png(path, rgb):
    """Write a uint8 RGB array pixel for pixel as PNG, atomically."""
    with atomic_path(path) as tmp:
        # level 3: half the time of the default 6 for 2% more bytes
        Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(tmp, format="PNG", compress_level=3)


def main(argv=None):
    """python -m scripts.report.figures RESULTS IMAGE_ID OUT.png: the strip of steps."""
    from scripts.imaging import read_image, read_provenance, read_tiff

    from scripts.steps import STEPS

    results, image_id, out = (argv or sys.argv[1:])[:3]
    first = Path(results) / STEPS[0] / f"{image_id}.tif"
    raw, _ = read_image(read_provenance(first)["source"])
    arrays = [(step, read_tiff(Path(results) / step / f"{image_id}.tif")[0]) for step in STEPS]
    save_png(out, strip_picture(step_panels(raw, arrays), image_id=image_id))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
