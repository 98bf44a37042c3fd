"""Step 4, colorize: paint each label in a colour, as ``skimage.color.label2rgb``.

Snakemake rule: ``colorize``, config key ``colorize``. Output:
``results/colorize/<image>.tif`` (RGB uint8).

Colours come from a lookup table indexed by label value, so label k always
gets ``colors[(k - 1) % len(colors)]`` and keeps its colour from run to run.
For the sequential labels the label step writes this is exactly what
``label2rgb`` (which colours by rank) followed by ``img_as_ubyte`` gives, at a
fraction of the cost.
"""

from __future__ import annotations

import numpy as np

from scripts.algorithms.palette import TUTORIAL_COLORS, float_to_uint8, label_palette
from scripts.imaging import open_image, read_tiff, write_tiff
from scripts.runtime.jobs import job_log, provenance

#: Pixels blended over the raw image at a time: the float64 temporaries then
#: take about 100 MB whatever the image size (the same result as at once).
BLEND_BLOCK_PIXELS = 1 << 21


def intensity_to_unit(image, value_range=None):
    """Gray image as float64 in [0, 1], as ``skimage.util.img_as_float``:
    integers are divided by their dtype's maximum; floats are min-max scaled
    (between `value_range`, default the image's own minimum and maximum)."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        # Multiply by the reciprocal, as img_as_float does: dividing differs
        # in the last bit for some values, which can change a uint8 output.
        unit = np.multiply(image, 1.0 / info.max, dtype=np.float64)
        if info.min < 0:
            return np.clip(unit, 0, 1)
        return unit
    low, high = value_range or (float(image.min()), float(image.max()))
    if high == low:
        return np.zeros(image.shape)
    return (image - low) / (high - low)


def colorize_labels(
    labels, colors=TUTORIAL_COLORS, *, image=None, alpha=0.3, bg_color="black"
):
    """Colour a label image; optionally blend it over the gray raw image.

    Parameters
    ----------
    labels : ndarray of unsigned int, shape (Y, X)
        0 is background.
    colors : sequence of colour names or RGB triples
        Cycled over labels 1, 2, 3, ...
    image : ndarray, shape (Y, X), or None
        Raw gray image to blend under the colours (``label2rgb(image=...)``);
        None gives colours on `bg_color`, as in the tutorial.
    alpha : float in [0, 1]
        Opacity of the colours over `image` (ignored without an image).
    bg_color : colour or None
        Background colour; None lets the image show unchanged there.

    Returns
    -------
    rgb : ndarray of uint8, shape (Y, X, 3)
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    max_label = int(labels.max()) if labels.size else 0
    palette = label_palette(max_label, colors, bg_color)
    if image is None:
        return float_to_uint8(palette)[labels]
    if image.shape != labels.shape:
        raise ValueError(
            f"image shape {image.shape} differs from label shape {labels.shape}"
        )
    value_range = None
    if not np.issubdtype(image.dtype, np.integer):
        value_range = (float(image.min()), float(image.max()))
    rgb = np.empty(labels.shape + (3,), dtype=np.uint8)
    flat_labels, flat_image = labels.reshape(-1), image.reshape(-1)
    flat_rgb = rgb.reshape(-1, 3)
    for start in range(0, labels.size, BLEND_BLOCK_PIXELS):
        block = slice(start, start + BLEND_BLOCK_PIXELS)
        gray = intensity_to_unit(flat_image[block], value_range)[..., None]
        blended = palette[flat_labels[block]] * alpha + gray * (1 - alpha)
        if bg_color is None:
            background = flat_labels[block] == 0
            blended[background] = np.broadcast_to(gray[background], (background.sum(), 3))
        flat_rgb[block] = float_to_uint8(blended)
    return rgb


def run(input, output, params, log):
    """Snakemake entry point: label TIFF (and raw image) -> RGB TIFF."""
    settings = params.settings
    with job_log(log[0], "colorize", input.labels) as note:
        labels, calibration = read_tiff(input.labels)
        image = None
        if settings["overlay"]:
            image = open_image(input.image[0], **params.reading).pixels
        rgb = colorize_labels(
            labels,
            settings["colors"],
            image=image,
            alpha=settings["alpha"],
            bg_color=settings["bg_color"],
        )
        note(f"{int(labels.max())} labels coloured, overlay={settings['overlay']}")
        write_tiff(
            output.rgb,
            rgb,
            provenance("colorize", settings, params.source),
            calibration=calibration,
            compression=params.compression,
        )
