"""scripts.config.screens and the screen part of discovery: files of one field
grouped into one image, wells and fields from the file names."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.config import screens
from scripts.config.discovery import DiscoveryError, Image, discover_images


def touch(folder, *names):
    for name in names:
        (Path(folder) / name).write_bytes(b"")
    return [str(Path(folder) / name) for name in names]


@pytest.mark.parametrize(
    ("convention", "name", "expected"),
    [
        ("imagexpress", "IXMtest_B02_s9_w124B5080D-EBE1-47D2-B147-C0F342039EDF.tif",
         {"plate": "IXMtest", "well": "B02", "field": "9", "plane": "", "channel": "1"}),
        ("cellprofiler", "AS_09125_050116030001_D03f00d0.tif",
         {"plate": "AS_09125_050116030001", "well": "D03", "field": "00", "plane": "", "channel": "0"}),
        ("operetta", "r02c11f03p01-ch2sk1fk1fl1.tiff",
         {"plate": "", "well": "B11", "field": "03", "plane": "01", "channel": "2"}),
    ],
)
def test_the_conventions_read_real_file_names(convention, name, expected):
    pattern = screens.compile_pattern(convention)
    assert screens.file_fields(name, pattern) == expected


def test_a_template_reads_names_with_its_placeholders():
    pattern = screens.compile_pattern("{plate}_{well}_s{field}_w{channel}")
    assert screens.file_fields("plate 1_c7_s2_wDAPI.tif", pattern) == {
        "plate": "plate 1", "well": "C07", "field": "2", "plane": "", "channel": "DAPI",
    }
    assert screens.file_fields("notes.tif", pattern) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{well}_{site}", "unknown placeholder {site}"),
        ("{well}_{field}", "must name the channel and the well"),
        (r"(?P<channel>\d)", "must name the channel and the well"),
        ("(?P<well>[", "not a valid pattern"),
    ],
)
def test_patterns_that_cannot_group_are_refused(spec, message):
    with pytest.raises(screens.PatternError, match=message):
        screens.compile_pattern(spec)


@pytest.mark.parametrize(
    ("row", "column", "well"), [("B", "2", "B02"), ("2", "2", "B02"), ("27", "48", "AA48"), ("p", "24", "P24")]
)
def test_well_names(row, column, well):
    assert screens.well_name(row, column) == well
    assert screens.well_position(well) == (
        int(row) if row.isdigit() else screens.well_position(f"{row}1")[0],
        int(column),
    )


def test_fields_group_every_channel_file(tmp_path):
    paths = touch(tmp_path, "P_A01f00d0.tif", "P_A01f00d1.tif", "P_A01f01d0.tif", "P_A01f01d1.tif", "P_B02f00d0.tif")
    fields = screens.group_fields(paths, "cellprofiler", "0", "here")
    assert [key for key, _ in fields] == ["A01_f00", "A01_f01", "B02_f00"]
    first = dict(fields)["A01_f00"]
    assert first["channels"] == {"0": paths[0], "1": paths[1]}
    assert (first["plate"], first["well"], first["field"]) == ("P", "A01", "00")


def test_two_plates_put_the_plate_in_the_id(tmp_path):
    paths = touch(tmp_path, "P1_A01f00d0.tif", "P2_A01f00d0.tif")
    assert [key for key, _ in screens.group_fields(paths, "cellprofiler", "0", "here")] == [
        "P1_A01_f00", "P2_A01_f00",
    ]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["P_A01f00d0.tif", "thumbnail.tif"], r"1 of 2 files do not match .* \(e.g. thumbnail.tif\)"),
        (["P_A01f00d1.tif"], "field A01_f00 has no file of channel '0'"),
    ],
)
def test_files_that_cannot_be_grouped_are_named(tmp_path, names, message):
    with pytest.raises(screens.PatternError, match=message):
        screens.group_fields(touch(tmp_path, *names), "cellprofiler", "0", "here")


def test_two_files_of_one_field_and_channel_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = touch(tmp_path / "a", "P_A01f00d0.tif") + touch(tmp_path / "b", "P_A01f00d0.tif")
    with pytest.raises(screens.PatternError, match="two files of field A01_f00, channel 0"):
        screens.group_fields(paths, "cellprofiler", "0", "here")


def screen_config(folder, channel, **screen):
    return {"input": str(folder), "extensions": [".tif"], "samples": None, "channel": channel, "screen": screen}


def test_discovery_makes_one_image_per_field_segmenting_the_chosen_channel(tmp_path):
    paths = touch(tmp_path, "P_A01f00d0.tif", "P_A01f00d1.tif", "P_A01f00d2.tif")
    images = discover_images(screen_config(tmp_path, 0, file_pattern="cellprofiler"))
    assert list(images) == ["A01_f00"]
    image = images["A01_f00"]
    assert image.path == paths[0]
    assert image.channels == (("0", paths[0]), ("1", paths[1]), ("2", paths[2]))
    assert (image.plate, image.well, image.field) == ("P", "A01", "00")
    # The channel to segment may be named by its name in the tables.
    named = discover_images(
        screen_config(tmp_path, "PH3", file_pattern="cellprofiler", channel_names={"0": "DNA", "1": "PH3"})
    )
    assert named["A01_f00"].path == paths[1]


def test_discovery_errors_of_a_screen_are_discovery_errors(tmp_path):
    touch(tmp_path, "P_A01f00d1.tif")
    with pytest.raises(DiscoveryError, match="has no file of channel '0'"):
        discover_images(screen_config(tmp_path, 0, file_pattern="cellprofiler"))


def test_an_image_reads_its_scene_and_a_fields_file_has_one_channel():
    reading = {"channel": "DAPI", "volume": "refuse", "max_pixels": 10}
    assert Image("a.tif").reading(reading) == reading
    assert Image("a.czi", scene=2).reading(reading) == {**reading, "scene": 2}
    field = Image("f_d0.tif", channels=(("0", "f_d0.tif"),))
    assert field.reading(reading) == {**reading, "channel": None}


@pytest.mark.parametrize(
    "image",
    [
        Image("a.tif"),
        Image("a.czi", scene=3),
        Image("P_A01f00d0.tif", channels=(("0", "P_A01f00d0.tif"), ("1", "P_A01f00d1.tif")),
              plate="P", well="A01", field="00"),
    ],
)
def test_an_image_comes_back_from_its_record(image):
    record = image.record()
    assert Image.from_record(record) == image
    if image == Image("a.tif"):
        assert record == "a.tif"  # a plain file is recorded as its path


def test_a_sample_sheet_may_say_where_each_image_was_taken(tmp_path):
    touch(tmp_path, "a.tif", "b.tif")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("id\tpath\twell\tfield\nx\ta.tif\tB03\t1\ny\tb.tif\tB03\t2\n")
    images = discover_images({"samples": str(sheet)})
    assert (images["x"].well, images["x"].field, images["y"].field) == ("B03", "1", "2")


@pytest.mark.parametrize(
    ("wells", "message"),
    [
        (["B03", "A-01"], r"line 3: well 'A-01' is not a row letter and a column number"),
        (["B03", ""], "some rows have a well and others none"),
    ],
)
def test_a_sample_sheets_wells_are_checked_naming_the_line(tmp_path, wells, message):
    touch(tmp_path, "a.tif", "b.tif")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(f"id\tpath\twell\nx\ta.tif\t{wells[0]}\ny\tb.tif\t{wells[1]}\n")
    with pytest.raises(DiscoveryError, match=rf"sample sheet {sheet}, {message}" if "line" in message else message):
        discover_images({"samples": str(sheet)})


def test_a_sample_sheets_wells_are_written_as_plates_print_them(tmp_path):
    touch(tmp_path, "a.tif")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("id\tpath\twell\nx\ta.tif\tb3\n")
    assert discover_images({"samples": str(sheet)})["x"].well == "B03"


def test_a_custom_pattern_whose_well_is_no_well_names_the_file(tmp_path):
    touch(tmp_path, "P_A001_d0.tif")
    pattern = r"(?P<plate>[^_]+)_(?P<well>[A-Z]\d+)_d(?P<channel>\d)"
    with pytest.raises(DiscoveryError, match=r"P_A001_d0.tif: screen.file_pattern reads the well 'A001'"):
        discover_images(screen_config(tmp_path, 0, file_pattern=pattern))
