"""What measuring other channels costs, against reading those channels.

    python benchmarks/channels.py [--n 100] [--size 512] [--channels 3] [--repeats 3]

Writes seeded screen fields (one uint16 file per channel, zlib TIFFs) and a
label image per field into benchmarks/out/channels/ (git-ignored), then
times, per field and in one process (medians over the repeats):

* read: reading the channel files once (scripts.imaging.open_image);
* measure: the statistics of every object in those channels
  (scripts.algorithms.measure.channel_intensities), arrays in memory;
* job: rule intensities' whole job (scripts.tables.intensities.run: read
  the label TIFF and the channels, measure, write the table).

The goal (issue "Screening"): measuring the channels costs less than reading
them once more, i.e. measure / read < 1. Prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.algorithms.measure import channel_intensities, object_pixels  # noqa: E402
from scripts.imaging import open_image, read_tiff  # noqa: E402
from scripts.tables import intensities  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "channels"
READING = {"channel": None, "volume": "refuse", "max_pixels": 1_600_000_000}


def write_fields(folder, count, size, channels, seed=0):
    """`count` fields: a label image with ~150 round objects and `channels`
    uint16 channel files each; returns [(labels path, [channel paths])]."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    fields = []
    yy, xx = np.mgrid[:size, :size]
    for index in range(count):
        labels = np.zeros((size, size), np.uint16)
        for label, (y, x) in enumerate(rng.integers(10, size - 10, (150, 2)), start=1):
            labels[(yy - y) ** 2 + (xx - x) ** 2 <= 64] = label
        labels_path = folder / f"f{index}_labels.tif"
        tifffile.imwrite(labels_path, labels, compression="zlib")
        paths = []
        for channel in range(channels):
            pixels = rng.integers(100, 4000, (size, size)).astype(np.uint16)
            path = folder / f"f{index}_c{channel}.tif"
            tifffile.imwrite(path, pixels, compression="zlib")
            paths.append(path)
        fields.append((labels_path, paths))
    return fields


def timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def one_repeat(fields, folder):
    read = measure = job = 0.0
    for labels_path, paths in fields:
        labels, _ = read_tiff(labels_path)
        loaded = []
        read += timed(lambda: loaded.extend(open_image(p, **READING).pixels for p in paths))
        measure += timed(
            lambda: [channel_intensities(labels, pixels, objects) for objects in [object_pixels(labels)] for pixels in loaded]
        )
        specs = [{"name": f"c{i}", "path": str(p), "reading": READING} for i, p in enumerate(paths)]
        job += timed(
            lambda: intensities.run(
                SimpleNamespace(labels=str(labels_path)),
                SimpleNamespace(csv=str(folder / "table" / f"{labels_path.stem}.csv")),
                SimpleNamespace(channels=specs, segmented=None, source=str(labels_path)),
                [str(folder / "logs" / f"{labels_path.stem}.log")],
            )
        )
    return read, measure, job


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="fields")
    parser.add_argument("--size", type=int, default=512, help="pixels per side")
    parser.add_argument("--channels", type=int, default=3, help="channels measured per field")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    folder = OUT / f"n{args.n}_s{args.size}_c{args.channels}"
    fields = write_fields(folder, args.n, args.size, args.channels)
    runs = [one_repeat(fields, folder) for _ in range(args.repeats)]
    read, measure, job = (statistics.median(values) for values in zip(*runs))
    per_field = 1000 / args.n
    print(f"{args.n} fields of {args.size}x{args.size}, {args.channels} channels, ~150 objects each "
          f"(medians of {args.repeats}, ms per field)")
    print(f"{'':34}{'ms':>8}{'x read':>9}")
    for name, value in (("read the channels once", read), ("measure them (in memory)", measure),
                        ("rule intensities' whole job", job)):
        print(f"{name:34}{value * per_field:8.1f}{value / read:9.2f}")
    print(f"goal: measure / read < 1: {'met' if measure < read else 'NOT met'} ({measure / read:.2f})")


if __name__ == "__main__":
    main()
