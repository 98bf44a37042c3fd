"""Tests of scripts/algorithms/measure.py: per-object measurements."""

from __future__ import annotations

import numpy as np
import pytest

from scripts.algorithms import measure as me


def two_objects():
    labels = np.zeros((40, 50), dtype=np.uint16)
    labels[5:15, 10:30] = 4  # 10 x 20 rectangle, 200 px
    yy, xx = np.indices(labels.shape)
    labels[(yy - 28) ** 2 + (xx - 12) ** 2 <= 36] = 9  # disc r=6, 113 px
    intensity = np.zeros(labels.shape, dtype=np.uint16)
    intensity[labels == 4] = 100
    intensity[10, 20] = 250
    intensity[labels == 9] = 40
    return labels, intensity


def test_columns_and_basic_values():
    labels, intensity = two_objects()
    m = me.measure_objects(labels, intensity)
    assert list(m) == me.column_names(2, intensity=True, physical=False)
    np.testing.assert_array_equal(m["label"], [4, 9])
    np.testing.assert_array_equal(m["area_px"], [200, 113])
    assert m["centroid_y_px"][0] == pytest.approx(9.5) and m["centroid_x_px"][
        0
    ] == pytest.approx(19.5)
    assert m["centroid_y_px"][1] == pytest.approx(28) and m["centroid_x_px"][
        1
    ] == pytest.approx(12)
    # bounding box: min inclusive, max exclusive
    assert (
        m["bbox_y_min"][0],
        m["bbox_x_min"][0],
        m["bbox_y_max"][0],
        m["bbox_x_max"][0],
    ) == (5, 10, 15, 30)
    np.testing.assert_allclose(
        m["equivalent_diameter_px"], 2 * np.sqrt(np.array([200, 113]) / np.pi)
    )
    assert all(len(v) == 2 for v in m.values())


def test_shape_measures():
    labels, intensity = two_objects()
    m = me.measure_objects(labels, intensity)
    # rectangle 20 x 10: second moments ~ a^2, b^2 -> e = sqrt(1 - (10/20)^2)
    assert m["eccentricity"][0] == pytest.approx(np.sqrt(1 - 0.25), abs=0.01)
    assert m["eccentricity"][1] < 0.1
    assert m["solidity"][0] == pytest.approx(1.0)
    lshape = np.zeros((20, 20), dtype=np.int32)
    lshape[2:18, 2:6] = 1
    lshape[14:18, 2:18] = 1
    assert (
        0.5 < me.measure_objects(lshape)["solidity"][0] < 0.7
    )  # 112 px in a ~178 px hull


def test_intensity_columns():
    labels, intensity = two_objects()
    m = me.measure_objects(labels, intensity)
    assert m["mean_intensity"][0] == pytest.approx((199 * 100 + 250) / 200)
    assert m["max_intensity"][0] == 250
    assert m["mean_intensity"][1] == pytest.approx(40)
    assert "mean_intensity" not in me.measure_objects(labels)


def test_physical_units():
    labels, intensity = two_objects()
    m = me.measure_objects(labels, intensity, pixel_size_um=0.5)
    assert list(m) == me.column_names(2, intensity=True, physical=True)
    np.testing.assert_allclose(m["area_um2"], [50.0, 28.25])
    np.testing.assert_allclose(m["centroid_x_um"], m["centroid_x_px"] * 0.5)
    np.testing.assert_allclose(
        m["equivalent_diameter_um"], m["equivalent_diameter_px"] * 0.5
    )
    aniso = me.measure_objects(labels, pixel_size_um=(1.0, 0.5))
    np.testing.assert_allclose(aniso["area_um2"], [100.0, 56.5])
    np.testing.assert_allclose(aniso["centroid_y_um"], aniso["centroid_y_px"])


def test_3d():
    labels = np.zeros((10, 20, 20), dtype=np.int32)
    labels[2:5, 3:8, 4:8] = 2  # 3 x 5 x 4 = 60 voxels
    m = me.measure_objects(labels, pixel_size_um=(2.0, 0.5, 0.5))
    assert list(m) == me.column_names(3, intensity=False, physical=True)
    assert m["area_px"][0] == 60
    assert m["volume_um3"][0] == pytest.approx(30.0)
    assert (
        m["centroid_z_px"][0],
        m["centroid_y_px"][0],
        m["centroid_x_px"][0],
    ) == pytest.approx((3, 5, 5.5))
    assert (m["bbox_z_min"][0], m["bbox_z_max"][0]) == (2, 5)
    assert np.isnan(m["eccentricity"][0])
    assert m["equivalent_diameter_um"][0] == pytest.approx(np.cbrt(6 * 30 / np.pi))


def test_empty_labels_give_empty_columns():
    m = me.measure_objects(
        np.zeros((5, 5), dtype=np.uint8), np.zeros((5, 5)), pixel_size_um=1.0
    )
    assert list(m) == me.column_names(2, intensity=True, physical=True)
    assert all(len(v) == 0 for v in m.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros((4, 4)),), "integer label image"),
        ((np.zeros((4, 4), dtype=bool),), "integer label image"),
        ((-np.ones((4, 4), dtype=int),), "non-negative"),
        ((np.zeros(4, dtype=int),), "2D"),
        ((np.zeros((4, 4), dtype=int), np.zeros((3, 3))), "intensity shape"),
        ((np.zeros((4, 4), dtype=int), None, 0), "pixel_size_um"),
        (
            (np.zeros((4, 4), dtype=int), None, (1, 1, 1)),
            "pixel_size_um needs 2 values",
        ),
    ],
)
def test_validation(args, message):
    with pytest.raises(ValueError, match=message):
        me.measure_objects(*args)
