"""Seeded synthetic fluorescence images of the hard cases of issue 16, with
their true label images.

Each maker returns ``(image, labels)``: ``image`` a uint8 (Y, X) array,
``labels`` the true instance labels (uint16, 0 = background). Same seed, same
pixels. They stand in for the failures reported on unseen data (dim nuclei of
very different brightness on a noisy background, textured chromatin on an
uneven background with bright debris, small nuclei packed on a bright tissue
body, a few saturated blobs that outshine the nuclei, small nuclei packed
edge to edge, touching nuclei out of focus) without looking at
any validation image (the last one reproduces, in kind, a validation image
of the earlier round whose d was misjudged); the tests of the QC flag and
of the robust methods use them, and ``benchmarks/accuracy.py --sets synthetic``
prints the chain's figures on them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def _place_centres(rng, shape, count, diameter, min_gap=0.9, margin=0.0, tries=20000):
    """Up to `count` centres at least ``min_gap * diameter`` apart."""
    centres = []
    height, width = shape
    for _ in range(tries):
        if len(centres) == count:
            break
        y = rng.uniform(margin, height - margin)
        x = rng.uniform(margin, width - margin)
        if all((y - cy) ** 2 + (x - cx) ** 2 >= (min_gap * diameter) ** 2 for cy, cx in centres):
            centres.append((y, x))
    return centres


def _ellipses(shape, centres, diameters, rng, elongation=0.2):
    """True labels of (possibly touching) ellipses; later ones never overwrite."""
    labels = np.zeros(shape, dtype=np.uint16)
    yy, xx = np.indices(shape)
    for index, ((cy, cx), d) in enumerate(zip(centres, diameters), start=1):
        ratio = 1 + rng.uniform(-elongation, elongation)
        a, b = d / 2 * ratio, d / 2 / ratio
        angle = rng.uniform(0, np.pi)
        r = int(np.ceil(max(a, b))) + 1
        y0, y1 = max(int(cy) - r, 0), min(int(cy) + r + 1, shape[0])
        x0, x1 = max(int(cx) - r, 0), min(int(cx) + r + 1, shape[1])
        dy, dx = yy[y0:y1, x0:x1] - cy, xx[y0:y1, x0:x1] - cx
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        inside = (u / a) ** 2 + (v / b) ** 2 <= 1
        window = labels[y0:y1, x0:x1]
        window[inside & (window == 0)] = index
    return labels


def _render(labels, brightness, blur_px):
    """Per-object brightness painted on the labels, blurred like optics."""
    lut = np.concatenate([[0.0], np.asarray(brightness, dtype=float)])
    return ndi.gaussian_filter(lut[labels], blur_px)


def _to_uint8(values):
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def dim_varied_nuclei(seed=0, shape=(360, 360), count=30, diameter=22.0):
    """Nuclei of brightness 8..120 grey levels (log-uniform) on a dark
    background with Gaussian noise of 6 grey levels: a global threshold
    either misses the dim ones or, pulled down by the noise, finds hundreds
    of noise specks."""
    rng = np.random.default_rng(seed)
    centres = _place_centres(rng, shape, count, diameter, min_gap=1.4, margin=diameter / 2)
    diameters = rng.uniform(0.8, 1.2, len(centres)) * diameter
    labels = _ellipses(shape, centres, diameters, rng)
    brightness = np.exp(rng.uniform(np.log(14), np.log(120), len(centres)))
    image = 12 + _render(labels, brightness, 1.5) + rng.normal(0, 6, shape)
    return _to_uint8(image), labels


def textured_uneven_nuclei(seed=0, shape=(512, 640), count=45, diameter=40.0):
    """NIH3T3-like: large nuclei with coarse chromatin texture (+-40 %
    spots), brightness varying 3x between nuclei, an illumination gradient
    and a broad bright haze, a few small saturated debris blobs, noise."""
    rng = np.random.default_rng(seed)
    centres = _place_centres(rng, shape, count, diameter, min_gap=0.95, margin=0)
    diameters = rng.uniform(0.75, 1.25, len(centres)) * diameter
    labels = _ellipses(shape, centres, diameters, rng, elongation=0.3)
    brightness = rng.uniform(40, 120, len(centres))
    nuclei = _render(labels, brightness, 1.5)
    texture = ndi.gaussian_filter(rng.normal(0, 1, shape), 2.0)
    texture /= texture.std()
    nuclei *= np.clip(1 + 0.4 * texture, 0.2, None)
    yy, xx = np.indices(shape, dtype=float)
    haze = 35 * np.exp(
        -((yy - 0.7 * shape[0]) ** 2 + (xx - 0.3 * shape[1]) ** 2) / (2 * (0.35 * shape[1]) ** 2)
    )
    background = 15 + 25 * xx / shape[1] + haze
    debris = np.zeros(shape)
    for _ in range(6):
        y, x = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        debris += 400 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * rng.uniform(1.5, 4) ** 2))
    image = background + nuclei + debris + rng.normal(0, 3, shape)
    return _to_uint8(image), labels


def nuclei_on_bright_body(seed=0, shape=(400, 400), count=150, diameter=10.0):
    """Small nuclei packed along the rim of a large bright body (an embryo
    or a tissue fold): globally one bright object; only local contrast tells
    the nuclei (twice as bright as the body under them) apart."""
    rng = np.random.default_rng(seed)
    yy, xx = np.indices(shape, dtype=float)
    cy, cx, radius = shape[0] / 2, shape[1] / 2, 0.33 * shape[0]
    centres = []
    for _ in range(20000):
        if len(centres) == count:
            break
        angle = rng.uniform(0, 2 * np.pi)
        r = radius + rng.uniform(-2.5, 0.8) * diameter
        y, x = cy + r * np.sin(angle), cx + r * np.cos(angle)
        if all((y - a) ** 2 + (x - b) ** 2 >= (1.05 * diameter) ** 2 for a, b in centres):
            centres.append((y, x))
    diameters = rng.uniform(0.85, 1.15, len(centres)) * diameter
    labels = _ellipses(shape, centres, diameters, rng)
    body = ndi.gaussian_filter(
        60.0 * (((yy - cy) ** 2 + (xx - cx) ** 2) <= radius**2), 3.0
    )
    nuclei = _render(labels, rng.uniform(60, 100, len(centres)), 1.0)
    image = 10 + body + nuclei + rng.normal(0, 3, shape)
    return _to_uint8(image), labels


def nuclei_beside_bright_blobs(seed=0, shape=(512, 640), count=40, diameter=48.0):
    """Moderately bright nuclei (25-45 grey levels above the background)
    with bright chromatin spots, beside five saturated blobs of 0.5-0.7 d
    (mitotic or dead cells): Otsu falls between the nuclei and the blobs,
    so a first pass measures the blobs and spots instead of the nuclei."""
    rng = np.random.default_rng(seed)
    centres = _place_centres(rng, shape, count + 5, diameter, min_gap=1.05, margin=diameter / 2)
    nucleus_centres, blob_centres = centres[:count], centres[count:]
    diameters = rng.uniform(0.8, 1.2, len(nucleus_centres)) * diameter
    labels = _ellipses(shape, nucleus_centres, diameters, rng, elongation=0.25)
    nuclei = _render(labels, rng.uniform(25, 45, len(nucleus_centres)), 1.5)
    spots = ndi.gaussian_filter((rng.random(shape) < 0.004).astype(float), 2.0)
    nuclei *= 1 + 3.0 * (spots / spots.max()) * (labels > 0)
    blob_diameters = rng.uniform(0.5, 0.7, len(blob_centres)) * diameter
    blobs = _ellipses(shape, blob_centres, blob_diameters, rng)
    bright = _render(blobs, np.full(len(blob_centres), 230.0), 1.5)
    image = 20 + nuclei + bright + rng.normal(0, 3, shape)
    return _to_uint8(image), labels


def packed_nuclei(seed=0, shape=(320, 320), count=400, diameter=14.0):
    """Small nuclei packed edge to edge as in a tissue section (over half
    the field is nucleus), brightness varying 2.6x, blurred by 1.5 px: the
    darker pixels are dim nuclei and the blurred gaps between them, not
    background, so their spread is no measure of the noise."""
    rng = np.random.default_rng(seed)
    centres = _place_centres(rng, shape, count, diameter, min_gap=0.95)
    diameters = rng.uniform(0.8, 1.2, len(centres)) * diameter
    labels = _ellipses(shape, centres, diameters, rng, elongation=0.25)
    image = 15 + _render(labels, rng.uniform(50, 130, len(centres)), 1.5)
    image += rng.normal(0, 4, shape)
    return _to_uint8(image), labels


def blurred_touching_nuclei(seed=0, shape=(400, 400), count=160, diameter=24.0):
    """Nuclei of similar brightness, many touching in twos and threes,
    blurred by 5 px (about d / 5, an image well out of focus): the dark gaps
    and the narrow necks between touching nuclei blur shut, so neither the
    intensity nor the outline shows where one ends."""
    rng = np.random.default_rng(seed)
    centres = _place_centres(rng, shape, count, diameter, min_gap=0.9, margin=diameter / 2)
    diameters = rng.uniform(0.85, 1.15, len(centres)) * diameter
    labels = _ellipses(shape, centres, diameters, rng)
    image = 10 + _render(labels, rng.uniform(80, 160, len(centres)), 5.0)
    image += rng.normal(0, 3, shape)
    return _to_uint8(image), labels


def clean_nuclei(seed=0, shape=(300, 300), count=25, diameter=24.0):
    """Well separated bright nuclei on a flat dark background: every method
    should count them exactly, and no QC flag should fire."""
    rng = np.random.default_rng(seed)
    centres = _place_centres(rng, shape, count, diameter, min_gap=1.5, margin=diameter / 2)
    diameters = rng.uniform(0.85, 1.15, len(centres)) * diameter
    labels = _ellipses(shape, centres, diameters, rng)
    image = 10 + _render(labels, rng.uniform(120, 200, len(centres)), 1.0)
    image += rng.normal(0, 3, shape)
    return _to_uint8(image), labels


#: Name -> maker, for the benchmark and parametrised tests.
CASES = {
    "clean": clean_nuclei,
    "dim_varied": dim_varied_nuclei,
    "textured_uneven": textured_uneven_nuclei,
    "on_bright_body": nuclei_on_bright_body,
    "beside_bright_blobs": nuclei_beside_bright_blobs,
    "packed": packed_nuclei,
    "blurred": blurred_touching_nuclei,
}
