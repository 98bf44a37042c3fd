"""scripts.tables.objects: the per-image object tables and the combined table."""

from __future__ import annotations

import numpy as np

from scripts.algorithms.measure import measure_objects
from scripts.tables.objects import combine_tables, objects_csv


def labels_with_two_objects():
    labels = np.zeros((6, 8), dtype=np.uint16)
    labels[1:3, 1:3] = 1
    labels[3:6, 4:8] = 2
    return labels


def test_one_row_per_object_with_the_image_id_first():
    labels = labels_with_two_objects()
    text = objects_csv("a b", measure_objects(labels, labels * 10, 0.5))
    lines = text.splitlines()
    assert lines[0].startswith("image,label,area_px,centroid_y_px,centroid_x_px,")
    assert lines[0].endswith(",area_um2,centroid_y_um,centroid_x_um,equivalent_diameter_um")
    assert lines[1].startswith("a b,1,4,1.5,1.5,1,1,3,3,")
    assert lines[2].startswith("a b,2,12,4.0,5.5,")
    assert len(lines) == 3


def test_no_objects_give_a_header_only_and_nan_an_empty_cell():
    empty = objects_csv("x", measure_objects(np.zeros((4, 4), dtype=np.uint16)))
    assert empty.count("\n") == 1 and empty.startswith("image,label,")
    volume = np.zeros((4, 5, 5), dtype=np.uint16)
    volume[1:3, 1:4, 1:3] = 1
    row = objects_csv("v", measure_objects(volume)).splitlines()[1].split(",")
    header = objects_csv("v", measure_objects(volume)).splitlines()[0].split(",")
    assert row[header.index("eccentricity")] == ""  # nan in 3D


def test_tables_with_the_same_columns_are_joined_as_they_are():
    labels = labels_with_two_objects()
    a = objects_csv("a", measure_objects(labels))
    b = objects_csv("b", measure_objects(labels[:3]))
    combined = combine_tables([a, b])
    assert combined == a + b.split("\n", 1)[1]
    assert combine_tables([]) == ""


def test_different_columns_are_united_with_empty_cells():
    labels = labels_with_two_objects()
    calibrated = objects_csv("a", measure_objects(labels, pixel_size_um=0.5))
    plain = objects_csv("b", measure_objects(labels))
    lines = combine_tables([plain, calibrated]).splitlines()
    assert lines[0] == calibrated.splitlines()[0]
    assert len(lines) == 5
    assert lines[1].endswith(",,,,")  # b has no um columns
    assert not lines[3].endswith(",")
