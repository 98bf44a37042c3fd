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

And two *fresh* sets (``--sets fresh``), run once after the methods of the
last round were fixed (benchmarks/README.md, "Fresh validation"), extracted
the same way by :func:`fresh_folder` into ``benchmarks/out/fresh`` and not
committed (no data licence):

* Pecot et al., PLoS Comput Biol 2022: 11 DAPI images of mouse intestine
  with instance masks (``tpecot/NucleiSegmentationAndMarkerIDentification``,
  an LGPL-3.0 code repository; its Cellpose validation folder);
* NucleusSegData (Koyuncu, Cetin-Atalay, Gunduz-Demir): 37 Hoechst images of
  HepG2 and Huh7 cells with instance annotations as text
  (``canfkoyuncu/fluorescence_dataset``, no licence); the blue channel of
  the RGB JPEGs, the images of the authors' training and test lists.

Usage::

    python benchmarks/validation_data.py [--mirror DIR]   # extract, print the folders
"""

from __future__ import annotations

import argparse
import hashlib
import io
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


def snapshot_folder(variable, repository):
    """Where the snapshot of a GitHub `repository` (``owner/name``) is
    looked for: the environment variable `variable`, else the fetch tool's
    folder."""
    return Path(os.environ.get(variable, f"/work/.mirror/{repository.replace('/', '+')}/repo"))


def no_snapshot(dataset, mirror, variable):
    """The message for a set left out because its snapshot is absent."""
    return f"{dataset} skipped: no snapshot of its repository at {mirror} (set {variable})"


COELHO_VARIABLE = "COELHO2009_MIRROR"
DEFAULT_MIRROR = snapshot_folder(COELHO_VARIABLE, "luispedro/Coelho2009_ISBI_NuclearSegmentation")
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


def _show(gitdir, path, commit=COELHO_COMMIT):
    """The bytes of `path` at `commit` in the bare git directory `gitdir`."""
    return subprocess.run(
        ["git", f"--git-dir={gitdir}", "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


def write_item(folder, dataset, name, grey, labels, recorded):
    """Write one image (one-channel PNG) and its labels (uint16 TIFF) into
    `folder`'s ``images`` and ``labels`` and return its ``truth.csv`` row.

    Raises
    ------
    ValueError
        When the pixel arrays' hashes differ from `recorded`, a pair of
        :func:`pixel_hash` values (None: nothing recorded for `name`).
    """
    if (pixel_hash(grey), pixel_hash(labels)) != recorded:
        raise ValueError(f"{dataset} {name}: pixels differ from the recorded hash")
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    iio.imwrite(folder / "images" / f"{name}.png", grey)
    tifffile.imwrite(folder / "labels" / f"{name}_labels.tif", labels, compression="zlib")
    return (
        f"{folder.name}/images/{name}.png,{int(labels.max())},{dataset},"
        f"instance_mask,{folder.name}/labels/{name}_labels.tif"
    )


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
    rows = ["image,true_count,dataset,truth_type,mask"]
    for (collection, index), recorded in COELHO_ITEMS.items():
        name = f"{collection}_dna-{index}"
        rgb = iio.imread(_show(mirror, f"data/images/dna-images/{collection}/dna-{index}.png"))
        grey = np.ascontiguousarray(rgb[..., 0] if rgb.ndim == 3 else rgb)
        labels = relabel(iio.imread(_show(mirror, f"data/preprocessed-data/{collection}/dna-{index}.png")))
        rows.append(write_item(out / "coelho2009", COELHO_NAMES[collection], name, grey, labels, recorded))
    truth.write_text("\n".join(rows) + "\n")
    return out


# --------------------------------------------------------------------------
# fresh sets
# --------------------------------------------------------------------------

OUT_FRESH = ROOT / "benchmarks" / "out" / "fresh"
PECOT_VARIABLE = "PECOT2022_MIRROR"
PECOT_MIRROR = snapshot_folder(PECOT_VARIABLE, "tpecot/NucleiSegmentationAndMarkerIDentification")
PECOT_COMMIT = "0700f80f"
PECOT_FOLDER = "Cellpose/datasets/nucleiSegmentation_E2Fs/validation"
NUCLEUSSEGDATA_VARIABLE = "NUCLEUSSEGDATA_MIRROR"
NUCLEUSSEGDATA_MIRROR = snapshot_folder(NUCLEUSSEGDATA_VARIABLE, "canfkoyuncu/fluorescence_dataset")
NUCLEUSSEGDATA_COMMIT = "81cec1a7"
#: The images of the authors' training and test lists (README): HepG2 1-25,
#: Huh7 26-41; 8, 9, 10 and 22 are in neither.
NUCLEUSSEGDATA_IMAGES = (
    1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25,
    26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
)
#: image name -> sha256 of the grey image's and of the label image's pixel
#: arrays (:func:`pixel_hash`), as first extracted.
FRESH_ITEMS = {
    "pecot2022_E2F3A_E2F4_mouse1_image3": ("555b283b65f79213c6dd09d92dee07a94f39d133830a0ed1c58e15cb50c0bf0c",
        "742ce14721374e77d5553f2a6395bd56b0f20049ba3459e19cb90abe5787cb24"),
    "pecot2022_E2F3A_E2F4_mouse2_image3": ("dd5b4934bfacab7e6fdeff663b3238226c66b09af7e010e71ca6b2e9122d8105",
        "78e1ae08efdb3e2511115c4d652860d14bbcabf24d1dd98e5a3544cb4ad4a62b"),
    "pecot2022_E2F3A_E2F8_mouse3_image3": ("99a264f5e64e4730f28ca7b03f5b4d1eac7d61eac84f12b8156d87a9325804ec",
        "fac3316049ae8d6485f0c1788400b24c546df468457c0aa7806b1e5f91312804"),
    "pecot2022_E2F3A_EdU_mouse1_image2": ("6574eeecac1a1ce51d7fb0150e2df60328a3953013e10b4801481aeb34febb80",
        "2edad940f342f9c1dd1092cba5ebe92088ddba7a40e1a10da9ec809dd8687d67"),
    "pecot2022_E2F3A_EdU_mouse2_image3": ("ccc5c80a1a27532e7567bdae6f1a0bc4a0d8accfa13fd4a304769b4113a78d7e",
        "50b7d8ca7cb37a7d34a87a595876f75d912448009bd2589d044bd2cc9c89775c"),
    "pecot2022_E2F3A_pH3_mouse1_image3": ("cbd0a972efe2a08a622cc4606f6294959196aed2fa2be958d925eab04ba23abb",
        "d7c9d32fa18952a97a9c8a570fbb5cc04865f998b50165b435c91bfb6cb472e3"),
    "pecot2022_E2F3A_pH3_mouse3_image3": ("09c48482116b6d41cb238225844affe625e9cce7fdc284f91ce359e45c9303ea",
        "c0820a2b624883348a600f5da916e079bc5809dc6b1b370d73e9ccbf066d927c"),
    "pecot2022_E2F4_pH3_mouse1_image3": ("8ffe0d107afdc8ba0a44fe9481740d8e9a0e9571d7b1c3c6684ba12864239e93",
        "407527a004bf788661ae2862f47c363e1d3e41777ffbdfc2ee1713307d8add43"),
    "pecot2022_E2F8_EdU_mouse1_image1": ("7e7b40db34105539d34a697197f5f3203630907f05dde8a112c9cdb0af56fa84",
        "cc4012d0dc3cfdb75974994fa1f5af452506d1b2da1bfd4d366a00a4ceb1187b"),
    "pecot2022_E2F8_EdU_mouse2_image3": ("75e092025f5e129020dc866b7b9744d334a438c4baa7c9980e676d3e3b44552b",
        "fd7be1cc0f06755d6e4589cdad91cfdecb87c8127136436d79a282b30eadeaec"),
    "pecot2022_E2F8_pH3_mouse3_image3": ("8de9216c32cf85b2d3a07aff9f7e8d51cbd13dab437ef6deda860be8819524b8",
        "9209679bd86c4ffa29119ada49e890ac0405473a15261e4d66b6b47635ef0cf0"),
    "nucleussegdata_1": ("1794bee9ad9309f7c9d8cbe91bfc5a9c83f700f058090758db9b7bcd24c1f2b1",
        "fc7915f7677d4a6d239a309ee5eee4e63ad149a068f81dd298785776347cbbbe"),
    "nucleussegdata_2": ("c3503ee12eac4b72c06761236b7fb757ebf30264a79096fd4e034c16af7a4c84",
        "37b4102e746f04e25c2f9f88e1aeb04ba9165e55990690cc97ae1fa75c9c6b3a"),
    "nucleussegdata_3": ("38c49f6493016a2aea92898bf36f4bcd5aaa279c026ef14149a2db57b9ab0dfb",
        "ff7e30f5bf8839df8a67939659d2ed0301af9ca73a51ce9c0ff7dc945eb059cb"),
    "nucleussegdata_4": ("8dd90658d7da632b3b9b9b7cf448930e691dfb3e3250483585a18eff06cd1240",
        "a7b4c023b6a86a7617af98d86a4e41d0807e36f2d261db15689ef1f17e039605"),
    "nucleussegdata_5": ("b8866e3d346ea129b48124938452ec91b28024e4a60f50c27b7fdb9cdfbcb5a7",
        "a67c4f6e8bd9c6dc825d2a613a971286d6d54a244f9669d09370dedc996ddee6"),
    "nucleussegdata_6": ("0ccad5bffe28a1e276854ca8ed1394b449fdf0bc70470163e6d224e60c3a6f03",
        "750f1920083af930555ec7c57771d8a5d006ffc2b3096790498c526cb1cfaab2"),
    "nucleussegdata_7": ("db265ba324c2632b60d1879301c4a6ae679b688aa006d089ba56b6033fc042c2",
        "bf7dd6a40cdde08f043496aab6cf1d40875e44baae1b300fedcb9aa0c5027c4e"),
    "nucleussegdata_11": ("df7abdafdc6006adfbe8f9684f626d9368da26deedd87a4c42c54bf8d8a7ce8d",
        "73b2d9898794078e923f93b2d9bbd3290d9d5a0b6794660b6ac7f5f347b7d217"),
    "nucleussegdata_12": ("0e9794830141fae9bf80d01fcc0621e2a487ce949d1f76f254aac5f9f626b93d",
        "a2211b9cad16be4e51162a20949fc015d8e39d13407791e13acf87a5c21bc5ff"),
    "nucleussegdata_13": ("a6c26d7d9578aef4b7388a4705527b686308f8c3803fb2e2c0166dda2dfc4522",
        "5e5e1743649d18df1bdf79ee9e9544ee03d259440d37daa5cdd03c66e8b4e885"),
    "nucleussegdata_14": ("2395f94f8eaaf8222f06dee4abd9e00e4b97ad8079ca955d8926d8dd51ad64fb",
        "2e6a2a72f128b6d0c6c1f35bb13fb6dc8f071b9d0f54cd2edf3f72f144031e1c"),
    "nucleussegdata_15": ("e7bf61d949cdf232928965ef5ed30b86d1dfbc4fc6162e5ef65f978106004fdb",
        "3442d3d707c21f0e71d7e26a583c8657e398b9a12239f065c3a1ae3f2e1f7e20"),
    "nucleussegdata_16": ("7946b828b8ff74691f7d7cb22cc5775bf2497ed1ad62b640a8411726ecbc4f5c",
        "e70c4434ffa376b1cdee9a0e83826083ccdcfbf59d878431c1cc26638ef4ab64"),
    "nucleussegdata_17": ("d0985fe221ad206bde4392d09efe1bda6972dfa19c042060dfdb8adfbab3b5f2",
        "f4d4eb974f3e6618cc3cf68405a48ae7aa85953e0c8bb1791520c8e71add54db"),
    "nucleussegdata_18": ("ed9a253788bc060ced4a9c551ef025ce4a45a1dfc2dd2e0f1e3ef1828dbc309d",
        "aff4b1df0d005b8a4d792c803827676bdc6b062df8735aae0225aed7aca01046"),
    "nucleussegdata_19": ("cc90d22c17b60c4a8ebed56d356815341d43a49bca61b1a642c52e170f22e7f1",
        "7deda3d15e693b682d1d5c4929afe985ebb81eb6102bd57f963b1569c12144c5"),
    "nucleussegdata_20": ("2841f974f7874bd9f4fb5099f890befa90c1bc6dc49fc961de6a13fe39436660",
        "99661b0150bf15b0463431cccc2c669516d3ad15cae1bd1180fb577b5a92e99d"),
    "nucleussegdata_21": ("9d5dddcc44964bcbae486a12af4c64ee1d8dc9dcdfac0c50e3486daa40e56ad9",
        "b00ea22dcacd6c775b570c9b8adfbe8ceaec56a7ac9ea69238b504857b77195b"),
    "nucleussegdata_23": ("bad3265f0961ba46e05a7bccec4bc080aba2ba50cf095d46a6b0bd82a715413f",
        "6e0a60d23d896fe7229349d54db4b5bf34e4edf1aa6cf9b88a8b4b703765a618"),
    "nucleussegdata_24": ("4cfd9aa8663edec503982e532e432d0c2445e68f107b5474c04f2818c7c053ef",
        "b7c9a0e2632669261a7850cd01c5cc1643e9360361d59810989e16ef64c6c953"),
    "nucleussegdata_25": ("02f8cde3836c80614f4cde29a54aca192a9ce8201c3b834aa9c7283623d43917",
        "e0c86b6185b77f70e01b0eb7d2f7dac299a4780b57a0c3baf582d7d4099178c1"),
    "nucleussegdata_26": ("152269b1d3ebf09cb7c86830d2a80100e86f9942a1c20fbfd741fc2ce76014cf",
        "0ba84f3bbdb8bc02ea3b04a551211ef9d42660062b943f5fb45e598211646ea2"),
    "nucleussegdata_27": ("311ee5468d413ce0ab722b3e2fdedece4368d0838f32a5debe34bccd65ba1a89",
        "761948680f2a53bdc130bc349e5945bac4347d98239e2f1a9a842dae06ee54c5"),
    "nucleussegdata_28": ("f4a8659506120945cb8d3420447abf88b5a4907c09e28c2a6ab1330cf8586745",
        "31fcae420a3f1c6eead05c043b5510a22e7cfbc1469c89bc91de0e0ebe56b4e9"),
    "nucleussegdata_29": ("e24d8ee1e024bd016d9b58cebef26fba72b1e5449a1fa1705d1dd94385c6d1a2",
        "32ef7dccc86b2ab0071985670a978e5ccc3bd116bae77378a3a2c00d5a7fb9a4"),
    "nucleussegdata_30": ("851abe5746de30cc9ebe3d3118e78ab5e8c895297ed4211f91066b9a78bb8e5b",
        "5260f6578d5c184e504e2f6c2972fd81203b4270713e59942733fabd200d9dcb"),
    "nucleussegdata_31": ("d9d1ac3c6332100be7c2f0ea9401ad6b5a5428d5f5ca5ae206af0b11a2b89c02",
        "3feae07b4d46340a3bce639034f9e38b406edbea223b8369a7f5c8a15d57dcd4"),
    "nucleussegdata_32": ("021a64fb26234f6454c0f4eb16b992b9c298ce355b25a4e751381cb54ebe333b",
        "9e479e11809e3d23a9e7b2c50ba0fe389ac948f7d495284223213ffc75c181ad"),
    "nucleussegdata_33": ("5fd766d5c9bf7bbef8122d7c56cf74849f6358cdf76975343a67e68e810f8eeb",
        "0c4950e2fc784e65b46bad24ae359ee15cff12c96e79af03e572b76e281adbe3"),
    "nucleussegdata_34": ("faa1ef1ca1615402ef4e48b7f66dbd8816d6916804cd029a38b3cdbdf73bd382",
        "ce15515c4fd038736e18aa15a5e40c1ef67fd6be9d82669546a01618ac44828d"),
    "nucleussegdata_35": ("ae823a7edf3ab04f455032f2d41513c59e06dc009883ba82eb11982d174e8d98",
        "978d511c77933fce062a5982048a4f163eefb8043ddfdaefa2573525f1cc0969"),
    "nucleussegdata_36": ("1cf17f51a52f8f7d12bb7c0f82152b940cd77d96ce5f209fd17399f5510437ff",
        "73e30e5430edf59d81b698512f0ad4505d36678a0bcb6ef691a36bc5d8956c25"),
    "nucleussegdata_37": ("b226286ec801b1a34e1707830f1a3ca6796159de6e2299a5f5a13e988cd183c4",
        "b1d9a327bae670a1a7057fe9dc073526b59e4799c63319804102129cc39c9916"),
    "nucleussegdata_38": ("6aa4aa4b1f2b0b6861231d97f6c1423636f46977f8f1e5b178446df1151c5f1b",
        "c482df5fd1d4656b95161b60dc4b356f2a54a5f881b25cfb765465948014218a"),
    "nucleussegdata_39": ("6236d45834916d1beaec23a624c0fafd68f777472d36f2214610d5e175de9856",
        "ecfafdf315fce47db8f638f7813ab0c9f62d2671230608ff710f0f6cfcc4fd1f"),
    "nucleussegdata_40": ("bc3b2b414cc59587dda1df7b1a8cac2bcdd481871ee50b28e9b54ebd2b0adcc9",
        "29bef51df2913db40f1238b127326fc82f3b6535feb1cf7f1cfd154d341c4973"),
    "nucleussegdata_41": ("0261c2ccbf25ec3f28d03c70d4b6edf4bdc28dc2a46aa240e27e9fff3f0a5ff0",
        "931e2ca9255ec170d2a5624d2443d83f25fc67de21ad847dab28611653f3203d"),
}


def parse_annotation_text(text):
    """A NucleusSegData annotation file as a label image.

    Parameters
    ----------
    text : bytes
        One text line per image row, the labels of its pixels separated by
        spaces (0: background).

    Returns
    -------
    numpy.ndarray
        int64 labels, (rows, columns).

    Raises
    ------
    ValueError
        When the rows are not all of one length.
    """
    rows = [line.split() for line in text.decode("ascii").splitlines() if line.strip()]
    if len({len(row) for row in rows}) != 1:
        raise ValueError("annotation rows of different lengths")
    return np.array(rows, dtype=np.int64)


def pecot_items(mirror=PECOT_MIRROR):
    """(name, grey uint8 image, labels) of the 11 Pecot 2022 validation images."""
    listing = subprocess.run(
        ["git", f"--git-dir={mirror}", "ls-tree", "--name-only", f"{PECOT_COMMIT}:{PECOT_FOLDER}/images"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for file_name in sorted(listing):
        name = file_name.rsplit(".", 1)[0]
        grey = tifffile.imread(io.BytesIO(_show(mirror, f"{PECOT_FOLDER}/images/{file_name}", PECOT_COMMIT)))
        masks = tifffile.imread(io.BytesIO(_show(mirror, f"{PECOT_FOLDER}/masks/{name}.tiff", PECOT_COMMIT)))
        yield f"pecot2022_{name}", np.ascontiguousarray(grey), relabel(masks)


def nucleussegdata_items(mirror=NUCLEUSSEGDATA_MIRROR):
    """(name, grey uint8 image: the blue channel, labels) of 37 NucleusSegData images."""
    for index in NUCLEUSSEGDATA_IMAGES:
        rgb = iio.imread(_show(mirror, f"dataset/images/{index}.jpg", NUCLEUSSEGDATA_COMMIT))
        annotation = _show(mirror, f"dataset/annotations/{index}", NUCLEUSSEGDATA_COMMIT)
        yield f"nucleussegdata_{index}", np.ascontiguousarray(rgb[..., 2]), relabel(parse_annotation_text(annotation))


FRESH_SOURCES = {
    "Pecot2022": (PECOT_MIRROR, PECOT_VARIABLE, pecot_items),
    "NucleusSegData": (NUCLEUSSEGDATA_MIRROR, NUCLEUSSEGDATA_VARIABLE, nucleussegdata_items),
}


def fresh_folder(out=OUT_FRESH, sources=None):
    """The fresh validation sets as one data folder, and the sets left out.

    Extracts each set whose snapshot is present once into ``out/<set>``
    (images as one-channel PNG, labels as uint16 TIFF relabelled 1..N) with
    ``out/truth.csv``; later calls reuse the folder (delete it to extract
    again, e.g. once a missing snapshot is there).

    Parameters
    ----------
    sources : dict, optional
        ``{set: (snapshot folder, environment variable, item generator)}``;
        :data:`FRESH_SOURCES` by default.

    Returns
    -------
    (Path or None, list of str)
        `out` (None when no snapshot is present) and one message per set
        left out.

    Raises
    ------
    ValueError
        When an extracted pixel array differs from the recorded hash.
    """
    out = Path(out)
    truth = out / "truth.csv"
    if truth.is_file():
        return out, []
    rows, skipped = ["image,true_count,dataset,truth_type,mask"], []
    for dataset, (mirror, variable, items) in (sources or FRESH_SOURCES).items():
        if not Path(mirror).is_dir():
            skipped.append(no_snapshot(dataset, mirror, variable))
            continue
        for name, grey, labels in items(mirror):
            rows.append(write_item(out / dataset.lower(), dataset, name, grey, labels, FRESH_ITEMS.get(name)))
    if len(rows) == 1:
        return None, skipped
    truth.write_text("\n".join(rows) + "\n")
    return out, skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help="the Coelho 2009 snapshot")
    args = parser.parse_args(argv)
    folder = coelho_folder(args.mirror)
    print(folder or no_snapshot("Coelho 2009", args.mirror, COELHO_VARIABLE))
    fresh, skipped = fresh_folder()
    for message in skipped:
        print(message)
    if fresh is not None:
        print(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
