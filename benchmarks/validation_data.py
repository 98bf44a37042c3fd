"""The validation images of the nuclei preset, for ``benchmarks/accuracy.py``.

Two sets, never used to choose a setting (tests/data/validation/SOURCES.md):

* the DSB2018 stage-1 *test* images in ``tests/data/validation`` (CC0,
  committed);
* Coelho et al. 2009 (NIH3T3 and U2OS), whose repository states no licence:
  not committed. :func:`coelho_folder` extracts the 11 images and the
  authors' label images from a local snapshot of
  ``luispedro/Coelho2009_ISBI_NuclearSegmentation`` (a bare git directory,
  read with ``git show``) into ``benchmarks/out/validation`` (git-ignored),
  in the layout of ``../shared/data`` (``truth.csv``, images, labels), and
  checks every pixel array against the hash recorded here.

Usage::

    python benchmarks/validation_data.py [--mirror DIR]   # extract, print the folder
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "tests" / "data" / "validation"
OUT = ROOT / "benchmarks" / "out" / "validation"
#: Where a snapshot of the Coelho repository is looked for (environment
#: variable COELHO2009_MIRROR, else the fetch tool's folder).
DEFAULT_MIRROR = Path(
    os.environ.get(
        "COELHO2009_MIRROR",
        "/work/.mirror/luispedro+Coelho2009_ISBI_NuclearSegmentation/repo",
    )
)
COELHO_COMMIT = "9629f3a8829982726327802af55ab6ae7a2b5316"
COELHO_NAMES = {"ic100": "Coelho2009 NIH3T3", "gnf": "Coelho2009 U2OS"}
#: (collection, index) -> sha256 of the grey image's and of the label
#: image's pixel arrays (dtype, shape and bytes), as first extracted.
COELHO_ITEMS = {
    ("ic100", 3): ("a5574beb9b5c1f92546cde52b35ef1d1ab8e1d99ba931deb46334caedeffbd3b",
                   "427c71b3f38ad599af93bd7a58e2074a03965fee4e3221f61cdd36d6687d74ac"),
    ("ic100", 23): ("6cf488f4ca0575cbc853f691f1a9cd7da08911c0a9eafd7c8b736f3f711dec4d",
                    "ab9723670e87fb6becb19813eb9a0d0265b15029f149f5b905272b2f66821004"),
    ("ic100", 27): ("c5e2294bbda7fde6651ec4ba08ba02e5268ac20519c5a371d7446308f1cc6f5d",
                    "8881e741ca2cb57091e1553a7c7702be6c29466db21ba20339b318472c2e4bbb"),
    ("ic100", 30): ("9ae45c5119676a8d7542dd36a45892051eaa4f70c1e43b28dae4619cacb13467",
                    "6548d804e4f7798e84d533c7fbdee0e718f77fb46ee19a198302db16a8c67055"),
    ("ic100", 38): ("d862b9a1770952b60c625afe7dd86e5732249b9345c86ce22afc8b0872958092",
                    "fcd6932ff3926f7224c128ebd5c09d167599a1753242b47fc980d1e1835bac27"),
    ("ic100", 43): ("5ebf91cffad91574a38414b3c079a359d6cf19b41542dac3973a177cf45f760d",
                    "147d85b1944eb1e4e5e6a4d2edbd780e9bb88e27345ddf2c2f742b2d8010a122"),
    ("ic100", 44): ("3eb6a8d0276088eb0851660156c2e0795248d971d4c8c527d8e008276db564ed",
                    "d4333e4420a49d6a797b9fac2f25509d7ca7a8efee859cf1d78ccda808f98d62"),
    ("ic100", 48): ("b3473421e2a4ddceb494333087c95fd70ac91ed896184cb958bbb61ae6fb6e98",
                    "f6d0a633f9a4ca998894e76637d79753420ff2b96a6d790112dff27365e3cca5"),
    ("gnf", 41): ("d59c584c5f256de52f8226dadf67e64d1eb5aa00bc5ef96e6bb3f1768a0663b1",
                  "21bc54fee489e2f414cd4c11ca9688de30bc20357d82a824c8fae71fbad918b8"),
    ("gnf", 4): ("fe2fdf5630b1656c8916ef162f74a13b387f43dd0e1c25831a1181e4c0c78b71",
                 "99459d8d6158bfe5eee86c8577b79f86d5c90bee5bda6b3e3e205b43619dbb9f"),
    ("gnf", 40): ("35d62668904dfca00b3250c2f41aed2ea7e1cfae708748985254166de521153f",
                  "867b5183d1967d88b5d4713f56ce4cce5edd8dee1b5c4cb9f5b040b72c0c9ab3"),
}


def pixel_hash(array):
    """sha256 of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(array)
    return hashlib.sha256(
        str(array.dtype).encode() + str(array.shape).encode() + array.tobytes()
    ).hexdigest()


def relabel(labels):
    """Labels renumbered 1..N (0 stays background), uint16."""
    values = np.unique(labels)
    values = values[values != 0]
    lut = np.zeros(int(labels.max()) + 1, dtype=np.uint16)
    lut[values] = np.arange(1, values.size + 1, dtype=np.uint16)
    return lut[labels]


def _show(gitdir, path):
    return subprocess.run(
        ["git", f"--git-dir={gitdir}", "show", f"{COELHO_COMMIT}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


def coelho_folder(mirror=DEFAULT_MIRROR, out=OUT):
    """The Coelho 2009 validation images as a data folder, or None.

    Extracts them once from the snapshot `mirror` into ``out/coelho2009``
    (images as one-channel PNG, labels as uint16 TIFF relabelled 1..N) with
    ``out/truth.csv``; later calls reuse the folder.

    Returns
    -------
    Path or None
        `out` (it holds ``truth.csv``), or None when the snapshot is absent.

    Raises
    ------
    ValueError
        When an extracted pixel array differs from the recorded hash.
    """
    out = Path(out)
    truth = out / "truth.csv"
    if truth.is_file():
        return out
    if not Path(mirror).is_dir():
        return None
    folder = out / "coelho2009"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    rows = ["image,true_count,dataset,truth_type,mask"]
    for (collection, index), (image_hash, label_hash) in COELHO_ITEMS.items():
        name = f"{collection}_dna-{index}"
        rgb = iio.imread(_show(mirror, f"data/images/dna-images/{collection}/dna-{index}.png"))
        grey = np.ascontiguousarray(rgb[..., 0] if rgb.ndim == 3 else rgb)
        labels = relabel(iio.imread(_show(mirror, f"data/preprocessed-data/{collection}/dna-{index}.png")))
        if pixel_hash(grey) != image_hash or pixel_hash(labels) != label_hash:
            raise ValueError(f"Coelho 2009 {name}: pixels differ from the recorded hash")
        iio.imwrite(folder / "images" / f"{name}.png", grey)
        tifffile.imwrite(folder / "labels" / f"{name}_labels.tif", labels, compression="zlib")
        rows.append(
            f"coelho2009/images/{name}.png,{int(labels.max())},{COELHO_NAMES[collection]},"
            f"instance_mask,coelho2009/labels/{name}_labels.tif"
        )
    truth.write_text("\n".join(rows) + "\n")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    args = parser.parse_args(argv)
    folder = coelho_folder(args.mirror)
    if folder is None:
        print(f"Coelho 2009 skipped: no snapshot at {args.mirror}")
        return 0
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
