"""Colours of labels: the palette the colorize step paints and the report draws.

Label k always gets ``colors[(k - 1) % len(colors)]`` (a lookup table indexed
by label value), so an object keeps its colour in every picture and every
run. Pure functions; colour names are those of ``skimage.color.color_dict``.
"""

from __future__ import annotations

import numpy as np
from skimage.color import color_dict

#: The tutorial's colours (the ``colorize.colors`` default).
TUTORIAL_COLORS = ("greenyellow", "green", "yellow", "yellowgreen")


def color_to_rgb(color):
    """RGB floats in [0, 1] for a colour name of ``skimage.color.color_dict``
    or a sequence of three floats."""
    if isinstance(color, str):
        if color not in color_dict:
            raise ValueError(
                f"unknown colour name {color!r}; use a name from "
                "skimage.color.color_dict (CSS/matplotlib names such as "
                "'green', 'greenyellow') or three numbers in [0, 1]"
            )
        return np.array(color_dict[color][:3], dtype=np.float64)
    rgb = np.asarray(color, dtype=np.float64)
    if rgb.shape != (3,) or rgb.min() < 0 or rgb.max() > 1:
        raise ValueError(f"colour {color!r} must be a name or three numbers in [0, 1]")
    return rgb


def float_to_uint8(values):
    """Map floats in [0, 1] to uint8 as ``skimage.util.img_as_ubyte`` does."""
    return np.clip(np.rint(np.multiply(values, 255.0)), 0, 255).astype(np.uint8)


def label_palette(max_label, colors=TUTORIAL_COLORS, bg_color="black"):
    """Float RGB table of shape (max_label + 1, 3): row k is label k's colour."""
    cycle = np.stack([color_to_rgb(c) for c in colors])
    background = color_to_rgb(bg_color if bg_color is not None else "black")
    index = np.arange(max_label, dtype=np.int64) % len(cycle)
    return np.concatenate([background[None, :], cycle[index]])
