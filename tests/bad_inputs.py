"""A battery of bad and awkward input images, made by the project itself.

Used by ``tests/test_bad_input.py`` (the workflow on a folder of good and bad
images) and ``tests/test_skip_unreadable.py``. Every case is small and written
in milliseconds; the same call always gives the same bytes. To look at them:

    python -m tests.bad_inputs /tmp/battery
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import tifffile

from scripts.generate_examples import Spec, render

#: Files that cannot be used: id -> (file name, what the message must say).
#: The message fragments are those of :func:`scripts.imaging.read_image`.
UNREADABLE = {
    "zero_bytes": ("zero_bytes.tif", "empty file (0 bytes)"),
    "truncated": ("truncated.tif", "not a readable image"),
    "text": ("text.tif", "not a readable image"),
    "nan_inf": ("nan_inf.tif", "contains NaN or infinite pixel values"),
    "stack": ("stack.tif", "has 5 pages or planes"),
    "bomb": ("bomb.tif", "refusing a possible decompression bomb"),
}
#: Only refused when the reader is not root (chmod 000): see :func:`make_locked`.
LOCKED = ("locked.tif", "permission denied: the file cannot be read")
#: Images that are valid but have nothing to find: id -> (file name, note).
EMPTY = {
    "constant": ("constant.tif", "constant image: no threshold, no objects"),
    "all_zero": ("all_zero.tif", "constant image: no threshold, no objects"),
    "one_pixel": ("one_pixel.tif", "constant image: no threshold, no objects"),
}
#: Good images with awkward names: id -> file name.
AWKWARD_NAMES = {
    "A01 field 1": "A01 field 1.tif",
    "Zellen µm ß": "Zellen µm ß.tif",
    "plate.1.well.A01": "plate.1.well.A01.tif",
}


def good_image(seed=0, shape=(96, 96), count=3):
    """A small 8-bit field of nuclei (as the bundled example) with `count` objects."""
    spec = Spec("good", shape, count, radius=(7.0, 9.0), gap=10.0, specks=2)
    image, _ = render(spec, seed)
    return image


def write_good(folder, name, seed=0):
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, good_image(seed))
    return path


def make_zero_bytes(path):
    Path(path).write_bytes(b"")


def make_truncated(path):
    """A valid uncompressed TIFF cut off in the middle of its pixel data."""
    tifffile.imwrite(path, good_image(1))
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


def make_text(path):
    Path(path).write_text("This is not an image, just text with a .tif name.\n")


def make_nan_inf(path):
    image = good_image(2).astype(np.float32)
    image[3, 4] = np.nan
    image[10, 20] = np.inf
    tifffile.imwrite(path, image)


def make_stack(path):
    tifffile.imwrite(path, np.stack([good_image(seed) for seed in range(5)]))


def make_bomb(path, claimed=(200_000, 200_000)):
    """A tiny TIFF whose header claims `claimed` pixels (40 billion by default).

    Written as a real 16x16 image, then its ImageWidth and ImageLength tags
    are overwritten in place: the file stays a few hundred bytes.
    """
    tifffile.imwrite(path, np.zeros((16, 16), np.uint8))
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        byteorder = tif.byteorder
        width, length = page.tags["ImageWidth"], page.tags["ImageLength"]
        places = [
            (tag.valueoffset, tag.dtype, value)
            for tag, value in ((length, claimed[0]), (width, claimed[1]))
        ]
    with open(path, "r+b") as handle:
        for offset, dtype, value in places:
            handle.seek(offset)
            code = "I" if dtype == tifffile.DATATYPE.LONG else "H"
            handle.write(struct.pack(byteorder + code, value))


def make_constant(path):
    tifffile.imwrite(path, np.full((64, 80), 117, np.uint8))


def make_all_zero(path):
    tifffile.imwrite(path, np.zeros((64, 64), np.uint16))


def make_one_pixel(path):
    tifffile.imwrite(path, np.array([[200]], np.uint8))


def make_locked(path):
    """A good image that only its owner may read (chmod 000).

    Root reads it anyway; a test of it must run the reader as another user.
    """
    write_good(Path(path).parent, Path(path).name, seed=3)
    Path(path).chmod(0)


MAKERS = {
    "zero_bytes": make_zero_bytes,
    "truncated": make_truncated,
    "text": make_text,
    "nan_inf": make_nan_inf,
    "stack": make_stack,
    "bomb": make_bomb,
    "constant": make_constant,
    "all_zero": make_all_zero,
    "one_pixel": make_one_pixel,
}


def write_battery(folder, goods=("good_1", "good_2"), locked=False):
    """Write every case of :data:`UNREADABLE`, :data:`EMPTY` and
    :data:`AWKWARD_NAMES`, and the good images `goods`, into `folder`.

    Returns {id: path}.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for index, image_id in enumerate(goods):
        written[image_id] = write_good(folder, f"{image_id}.tif", seed=10 + index)
    for index, (image_id, name) in enumerate(AWKWARD_NAMES.items()):
        written[image_id] = write_good(folder, name, seed=20 + index)
    for image_id, (name, _) in {**UNREADABLE, **EMPTY}.items():
        MAKERS[image_id](folder / name)
        written[image_id] = folder / name
    if locked:
        make_locked(folder / LOCKED[0])
        written["locked"] = folder / LOCKED[0]
    return written


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "bad_inputs")
    written = write_battery(folder)
    print(f"wrote {len(written)} files to {folder}")


if __name__ == "__main__":
    main()
