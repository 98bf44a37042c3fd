"""Discovery benchmark: list N small TIFFs and read their headers, before and after.

Run from the project root with the project's virtual environment (not a
test; a few seconds per pass):

    python benchmarks/discovery.py                  # 10,000 TIFFs, 5 passes, ~1 min
    python benchmarks/discovery.py --n 2000 --repeats 3 --before c6444c8

What the workflow does per image when it starts and plans jobs: list the
input folder (``scripts.config.discovery.list_candidates``) and read each
image's header for its job's memory (``scripts.imaging.decoded_megabytes``).
"before" is ``scripts/imaging.py`` as it was at git revision ``--before``
(default: where this branch left ``main``), loaded from git into a module of
its own; "after" is the working tree's. Both passes list the same folder
with the same listing function, so the difference is the header reading:
the format dispatch (``scripts.formats.reader_for``) added for CZI, ND2, LIF
and OME-Zarr. The two codes read the same blocks of files in turn (200
files by one, then by the other, the order swapped every block) after a
warm-up pass each, so that the page cache and whatever else runs on the
machine treat them alike; the CPU time of this process is the figure least
disturbed by other work.

Images: N seeded 64x64 uint8 TIFFs (zlib), made once in
``benchmarks/out/discovery/n<N>`` (git-ignored). Prints a markdown table of
the median wall and CPU seconds per pass (and µs per file), and after/before.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import imaging as after  # noqa: E402
from scripts.config.discovery import list_candidates  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "discovery"
SUFFIXES = [".tif", ".tiff", ".png"]


def make_images(n, folder):
    """N seeded 64x64 uint8 TIFFs in `folder`, written once."""
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.tif"))) == n:
        return folder
    rng = np.random.default_rng(0)
    for index in range(n):
        pixels = rng.integers(0, 255, (64, 64), dtype=np.uint8)
        tifffile.imwrite(folder / f"img{index:05d}.tif", pixels, compression="zlib")
    return folder


def default_before():
    """The commit where this branch left main (or HEAD when merged)."""
    result = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def load_before(revision):
    """scripts/imaging.py at `revision`, imported as its own module."""
    text = subprocess.run(["git", "show", f"{revision}:scripts/imaging.py"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="imaging_before_"))
    path = folder / "imaging_before.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("imaging_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def timed_listing(folder):
    """(seconds, paths) of listing `folder` as the workflow does."""
    start = time.perf_counter()
    paths = list_candidates(str(folder), SUFFIXES)
    return time.perf_counter() - start, paths


def timed_headers(paths, module):
    """(wall, CPU) seconds to read the headers of `paths` with `module`."""
    start, cpu = time.perf_counter(), time.process_time()
    total = sum(module.decoded_megabytes(path, min_itemsize=2) for path in paths)
    assert total > 0
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of TIFFs (10,000)")
    parser.add_argument("--repeats", type=int, default=5, help="passes over all files (5)")
    parser.add_argument("--block", type=int, default=200,
                        help="files read by one code before the other takes over (200)")
    parser.add_argument("--before", default=None, help="git revision of 'before' (merge-base)")
    args = parser.parse_args(argv)
    revision = args.before or default_before()
    folder = make_images(args.n, OUT / f"n{args.n}")
    variants = {f"before ({revision[:7]})": load_before(revision), "after (working tree)": after}
    names = list(variants)
    _, paths = timed_listing(folder)
    for module in variants.values():
        timed_headers(paths, module)  # warm-up: page cache, imports
    listing = []
    wall = {name: [0.0] * args.repeats for name in names}
    cpu = {name: [0.0] * args.repeats for name in names}
    for repeat in range(args.repeats):
        seconds, paths = timed_listing(folder)
        listing.append(seconds)
        for number, first in enumerate(range(0, len(paths), args.block)):
            block = paths[first : first + args.block]
            order = names if (number + repeat) % 2 == 0 else names[::-1]
            for name in order:  # the two codes read each block back to back
                w, c = timed_headers(block, variants[name])
                wall[name][repeat] += w
                cpu[name][repeat] += c
    count = len(paths)
    list_s = statistics.median(listing)
    print(f"\nList {count:,} TIFFs ({list_s:.3f} s, the same listing for both) and read "
          f"their headers with decoded_megabytes: {args.repeats} passes, blocks of "
          f"{args.block} files read by both codes in turn; medians per pass\n")
    print("| code | list + headers, wall s | headers, µs per file | vs before (wall) "
          "| headers, CPU s | vs before (CPU) |")
    print("|---|---|---|---|---|---|")
    w0, c0 = statistics.median(wall[names[0]]), statistics.median(cpu[names[0]])
    for name in names:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"| {name} | {list_s + w:.3f} | {w / count * 1e6:.1f} | "
              f"{(list_s + w) / (list_s + w0):.3f} | {c:.3f} | {c / c0:.3f} |")
    ratios = [a / b for a, b in zip(wall[names[1]], wall[names[0]])]
    print("\nafter/before per pass (headers, wall): " + ", ".join(f"{r:.3f}" for r in ratios))

if __name__ == "__main__":
    main()
