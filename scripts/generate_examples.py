"""Seeded generator of synthetic fluorescence images with known object counts.

Makes the bundled example (``example/images`` and ``example/truth.csv``) and
the image sets of tests and benchmarks. Run from the project root:

    python -m scripts.generate_examples                 # the bundled example
    python -m scripts.generate_examples --count 100 --size 512 --out bench/images

The same arguments always give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile


@dataclass(frozen=True)
class Spec:
    """How one synthetic image looks.

    Intensities are in the output dtype's units; lengths in pixels.
    """

    name: str
    shape: tuple
    count: int
    dtype: str = "uint8"
    peak: float = 200.0
    background: float = 10.0
    noise: float = 3.0
    radius: tuple = (9.0, 14.0)
    #: Smallest distance between two nuclei's edges. The tutorial's morphology
    #: grows objects by up to 12 px, so closer nuclei would merge.
    gap: float = 26.0
    #: Single-pixel specks that the tutorial's two erosions remove.
    specks: int = 6
    pixel_size_um: float | None = None
    suffix: str = ".tif"


#: The bundled example: one dark 8-bit image like the tutorial's four cells
#: (maximum about 52), an 8-bit and a 16-bit field of nuclei, and a PNG.
EXAMPLE_SPECS = (
    Spec("four_cells", (342, 382), 4, peak=48, background=2, noise=1.0,
         radius=(34.0, 44.0), gap=30.0, specks=12, pixel_size_um=0.65),
    Spec("nuclei_8bit", (256, 256), 9, peak=180, background=12, noise=4.0),
    Spec("nuclei_16bit", (256, 256), 7, dtype="uint16", peak=3000,
         background=400, noise=60.0, pixel_size_um=0.325),
    Spec("nuclei_png", (200, 240), 5, peak=150, background=8, noise=3.0,
         suffix=".png"),
)


def place_centres(rng, shape, radii, gap, margin=4, attempts=20_000):
    """Centres (row, col) so that discs of `radii` keep `gap` px apart and
    lie inside the image with `margin` px to spare; raises if impossible."""
    centres = []
    for radius in radii:
        for _ in range(attempts):
            low = radius + margin
            centre = rng.uniform((low, low), (shape[0] - low, shape[1] - low))
            if all(
                np.hypot(*(centre - other)) >= radius + other_radius + gap
                for other, other_radius in zip(centres, radii)
            ):
                centres.append(centre)
                break
        else:
            raise ValueError(f"cannot place {len(radii)} objects in {shape}")
    return np.array(centres)


def render(spec, seed):
    """One synthetic image and its true label image.

    Returns
    -------
    image : ndarray of `spec.dtype`, shape `spec.shape`
    labels : ndarray of uint16, the true objects numbered 1..count
    """
    rng = np.random.default_rng(seed)
    radii = rng.uniform(*spec.radius, size=spec.count)
    centres = place_centres(rng, spec.shape, radii, spec.gap)
    signal = np.zeros(spec.shape)
    labels = np.zeros(spec.shape, dtype=np.uint16)
    for index, ((row, col), radius) in enumerate(zip(centres, radii), start=1):
        # An ellipse with a soft edge and a darker, textured interior, drawn
        # in a window around its centre (the edge has faded out beyond it).
        reach = int(radius + 8)
        top, left = max(int(row) - reach, 0), max(int(col) - reach, 0)
        window = (slice(top, int(row) + reach + 1), slice(left, int(col) + reach + 1))
        rows, cols = np.indices(signal[window].shape, dtype=np.float64)
        angle = rng.uniform(0, np.pi)
        stretch = rng.uniform(0.8, 1.0)
        du, dv = row - (rows + top), col - (cols + left)
        u = du * np.cos(angle) + dv * np.sin(angle)
        v = (-du * np.sin(angle) + dv * np.cos(angle)) / stretch
        distance = np.hypot(u, v)
        edge = 1.0 / (1.0 + np.exp((distance - radius) / 1.2))
        texture = 1.0 - 0.35 * np.exp(-((distance - 0.45 * radius) ** 2) / 8.0)
        brightness = rng.uniform(0.75, 1.0)
        signal[window] = np.maximum(signal[window], edge * texture * brightness)
        labels[window][distance <= radius] = index
    image = spec.background + spec.peak * signal
    image += rng.normal(0.0, spec.noise, spec.shape)
    speck_rows = rng.integers(0, spec.shape[0], spec.specks)
    speck_cols = rng.integers(0, spec.shape[1], spec.specks)
    speck_level = spec.background + 0.8 * spec.peak
    image[speck_rows, speck_cols] = np.maximum(image[speck_rows, speck_cols], speck_level)
    info = np.iinfo(spec.dtype)
    return np.clip(np.rint(image), info.min, info.max).astype(spec.dtype), labels


def write_image(path, image, pixel_size_um=None):
    """Write a TIFF (with pixel size) or PNG, byte-identical for equal input."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        iio.imwrite(path, image)
    elif pixel_size_um:
        tifffile.imwrite(
            path,
            image,
            imagej=True,
            resolution=(1 / pixel_size_um, 1 / pixel_size_um),
            metadata={"unit": "um"},
        )
    else:
        tifffile.imwrite(path, image)


def write_set(folder, specs, seed):
    """Write every spec's image into `folder` and return ``{name: count}``."""
    truth = {}
    for offset, spec in enumerate(specs):
        image, _ = render(spec, seed + offset)
        write_image(Path(folder) / f"{spec.name}{spec.suffix}", image, spec.pixel_size_um)
        truth[spec.name] = spec.count
    return truth


def benchmark_specs(count, size, seed=0):
    """`count` 8-bit square images of `size` px with 8-20 nuclei each."""
    rng = np.random.default_rng(seed)
    n_objects = rng.integers(8, 21, count)
    return [Spec(f"img{index:05d}", (size, size), int(n)) for index, n in enumerate(n_objects)]


def write_truth(path, truth):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["image", "true_count"])
        writer.writerows(sorted(truth.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="example/images", help="output folder")
    parser.add_argument("--count", type=int, help="make this many benchmark images")
    parser.add_argument("--size", type=int, default=512, help="benchmark image size, px")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    specs = EXAMPLE_SPECS if args.count is None else benchmark_specs(args.count, args.size, args.seed)
    truth = write_set(args.out, specs, args.seed)
    write_truth(Path(args.out).parent / "truth.csv", truth)
    print(f"wrote {len(truth)} images to {args.out}")


if __name__ == "__main__":
    main()
