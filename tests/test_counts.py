"""scripts.tables.counts: results/counts.csv, one sorted row per image, reproducible bytes."""

from __future__ import annotations

import csv
import io

import pytest

from scripts.tables.counts import COLUMNS, count_row, counts_table


def stats(image, objects=4, threshold=21.0, **changes):
    """One image's statistics as the label step writes them (label/<id>.json)."""
    record = {
        "image": image,
        "source": f"example/images/{image}.tif",
        "threshold": threshold,
        "threshold_method": "otsu",
        "shape": [342, 382],
        "dtype": "uint8",
        "pixel_size_um": 0.65,
        "objects": objects,
        "foreground_fraction": 0.1234567,
    }
    record.update(changes)
    return record


def test_exact_csv_text_for_a_small_input():
    table = counts_table(
        [
            stats("nuclei_16bit", objects=7, threshold=1351.0, shape=[256, 256],
                  dtype="uint16", pixel_size_um=0.325, foreground_fraction=0.2,
                  source="example/images/nuclei_16bit.tif"),
            stats("four_cells"),
            stats("blank", objects=0, threshold=None, pixel_size_um=None,
                  foreground_fraction=0.0, shape=[10, 20],
                  threshold_note="constant image: no threshold, no objects"),
            stats("stack", objects=3, shape=[5, 30, 40], z_spacing_um=1.5),
        ]
    )
    assert table == (
        "image,source,objects,threshold,threshold_method,foreground_fraction,"
        "depth,height,width,dtype,pixel_size_um,z_spacing_um,diameter_px,note\n"
        "blank,example/images/blank.tif,0,,otsu,0.000000,,10,20,uint8,,,,"
        '"constant image: no threshold, no objects"\n'
        "four_cells,example/images/four_cells.tif,4,21.0,otsu,0.123457,,342,382,uint8,0.65,,,\n"
        "nuclei_16bit,example/images/nuclei_16bit.tif,7,1351.0,otsu,0.200000,,256,256,"
        "uint16,0.325,,,\n"
        "stack,example/images/stack.tif,3,21.0,otsu,0.123457,5,30,40,uint8,0.65,1.5,,\n"
    )


def test_header_only_for_no_images():
    assert counts_table([]) == ",".join(COLUMNS) + "\n"


def test_rows_are_sorted_by_image_id_whatever_the_input_order():
    names = ["b", "a10", "a2", "A", "Zeta", "ü", "plate 1.well"]  # the order of discovery
    tables = {counts_table(stats(name) for name in order)
              for order in (names, sorted(names), sorted(names, reverse=True))}
    assert len(tables) == 1
    rows = list(csv.DictReader(io.StringIO(tables.pop())))
    assert [row["image"] for row in rows] == ["A", "Zeta", "a10", "a2", "b", "plate 1.well", "ü"]


def test_same_input_gives_the_same_bytes_twice():
    records = [stats("x", threshold=12.698440551757812, foreground_fraction=1 / 3),
               stats("y", objects=0)]
    first = counts_table(records).encode("utf-8")
    second = counts_table([dict(r) for r in reversed(records)]).encode("utf-8")
    assert first == second


def test_reads_back_as_the_same_values():
    record = stats("x", threshold=12.698440551757812, pixel_size_um=0.1 + 0.2,
                   foreground_fraction=2 / 3, shape=[5, 7])
    (row,) = csv.DictReader(io.StringIO(counts_table([record])))
    assert list(row) == list(COLUMNS)
    assert float(row["threshold"]) == 12.698440551757812  # shortest exact repr
    assert float(row["pixel_size_um"]) == 0.1 + 0.2
    assert row["foreground_fraction"] == "0.666667"
    assert (row["height"], row["width"]) == ("5", "7")
    assert row["objects"] == "4"


def test_note_for_a_constant_image():
    note = "constant image: no threshold, no objects"
    row = count_row(stats("c", objects=0, threshold=None, threshold_note=note))
    assert row["note"] == note
    assert row["threshold"] == ""
    assert row["objects"] == "0"


def test_note_for_zero_objects():
    row = count_row(stats("z", objects=0, threshold=200.0))
    assert row["note"] == "no objects found"
    assert row["threshold"] == "200.0"


def test_no_note_when_objects_are_found():
    assert count_row(stats("n", objects=1))["note"] == ""


def test_integer_threshold_and_pixel_size_are_written_as_floats():
    row = count_row(stats("i", threshold=27, pixel_size_um=1))
    assert row["threshold"] == "27.0"
    assert row["pixel_size_um"] == "1.0"


def test_count_row_values_are_strings_in_column_order():
    row = count_row(stats("s"))
    assert tuple(row) == COLUMNS
    assert all(isinstance(value, str) for value in row.values())


def test_commas_and_quotes_in_names_are_quoted():
    (row,) = csv.DictReader(io.StringIO(counts_table([stats('a,"b"', source='d/a,"b".tif')])))
    assert row["image"] == 'a,"b"'
    assert row["source"] == 'd/a,"b".tif'


@pytest.mark.parametrize("missing", ["objects", "threshold", "shape", "foreground_fraction"])
def test_missing_statistic_raises(missing):
    record = stats("m")
    del record[missing]
    with pytest.raises(KeyError, match=missing):
        count_row(record)
