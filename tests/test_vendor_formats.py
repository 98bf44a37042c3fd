"""Zeiss CZI, Nikon ND2 and Leica LIF files through scripts.formats and open_image.

Real files from acquisition software are in tests/data/formats (SOURCES.md
says where each comes from); mosaics, time series and RGB CZIs are written
with pylibCZIrw's own writer, LIF files with tests/lif_writer.py. Pixels
are checked against each format's library read independently.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from scripts.config.discovery import Image
from scripts.config.load import load_config
from scripts.config.params import measured_channels, reading
from scripts.formats import czi, lif, nd2
from scripts.imaging import (
    Calibration,
    ImageReadError,
    decoded_megabytes,
    list_channels,
    open_image,
    write_tiff,
)
from scripts.tables import intensities
from tests.lif_writer import Series, write_lif
from tests.workflow_copy import ROOT

DATA = Path(__file__).parent / "data" / "formats"
SCENES_CZI = DATA / "0T-4C-0Z-7pos.czi"
STACK_CZI = DATA / "0T-4C-5Z.czi"
TIME_ND2 = DATA / "dims_z5t3c2y32x32.nd2"
RGB_ND2 = DATA / "ND2_dims_rgb.nd2"
CZI_CHANNELS = "0='AF647', 1='AF568', 2='AF488', 3='DAPI'"
CZI_NAMES = ["AF647", "AF568", "AF488", "DAPI"]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

pyczi = pytest.importorskip("pylibCZIrw.czi")
nd2_library = pytest.importorskip("nd2")
liffile = pytest.importorskip("liffile")


def one_line_error(path, **options):
    """The ImageReadError message of open_image, checked to be one line
    that starts with the file's name."""
    with pytest.raises(ImageReadError) as error:
        open_image(path, **options)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def truncated(path, tmp_path, fraction=0.5):
    data = Path(path).read_bytes()
    cut = tmp_path / f"cut{Path(path).suffix}"
    cut.write_bytes(data[: int(len(data) * fraction)])
    return cut


# ---------------------------------------------------------------------------
# CZI
# ---------------------------------------------------------------------------


def czi_plane(path, scene_index, c, z=0):
    """A plane read with pylibCZIrw directly (the file's own scene index)."""
    with pyczi.open_czi(str(path)) as document:
        return document.read(plane={"C": c, "Z": z, "T": 0}, scene=scene_index)[..., 0]


def test_czi_scenes_are_listed_with_their_names():
    assert czi.scenes(SCENES_CZI) == [
        (0, "P5"), (1, "P1"), (2, "P4"), (3, "P3"), (4, "P2"), (5, "P6"), (6, "P7")]
    assert czi.scenes(STACK_CZI) == [(0, "Current-Position")]


@pytest.mark.parametrize("channel", [3, "DAPI"])
@pytest.mark.parametrize("scene", [1, "P1"])
def test_czi_scene_and_channel_by_index_or_name(scene, channel):
    image = open_image(SCENES_CZI, scene=scene, channel=channel)
    np.testing.assert_array_equal(image.pixels, czi_plane(SCENES_CZI, 1, 3))
    assert image.pixels.dtype == np.uint16 and image.pixels.shape == (32, 32)
    assert image.calibration == Calibration(pytest.approx(0.62048, abs=1e-5), None)
    assert image.notes == ("reading scene 1 'P1' of 7",
                           "segmenting channel 3 'DAPI' of 4; the others are ignored")


def test_czi_scenes_differ():
    first = open_image(SCENES_CZI, scene=0, channel=0).pixels
    last = open_image(SCENES_CZI, scene=6, channel=0).pixels
    np.testing.assert_array_equal(last, czi_plane(SCENES_CZI, 6, 0))
    assert not np.array_equal(first, last)


def test_czi_z_stack_in_3d_and_projected():
    volume = open_image(STACK_CZI, channel="AF488", volume="3d")
    expected = np.stack([czi_plane(STACK_CZI, None, 2, z) for z in range(5)])
    np.testing.assert_array_equal(volume.pixels, expected)
    assert volume.calibration == Calibration(pytest.approx(0.62048, abs=1e-5), pytest.approx(1.0))
    projected = open_image(STACK_CZI, channel=2, volume="max_projection")
    np.testing.assert_array_equal(projected.pixels, expected.max(axis=0))
    message = one_line_error(STACK_CZI, channel=2)
    assert "has 5 pages or planes" in message


def test_czi_refusals_name_the_choices():
    assert one_line_error(SCENES_CZI, channel=0) == (
        f"{SCENES_CZI}: holds 7 scenes (0='P5', 1='P1', 2='P4', 3='P3', 4='P2', 5='P6', "
        "6='P7'): choose one by index or name")
    assert one_line_error(SCENES_CZI, scene=0) == (
        f"{SCENES_CZI}: has 4 channels ({CZI_CHANNELS}): set the config key 'channel' "
        "to the index or name of the one to segment")
    assert "has no channel named 'GFP'; its channels: " + CZI_CHANNELS in one_line_error(
        SCENES_CZI, scene=0, channel="GFP")
    assert "has no channel 4" in one_line_error(SCENES_CZI, scene=0, channel=4)
    assert "has no scene named 'P9'" in one_line_error(SCENES_CZI, scene="P9", channel=0)
    assert "has no scene 7" in one_line_error(SCENES_CZI, scene=7, channel=0)


def write_czi(path, planes, pixel_size_um=0.5):
    """planes: {(c, z, t, (x, y)): 2D array}; channel names Ch<c>."""
    with pyczi.create_czi(str(path), exist_ok=True) as writer:
        for (c, z, t, location), pixels in planes.items():
            writer.write(pixels, location=location, plane={"C": c, "Z": z, "T": t})
        # libCZI stores these values as given in Scaling/Items/Distance, which
        # the CZI format and ZEN give in metres.
        channels = {c: f"Ch{c}" for c, _, _, _ in planes}
        writer.write_metadata(channel_names=channels, scale_x=pixel_size_um * 1e-6,
                              scale_y=pixel_size_um * 1e-6)
    return path


def test_czi_mosaic_is_stitched_at_the_tile_positions(tmp_path):
    tiles = np.random.default_rng(3).integers(0, 255, (2, 2, 20, 30), dtype=np.uint8)
    planes = {(0, 0, 0, (j * 30, i * 20)): tiles[i, j] for i in range(2) for j in range(2)}
    path = write_czi(tmp_path / "mosaic.czi", planes)
    image = open_image(path)
    np.testing.assert_array_equal(image.pixels, np.block([[tiles[0, 0], tiles[0, 1]],
                                                          [tiles[1, 0], tiles[1, 1]]]))
    assert image.calibration == Calibration(pytest.approx(0.5), None)
    assert image.notes == (
        "mosaic of 4 tiles stitched by libCZI at their stored stage positions (no blending)",)


def test_czi_time_series_is_refused(tmp_path):
    frames = np.random.default_rng(4).integers(0, 255, (3, 20, 30), dtype=np.uint8)
    path = write_czi(tmp_path / "time.czi", {(0, 0, t, (0, 0)): frames[t] for t in range(3)})
    assert "is a time series (3 time points" in one_line_error(path)


def test_czi_bgr_is_read_as_rgb(tmp_path):
    stored = np.random.default_rng(5).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = write_czi(tmp_path / "rgb.czi", {(0, 0, 0, (0, 0)): stored})  # libCZI's B, G, R
    np.testing.assert_array_equal(open_image(path, channel=0).pixels, stored[..., 2])  # red
    gray = open_image(path).pixels
    expected = np.rint(stored[..., ::-1] @ np.array([0.2125, 0.7154, 0.0721])).astype(np.uint8)
    np.testing.assert_array_equal(gray, expected)


def test_czi_decoded_size_is_one_scene_from_the_header():
    assert czi.header_shape(SCENES_CZI, scene="P1") == ((1, 4, 1, 1, 32, 32), 2)
    file_mb = SCENES_CZI.stat().st_size / 1e6  # more than the pixels of a scene
    assert decoded_megabytes(SCENES_CZI, scene=1) == file_mb


def test_czi_channel_names_of_a_scene_from_the_header(tmp_path):
    assert czi.channel_names(SCENES_CZI, scene="P1") == CZI_NAMES
    assert czi.channel_names(STACK_CZI) == CZI_NAMES
    assert list_channels(SCENES_CZI, scene=6) == CZI_NAMES
    two = write_czi(tmp_path / "two.czi", {(c, 0, 0, (0, 0)): np.zeros((4, 5), np.uint8)
                                           for c in range(2)})
    assert czi.channel_names(two) == ["Ch0", "Ch1"]
    rgb = write_czi(tmp_path / "rgb.czi", {(0, 0, 0, (0, 0)): np.zeros((4, 5, 3), np.uint8)})
    assert czi.channel_names(rgb) == []
    with pytest.raises(ImageReadError, match=r"holds 7 scenes \(0='P5'"):
        czi.channel_names(SCENES_CZI)
    with pytest.raises(ImageReadError, match="has no scene named 'P9'"):
        list_channels(SCENES_CZI, scene="P9")


def expanded(path, scene, segmented):
    """(column, channel index) of every spec ``measure.channels: all`` gives
    for image `scene` of `path`, as the config and discovery make them."""
    config = load_config({"input": "x", "channel": segmented, "measure": {"channels": "all"}},
                         SCHEMA)
    (spec,) = measured_channels(Image(str(path), scene=scene), config, reading(config))
    assert spec["all"] and spec["reading"].get("scene") == scene
    specs = intensities.expand_all(spec, config["channel"])
    assert all(item["reading"].get("scene") == scene for item in specs)
    return [(item["name"], item["reading"]["channel"]) for item in specs]


@pytest.mark.parametrize("segmented", ["DAPI", 3])
def test_czi_all_channels_but_the_segmented_one(segmented):
    assert expanded(SCENES_CZI, 1, segmented) == [("AF647", 0), ("AF568", 1), ("AF488", 2)]
    assert expanded(SCENES_CZI, 1, "AF568") == [("AF647", 0), ("AF488", 2), ("DAPI", 3)]


def test_intensities_job_measures_every_other_channel_of_a_czi_scene(tmp_path):
    planes = [czi_plane(SCENES_CZI, 4, c) for c in range(4)]
    labels = np.zeros((32, 32), np.uint16)
    labels[2:10, 3:12], labels[15:30, 20:31] = 1, 2
    write_tiff(tmp_path / "labels.tif", labels, {"step": "label"})
    spec = {"all": True, "path": str(SCENES_CZI),
            "reading": {"channel": "DAPI", "volume": "refuse", "max_pixels": 10**6, "scene": 4}}
    output = SimpleNamespace(csv=str(tmp_path / "intensities.csv"))
    intensities.run(SimpleNamespace(labels=str(tmp_path / "labels.tif")), output,
                    SimpleNamespace(channels=[spec], segmented="DAPI", source="scene P2"),
                    [str(tmp_path / "intensities.log")])
    with open(output.csv, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["label"] + [column for name in CZI_NAMES[:3]
                                         for column in intensities.intensity_columns(name)]
    for row, label in zip(rows, (1, 2), strict=True):
        assert int(row["label"]) == label
        for name, plane in zip(CZI_NAMES[:3], planes):
            assert float(row[f"{name}_mean_intensity"]) == pytest.approx(
                plane[labels == label].mean())
    assert "in 3 channels: AF647, AF568, AF488" in (tmp_path / "intensities.log").read_text()


# ---------------------------------------------------------------------------
# ND2
# ---------------------------------------------------------------------------


def test_nd2_time_series_is_refused_in_one_line():
    assert nd2.scenes(TIME_ND2) == [(0, None)]
    assert one_line_error(TIME_ND2, channel="Widefield Red") == (
        f"{TIME_ND2}: is a time series (3 time points, dimensions {{'T': 3, 'Z': 5, 'C': 2, "
        "'Y': 32, 'X': 32}); only one time point per image is supported")


def test_nd2_planes_of_every_channel_and_z_match_nd2():
    expected = nd2_library.imread(str(TIME_ND2))  # T, Z, C, Y, X
    with nd2_library.ND2File(str(TIME_ND2)) as handle:
        for c in range(2):
            for z in range(5):
                np.testing.assert_array_equal(nd2.read_plane(handle, 0, c, z, t=2),
                                              expected[2, z, c])


def test_nd2_rgb_by_channel_name_or_index_with_pixel_size():
    rgb = nd2_library.imread(str(RGB_ND2))
    by_name = open_image(RGB_ND2, channel="Brightfield")
    gray = np.rint(rgb @ np.array([0.2125, 0.7154, 0.0721])).astype(np.uint8)
    np.testing.assert_array_equal(by_name.pixels, gray)
    np.testing.assert_array_equal(open_image(RGB_ND2, channel=1).pixels, rgb[..., 1])
    assert by_name.calibration == Calibration(pytest.approx(0.342857, abs=1e-6), None)
    assert "has no channel named 'DAPI'; its channels: 0='Brightfield'" in one_line_error(
        RGB_ND2, channel="DAPI")


def test_nd2_frame_index_follows_the_loops_of_a_multipoint_file():
    """T 2 x P 3 x Z 2 as nd2's loop_indices give them (no such file to ship)."""
    loops = [{"T": t, "P": p, "Z": z} for t in range(2) for p in range(3) for z in range(2)]
    assert nd2.frame_index(loops, {"T": 0, "P": 2, "Z": 1}) == 5
    assert nd2.frame_index(loops, {"T": 1, "P": 0, "Z": 0}) == 6
    assert nd2.frame_index([{"Z": 0}, {"Z": 1}], {"T": 0, "P": 0, "Z": 1}) == 1
    with pytest.raises(ValueError, match="no frame"):
        nd2.frame_index(loops, {"T": 0, "P": 3, "Z": 0})


def test_nd2_channel_names_from_the_header():
    assert nd2.channel_names(TIME_ND2) == ["Widefield Green", "Widefield Red"]
    assert list_channels(TIME_ND2, scene=0) == ["Widefield Green", "Widefield Red"]
    assert nd2.channel_names(RGB_ND2) == []  # one channel, RGB: nothing to choose
    with pytest.raises(ImageReadError, match="has no position 1; its positions: 0"):
        nd2.channel_names(TIME_ND2, scene=1)


def test_nd2_all_channels_but_the_segmented_one():
    assert expanded(TIME_ND2, None, "Widefield Red") == [("Widefield Green", 0)]
    assert expanded(TIME_ND2, None, 0) == [("Widefield Red", 1)]
    assert expanded(RGB_ND2, None, "Brightfield") == []


def test_nd2_decoded_size_from_the_header():
    assert nd2.header_shape(TIME_ND2) == ((3, 5, 2, 32, 32), 2)
    assert decoded_megabytes(TIME_ND2) == TIME_ND2.stat().st_size / 1e6


# ---------------------------------------------------------------------------
# LIF
# ---------------------------------------------------------------------------

RNG = np.random.default_rng(7)
STACK = RNG.integers(0, 4000, (3, 2, 20, 24), dtype=np.uint16)  # Z, C, Y, X
PLAIN = RNG.integers(0, 255, (2, 16, 18), dtype=np.uint8)  # C, Y, X


@pytest.fixture
def leica(tmp_path):
    path = tmp_path / "project.lif"
    return write_lif(path, [
        Series("stack", STACK, "ZCYX", ["Green", "Red"], {"X": 0.2, "Y": 0.2, "Z": 1.5}),
        Series("plain", PLAIN, "CYX", ["Blue", "Gray"], {"X": 0.5, "Y": 0.5}),
        Series("time", PLAIN, "TYX", [], {"X": 0.5, "Y": 0.5}),
        Series("tiles", PLAIN, "MYX", [], {"X": 0.5, "Y": 0.5}),
        Series("spectrum", PLAIN, "λYX", [], {"X": 0.5, "Y": 0.5}),
    ])


def test_lif_series_are_listed_by_name(leica):
    assert lif.scenes(leica) == [(0, "stack"), (1, "plain"), (2, "time"), (3, "tiles"),
                                 (4, "spectrum")]


@pytest.mark.parametrize("channel", [1, "Red"])
def test_lif_series_channel_and_volume(leica, channel):
    image = open_image(leica, scene="stack", channel=channel, volume="3d")
    with liffile.LifFile(str(leica)) as reference:
        expected = reference.images[0].asarray()[:, 1]
    np.testing.assert_array_equal(image.pixels, expected)
    np.testing.assert_array_equal(image.pixels, STACK[:, 1])
    assert image.calibration == Calibration(pytest.approx(0.2), pytest.approx(1.5))
    assert image.notes == ("reading series 0 'stack' of 5",
                           "segmenting channel 1 'Red' of 2; the others are ignored",
                           "segmenting the volume of 3 planes in 3D")


def test_lif_plain_series_by_index(leica):
    image = open_image(leica, scene=1, channel="Blue")
    np.testing.assert_array_equal(image.pixels, PLAIN[0])
    assert image.calibration == Calibration(pytest.approx(0.5), None)


@pytest.mark.parametrize(("scene", "problem"), [
    ("time", "is a time series (2 time points"),
    ("tiles", "series 'tiles' is a tile scan of 2 tiles: tile scans are not stitched here"),
    ("spectrum", "has a dimension 'λ' of size 2"),
])
def test_lif_refusals(leica, scene, problem):
    assert problem in one_line_error(leica, scene=scene, channel=0)


def test_lif_bad_channel_lists_the_lut_names(leica):
    assert one_line_error(leica, scene=1, channel="Far red") == (
        f"{leica}: has no channel named 'Far red'; its channels: 0='Blue', 1='Gray'")


def test_lif_channel_names_are_the_lut_names_of_the_series(leica, tmp_path):
    assert lif.channel_names(leica, scene="stack") == ["Green", "Red"]
    assert list_channels(leica, scene=1) == ["Blue", "Gray"]
    assert lif.channel_names(leica, scene="time") == []  # no C dimension
    unnamed = write_lif(tmp_path / "unnamed.lif", [Series("s", PLAIN, "CYX", ["", "Red"])])
    assert lif.channel_names(unnamed) == ["", "Red"]
    with pytest.raises(ImageReadError, match="holds 5 series"):
        lif.channel_names(leica)


def test_lif_all_channels_but_the_segmented_one(leica, tmp_path):
    assert expanded(leica, 0, "Green") == [("Red", 1)]
    assert expanded(leica, 1, 1) == [("Blue", 0)]
    unnamed = write_lif(tmp_path / "unnamed.lif", [Series("s", PLAIN, "CYX", ["", "Red"])])
    assert expanded(unnamed, None, "Red") == [("c0", 0)]


def test_lif_decoded_size_from_the_header(leica):
    assert lif.header_shape(leica, scene="stack") == ((3, 2, 20, 24), 2)
    assert decoded_megabytes(leica, scene=0) == leica.stat().st_size / 1e6  # tiny file


# ---------------------------------------------------------------------------
# Every format: corrupt files, one line each; readers optional
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["czi", "nd2", "lif"])
def test_truncated_and_garbage_files_fail_in_one_line(tmp_path, leica, kind):
    real = {"czi": SCENES_CZI, "nd2": TIME_ND2, "lif": leica}[kind]
    label = kind.upper()
    cut = truncated(real, tmp_path, 0.1)
    assert f"not a readable {label} file (" in one_line_error(cut, scene=0, channel=0)
    garbage = tmp_path / f"garbage.{kind}"
    garbage.write_bytes(b"not an image at all\n" * 50)
    assert f"not a readable {label} file (" in one_line_error(garbage, scene=0, channel=0)
    with pytest.raises(ImageReadError) as error:
        list_channels(garbage, scene=0)
    assert str(error.value).startswith(f"{garbage}: not a readable {label} file (")
    assert decoded_megabytes(cut) == cut.stat().st_size / 1e6  # never raises


def test_lif_cut_in_its_pixels_fails_in_one_line(tmp_path, leica):
    data = leica.read_bytes()
    end_of_stack = data.rindex("MemBlock_2".encode("utf-16-le")) - 100  # in series 0's pixels
    cut = tmp_path / "cut.lif"
    cut.write_bytes(data[:end_of_stack])
    assert lif.scenes(cut)[0] == (0, "stack")  # the header is whole
    message = one_line_error(cut, scene=0, channel=1, volume="3d")  # its last plane
    assert "not a readable LIF file (" in message


def test_an_empty_vendor_file_is_refused_before_its_reader(tmp_path):
    (tmp_path / "empty.czi").write_bytes(b"")
    assert one_line_error(tmp_path / "empty.czi") == f"{tmp_path / 'empty.czi'}: empty file (0 bytes)"


def test_without_the_optional_readers_the_message_says_what_to_install(tmp_path):
    """A Python where nd2, liffile, pylibCZIrw and zarr cannot be imported."""
    code = (
        "import sys\n"
        "for name in ('nd2', 'liffile', 'pylibCZIrw', 'zarr'):\n"
        "    sys.modules[name] = None\n"
        "from scripts.imaging import open_image, ImageReadError\n"
        "import numpy as np, tifffile\n"
        f"tifffile.imwrite({str(tmp_path / 'a.tif')!r}, np.zeros((4, 4), np.uint8))\n"
        f"print(open_image({str(tmp_path / 'a.tif')!r}).pixels.shape)\n"
        f"for path in {[str(RGB_ND2), str(SCENES_CZI)]!r}:\n"
        "    try:\n"
        "        open_image(path)\n"
        "    except ImageReadError as error:\n"
        "        print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, check=True)
    assert result.stdout.splitlines() == [
        "(4, 4)",
        f"{RGB_ND2}: reading .nd2 files needs the optional package nd2: "
        "pip install -r requirements-formats.txt",
        f"{SCENES_CZI}: reading .czi files needs the optional package pylibCZIrw: "
        "pip install -r requirements-formats.txt",
    ]


def test_importing_the_imaging_module_loads_no_optional_reader():
    code = ("import sys, scripts.imaging\n"
            "print(sorted(m for m in ('nd2', 'liffile', 'pylibCZIrw', 'zarr', 'ome_zarr')"
            " if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, check=True)
    assert result.stdout.strip() == "[]"
