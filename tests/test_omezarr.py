"""OME-Zarr in and out: images, HCS plates (fields as images), labels.

The plate (2 wells x 2 fields x 2 channels, a 2-level pyramid) is written
by the ome-zarr library itself in NGFF 0.4 (Zarr v2) and 0.5 (Zarr v3);
the labels this project writes are read back with ome-zarr's Reader.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from scripts.config.discovery import Image
from scripts.config.load import load_config
from scripts.config.params import measured_channels, reading
from scripts.formats import omezarr
from scripts.imaging import (
    Calibration,
    ImageReadError,
    decoded_megabytes,
    list_channels,
    open_image,
)
from scripts.tables import intensities
from tests.workflow_copy import ROOT

pytest.importorskip("ome_zarr")
zarr = pytest.importorskip("zarr")
with warnings.catch_warnings():  # ome-zarr 0.18 warns about itself on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Labels, Multiscales, Reader
    from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

FORMATS = {"0.4": FormatV04, "0.5": FormatV05}
WELLS = ("B/2", "B/3")
CHANNELS = ["DAPI", "GFP"]
PIXEL_UM = 0.65
SHAPE = (2, 48, 64)  # c, y, x


def omero():
    return {"channels": [
        {"label": name, "color": color, "active": True,
         "window": {"start": 0, "end": 4095, "min": 0, "max": 4095}}
        for name, color in zip(CHANNELS, ["0000FF", "00FF00"])
    ]}


def field_pixels(well, field):
    """The seeded (c, y, x) pixels of one field."""
    seed = 10 * WELLS.index(well) + field
    return np.random.default_rng(seed).integers(0, 4095, SHAPE, dtype=np.uint16)


@pytest.fixture(params=sorted(FORMATS), ids=lambda v: f"ngff{v}")
def plate(request, tmp_path):
    fmt = FORMATS[request.param]()
    path = tmp_path / "plate.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=fmt.zarr_format)
    write_plate_metadata(root, ["B"], ["2", "3"], list(WELLS), fmt=fmt, field_count=2,
                         name="test plate")
    for well in WELLS:
        row, column = well.split("/")
        group = root.require_group(row).require_group(column)
        write_well_metadata(group, [{"path": "0"}, {"path": "1"}], fmt=fmt)
        for field in (0, 1):
            write_image(field_pixels(well, field), group.require_group(str(field)),
                        axes=["c", "y", "x"], scale={"c": 1.0, "y": PIXEL_UM, "x": PIXEL_UM},
                        axes_units={"y": "micrometer", "x": "micrometer"},
                        scale_factors=(2,), fmt=fmt, omero=omero())
    return path, fmt


def test_plate_fields_lists_every_field_of_every_well(plate):
    path, _ = plate
    assert omezarr.plate_fields(path) == [
        ("B02", 0, path / "B/2/0"), ("B02", 1, path / "B/2/1"),
        ("B03", 0, path / "B/3/0"), ("B03", 1, path / "B/3/1"),
    ]
    assert omezarr.scenes(path) == [(0, "B02_f0"), (1, "B02_f1"), (2, "B03_f0"), (3, "B03_f1")]


@pytest.mark.parametrize("channel", [1, "GFP"])
def test_a_field_reads_at_full_resolution_with_channel_and_pixel_size(plate, channel):
    path, _ = plate
    image = open_image(path / "B/3/1", channel=channel)
    np.testing.assert_array_equal(image.pixels, field_pixels("B/3", 1)[1])
    assert image.calibration == Calibration(pytest.approx(PIXEL_UM), None)
    assert image.notes == (
        "multiscale image: segmenting the full-resolution level (48 x 64 px) of 2 levels",
        "segmenting channel 1 'GFP' of 2; the others are ignored",
    )


def test_the_plate_root_reads_a_field_by_index_or_name(plate):
    path, _ = plate
    by_name = open_image(path, scene="B02_f1", channel="DAPI")
    by_index = open_image(path, scene=1, channel=0)
    np.testing.assert_array_equal(by_name.pixels, field_pixels("B/2", 1)[0])
    np.testing.assert_array_equal(by_index.pixels, by_name.pixels)
    assert by_name.notes[0] == "reading field B02_f1 (2 of 4)"


def test_a_plate_without_a_scene_lists_its_fields(plate):
    path, _ = plate
    with pytest.raises(ImageReadError) as error:
        open_image(path, channel=0)
    assert str(error.value) == (
        f"{path}: holds 4 fields (0='B02_f0', 1='B02_f1', 2='B03_f0', 3='B03_f1'): "
        "choose one by index or name"
    )


def test_a_field_without_a_channel_lists_the_channels(plate):
    path, _ = plate
    with pytest.raises(ImageReadError, match=r"has 2 channels \(0='DAPI', 1='GFP'\)"):
        open_image(path / "B/2/0")


def test_channel_names_of_a_field_are_its_omero_labels(plate, tmp_path):
    path, fmt = plate
    assert omezarr.channel_names(path / "B/2/0") == CHANNELS
    assert list_channels(path, scene="B03_f1") == CHANNELS
    assert list_channels(path / "B/3/1") == CHANNELS  # a field's folder has no suffix
    with pytest.raises(ImageReadError, match="holds 4 fields"):
        omezarr.channel_names(path)
    unlabelled = zarr.open_group(str(tmp_path / "c.zarr"), mode="w", zarr_format=fmt.zarr_format)
    write_image(field_pixels("B/2", 0), unlabelled, axes=["c", "y", "x"], scale_factors=(),
                fmt=fmt)
    assert omezarr.channel_names(tmp_path / "c.zarr") == ["", ""]
    gray = omezarr.write_image(tmp_path / "gray.zarr", np.zeros((8, 8), np.uint8))
    assert omezarr.channel_names(gray) == []


@pytest.mark.parametrize(("segmented", "others"), [("DAPI", [("GFP", 1)]),
                                                     (1, [("DAPI", 0)])])
def test_all_channels_of_a_plate_field_but_the_segmented_one(plate, segmented, others):
    path, _ = plate
    config = load_config(
        {"input": "x", "channel": segmented, "measure": {"channels": "all"}},
        ROOT / "workflow" / "schemas" / "config.schema.yaml",
    )
    field = Image(str(path), scene=2, plate="plate", well="B03", field="0")
    (spec,) = measured_channels(field, config, reading(config))
    specs = intensities.expand_all(spec, config["channel"])
    assert [(item["name"], item["reading"]["channel"]) for item in specs] == others
    assert all(item["reading"]["scene"] == 2 for item in specs)
    ((_, channel),) = others
    np.testing.assert_array_equal(open_image(path, **specs[0]["reading"]).pixels,
                                  field_pixels("B/3", 0)[channel])


def test_decoded_size_is_the_full_resolution_level(plate):
    path, _ = plate
    assert decoded_megabytes(path / "B/2/0") == pytest.approx(np.prod(SHAPE) * 2 / 1e6)
    assert decoded_megabytes(path, scene="B03_f0") == pytest.approx(np.prod(SHAPE) * 2 / 1e6)


def test_a_volume_with_z_spacing_and_no_unit(tmp_path):
    fmt = FormatV04()
    volume = np.arange(3 * 8 * 10, dtype=np.uint8).reshape(3, 8, 10)
    group = zarr.open_group(str(tmp_path / "v.zarr"), mode="w", zarr_format=2)
    write_image(volume, group, axes=["z", "y", "x"], scale={"z": 2.0, "y": 0.5, "x": 0.5},
                axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"},
                scale_factors=(), fmt=fmt)
    image = open_image(tmp_path / "v.zarr", volume="3d")
    np.testing.assert_array_equal(image.pixels, volume)
    assert image.calibration == Calibration(pytest.approx(0.5), pytest.approx(2.0))
    plain = zarr.open_group(str(tmp_path / "plain.zarr"), mode="w", zarr_format=2)
    write_image(volume[0], plain, axes=["y", "x"], scale_factors=(), fmt=fmt)
    image = open_image(tmp_path / "plain.zarr")
    assert image.calibration.pixel_size_um is None
    assert image.notes == ("no length unit on axis x: pixel size unknown",)


def test_a_time_series_is_refused(tmp_path):
    group = zarr.open_group(str(tmp_path / "t.zarr"), mode="w", zarr_format=2)
    write_image(np.zeros((3, 8, 8), np.uint8), group, axes=["t", "y", "x"], scale_factors=(),
                fmt=FormatV04())
    with pytest.raises(ImageReadError, match="is a time series"):
        open_image(tmp_path / "t.zarr")


def test_a_folder_that_is_not_ome_zarr_is_refused_in_one_line(tmp_path):
    zarr.open_group(str(tmp_path / "empty.zarr"), mode="w", zarr_format=3)
    with pytest.raises(ImageReadError) as error:
        open_image(tmp_path / "empty.zarr")
    assert str(error.value) == (
        f"{tmp_path / 'empty.zarr'}: is not an OME-Zarr image, well or plate (no NGFF metadata)"
    )
    with pytest.raises(ImageReadError, match="missing.zarr: file not found$"):
        open_image(tmp_path / "missing.zarr")


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------


def nuclei():
    labels = np.zeros(SHAPE[1:], np.uint16)
    labels[5:20, 5:20] = 1
    labels[25:45, 30:60] = 2
    return labels


def test_labels_are_written_beside_the_image_and_read_by_ome_zarr(plate):
    path, fmt = plate
    field = path / "B/2/1"
    written = omezarr.write_labels(field, "nuclei", nuclei(), PIXEL_UM)
    assert written == field / "labels" / "nuclei"
    nodes = list(Reader(parse_url(str(field / "labels" / "nuclei"), fmt=fmt))())
    (label,) = [node for node in nodes if node.load(Label)]
    assert label.load(Multiscales)
    others = [str(node.zarr).split(" [")[0] for node in nodes if not node.load(Label)]
    assert str(field) in others  # the image, found from the labels' "source"
    from_image = {str(node.zarr).split(" [")[0]: node
                  for node in Reader(parse_url(str(field), fmt=fmt))()}
    assert from_image[str(written)].load(Label)  # napari's way: image first, then labels/
    np.testing.assert_array_equal(np.asarray(label.data[0]), nuclei())
    assert len(label.data) == 2  # one level per image level
    np.testing.assert_array_equal(np.asarray(label.data[1]), nuclei()[::2, ::2])
    assert label.metadata["name"] == "nuclei"
    group = list(Reader(parse_url(str(field / "labels"), fmt=fmt))())[0]
    assert group.load(Labels)
    scale = omezarr.ome_attributes(zarr.open_group(str(written), mode="r"))
    level0 = scale["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]
    assert level0 == {"type": "scale", "scale": [PIXEL_UM, PIXEL_UM]}
    assert scale["image-label"]["source"] == {"image": "../../"}


def test_labels_keep_the_images_ngff_version_and_layout(plate):
    path, fmt = plate
    field = path / "B/3/0"
    omezarr.write_labels(field, "nuclei", nuclei())
    omezarr.write_labels(field, "cells", nuclei() * 2)
    labels_group = zarr.open_group(str(field / "labels"), mode="r")
    assert omezarr.ome_attributes(labels_group)["labels"] == ["nuclei", "cells"]
    if fmt.version == "0.5":
        meta = json.loads((field / "labels" / "nuclei" / "zarr.json").read_text())
        assert meta["attributes"]["ome"]["version"] == "0.5"
    else:
        meta = json.loads((field / "labels" / "nuclei" / ".zattrs").read_text())
        assert meta["image-label"]["version"] == "0.4"
    assert not [p for p in (field / "labels").iterdir() if p.name.startswith(".") and
                p.name.endswith(".part")]


def test_labels_are_replaced_whole_and_refused_at_the_wrong_shape(plate):
    path, _ = plate
    field = path / "B/2/0"
    omezarr.write_labels(field, "nuclei", nuclei())
    omezarr.write_labels(field, "nuclei", np.zeros(SHAPE[1:], np.uint32))
    back = zarr.open_group(str(field / "labels" / "nuclei"), mode="r")
    assert omezarr.ome_attributes(zarr.open_group(str(field / "labels"), mode="r"))[
        "labels"] == ["nuclei"]
    path0 = omezarr.ome_attributes(back)["multiscales"][0]["datasets"][0]["path"]
    assert back[path0][:].max() == 0
    with pytest.raises(ValueError, match=r"labels of shape \(10, 10\) for an image of y/x shape"):
        omezarr.write_labels(field, "nuclei", np.zeros((10, 10), np.uint16))
    with pytest.raises(ValueError, match="must be integers"):
        omezarr.write_labels(field, "nuclei", np.zeros(SHAPE[1:], np.float32))


def test_a_written_image_is_readable_by_others_and_replaces_the_last_one(tmp_path):
    import os
    import stat

    from scripts.imaging import FOLDER_MODE

    path = tmp_path / "a.zarr"
    omezarr.write_image(path, np.zeros((4, 5), np.uint8))
    omezarr.write_image(path, np.ones((2, 3), np.uint8), pixel_size_um=0.5)
    assert stat.S_IMODE(os.stat(path).st_mode) == FOLDER_MODE
    assert open_image(path).pixels.shape == (2, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["a.zarr"]  # nothing left beside it
    scale = zarr.open_group(str(path), mode="r").attrs["multiscales"][0]["datasets"][0]
    assert scale["coordinateTransformations"][0]["scale"] == [0.5, 0.5]


def test_an_unknown_z_spacing_is_not_written_as_the_pixel_size(tmp_path):
    path = omezarr.write_image(tmp_path / "v.zarr", np.zeros((3, 4, 5), np.uint8), pixel_size_um=0.5)
    multiscale = zarr.open_group(str(path), mode="r").attrs["multiscales"][0]
    assert multiscale["axes"][0] == {"name": "z", "type": "space"}
    assert multiscale["datasets"][0]["coordinateTransformations"][0]["scale"] == [1.0, 0.5, 0.5]
