"""The scikit-image tutorial's own code (../shared/reference/tutorial.md), the
reference that the workflow's default outputs must equal pixel for pixel."""

from __future__ import annotations

import warnings

from skimage import color, exposure, filters, morphology, util

TUTORIAL_COLORS = ["greenyellow", "green", "yellow", "yellowgreen"]


def tutorial_morphology(mask):
    """The tutorial's loop verbatim: skimage's binary_erosion x2,
    binary_dilation x14, binary_erosion x4, default footprint.

    Those functions are deprecated in scikit-image 0.26 (a FutureWarning);
    only their deprecation warning is silenced, and only here.
    """
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings(
                "ignore", message=r"`binary_(erosion|dilation)` is deprecated",
                category=category,
            )
        image_eroded = mask
        for _ in range(2):
            image_eroded = morphology.binary_erosion(image_eroded)
        image_dilated = image_eroded
        for _ in range(14):
            image_dilated = morphology.binary_dilation(image_dilated)
        image_eroded_two = image_dilated
        for _ in range(4):
            image_eroded_two = morphology.binary_erosion(image_eroded_two)
    return image_eroded_two


def tutorial_chain(image):
    """Every step of the tutorial on a gray image, as {step: array}; the
    colours as uint8 (``img_as_ubyte``), as the workflow stores them."""
    image_thresholded = image > filters.threshold_otsu(image)
    image_eroded_two = tutorial_morphology(image_thresholded)
    labels = morphology.label(image_eroded_two)
    colorized = util.img_as_ubyte(color.label2rgb(labels, colors=TUTORIAL_COLORS))
    return {
        "threshold": image_thresholded,
        "morphology": image_eroded_two,
        "label": labels,
        "colorize": colorized,
        "rescale": exposure.rescale_intensity(colorized),
    }
