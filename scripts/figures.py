"""Pictures of the steps, for the README and for people checking a result by eye.

    python -m scripts.figures results four_cells docs/four_cells_steps.png

draws the raw image and every step's TIFF of one image side by side (raw
and masks in gray, with the raw image contrast-stretched so that dark images
are visible).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from scripts.imaging import read_image, read_provenance, read_tiff  # noqa: E402
from scripts.rescale import rescale  # noqa: E402

STEPS = ("threshold", "morphology", "label", "colorize", "rescale")


def step_panels(results, image_id):
    """(title, array) for the raw image and each step's output of `image_id`."""
    first = Path(results) / "threshold" / f"{image_id}.tif"
    raw, _ = read_image(read_provenance(first)["source"])
    panels = [("raw (contrast-stretched for display)", rescale(raw, (0.5, 99.5)))]
    for step in STEPS:
        pixels, _ = read_tiff(Path(results) / step / f"{image_id}.tif")
        if step == "label":
            title = f"label ({int(pixels.max())} objects)"
        else:
            title = step
        panels.append((title, pixels))
    return panels


def labels_for_display(labels):
    """RGB float image: each label a colour of matplotlib's tab20, background black."""
    palette = plt.get_cmap("tab20").colors
    table = np.array([(0.0, 0.0, 0.0)] + [palette[k % 20] for k in range(int(labels.max()))])
    return table[labels]


def draw_strip(panels, path, panel_inches=2.6):
    """Save the panels side by side as a PNG."""
    figure, axes = plt.subplots(
        1, len(panels), figsize=(panel_inches * len(panels), panel_inches + 0.4)
    )
    for axis, (title, pixels) in zip(np.atleast_1d(axes), panels):
        if title.startswith("label"):
            pixels = labels_for_display(pixels)
        axis.imshow(pixels, cmap="gray", interpolation="nearest")
        axis.set_title(title, fontsize=9)
        axis.set_axis_off()
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(figure)


def main(argv=None):
    results, image_id, out = (argv or sys.argv[1:])[:3]
    draw_strip(step_panels(results, image_id), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
