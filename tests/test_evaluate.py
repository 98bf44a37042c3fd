"""Tests of scripts/tables/evaluate.py and of the accuracy benchmark (benchmarks/accuracy.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scripts.tables import evaluate as ev

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "truth.csv").is_file(), reason="../shared/data not available"
)


def boxes(shape, specs):
    """Label image from [(label, r0, r1, c0, c1), ...]."""
    labels = np.zeros(shape, dtype=np.int32)
    for lab, r0, r1, c0, c1 in specs:
        labels[r0:r1, c0:c1] = lab
    return labels


# -------------------------------------------------------------- count error


def test_count_error():
    assert ev.count_error(100, 90) == pytest.approx(0.1)
    assert ev.count_error(100, 110) == pytest.approx(0.1)
    assert ev.count_error(0, 0) == 0.0
    assert ev.count_error(0, 3) == math.inf
    with pytest.raises(ValueError, match="true_count"):
        ev.count_error(-1, 3)
    with pytest.raises(ValueError, match="found_count"):
        ev.count_error(3, 2.5)


# -------------------------------------------------------------- matching


def test_identical_labels_match_perfectly_whatever_the_numbering():
    true = boxes((30, 30), [(1, 0, 10, 0, 10), (2, 15, 25, 15, 25)])
    pred = np.where(true == 1, 700, np.where(true == 2, 5, 0))
    m = ev.match_instances(true, pred)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 0, 0)
    assert m["precision"] == m["recall"] == m["f1"] == 1.0
    assert m["mean_matched_iou"] == 1.0


def test_known_overlaps_give_exact_precision_recall():
    true = boxes((40, 40), [(1, 0, 10, 0, 10), (2, 20, 30, 20, 30), (3, 0, 10, 30, 40)])
    pred = boxes(
        (40, 40),
        [
            (1, 0, 10, 2, 12),  # true 1 shifted 2 px: IoU 80 / 120 = 0.667 -> match
            (
                2,
                20,
                30,
                25,
                35,
            ),  # true 2 shifted 5 px: IoU 50 / 150 = 0.333 -> no match
            (3, 32, 38, 32, 38),  # nothing there
        ],
    )
    m = ev.match_instances(true, pred)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 2, 2)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(1 / 3)
    assert m["mean_matched_iou"] == pytest.approx(80 / 120)
    assert ev.match_instances(true, pred, iou_threshold=0.3)["tp"] == 2


def test_iou_exactly_at_threshold_counts_and_matching_is_one_to_one():
    # one prediction covering two true objects: IoU 0.5 with each
    true = boxes((10, 20), [(1, 0, 10, 0, 10), (2, 0, 10, 10, 20)])
    pred = boxes((10, 20), [(1, 0, 10, 0, 20)])
    m = ev.match_instances(true, pred)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 0, 1)
    assert m["mean_matched_iou"] == pytest.approx(0.5)


def test_iou_pairs_is_sparse_and_exact():
    true = boxes((10, 10), [(5, 0, 4, 0, 4)])
    pred = boxes((10, 10), [(2, 2, 6, 2, 6), (9, 8, 10, 8, 10)])
    p = ev.iou_pairs(true, pred)
    np.testing.assert_array_equal(p["true_ids"], [5])
    np.testing.assert_array_equal(p["pred_ids"], [2, 9])
    assert p["iou"].tolist() == [pytest.approx(4 / 28)]  # only the overlapping pair


def test_empty_images():
    empty = np.zeros((5, 5), dtype=np.int32)
    m = ev.match_instances(empty, empty)
    assert (m["tp"], m["fp"], m["fn"], m["f1"]) == (0, 0, 0, 1.0)
    assert math.isnan(m["mean_matched_iou"])
    one = boxes((5, 5), [(1, 0, 2, 0, 2)])
    assert ev.match_instances(one, empty)["recall"] == 0.0
    assert ev.match_instances(empty, one)["precision"] == 0.0


def test_3d_matching():
    true = np.zeros((4, 10, 10), dtype=np.uint16)
    true[1:3, 2:6, 2:6] = 1
    pred = np.zeros_like(true)
    pred[1:3, 2:6, 3:7] = 4  # IoU 24 / 40
    m = ev.match_instances(true, pred)
    assert m["tp"] == 1 and m["mean_matched_iou"] == pytest.approx(0.6)


def test_matching_validation():
    a = np.zeros((4, 4), dtype=np.int32)
    with pytest.raises(ValueError, match="shape"):
        ev.match_instances(a, np.zeros((4, 5), dtype=np.int32))
    with pytest.raises(ValueError, match="boolean mask"):
        ev.match_instances(a.astype(bool), a)
    with pytest.raises(ValueError, match="iou_threshold"):
        ev.match_instances(a, a, iou_threshold=0)


# -------------------------------------------------------------- per image and summary


def test_evaluate_image_with_labels_and_with_count_only():
    true = boxes((20, 20), [(1, 0, 5, 0, 5), (2, 10, 15, 10, 15)])
    pred = boxes((20, 20), [(3, 0, 5, 0, 5)])
    r = ev.evaluate_image(pred, true_labels=true)
    assert list(r) == list(ev.METRICS)
    assert (r["true_count"], r["found_count"], r["count_error"]) == (2, 1, 0.5)
    assert (r["precision"], r["recall"]) == (1.0, 0.5)
    r = ev.evaluate_image(pred, true_count=4)
    assert r["count_error"] == 0.75 and math.isnan(r["f1"])
    r = ev.evaluate_image(pred, true_labels=true, true_count=5)  # count truth overrides
    assert r["true_count"] == 5 and r["count_error"] == 0.8 and r["recall"] == 0.5
    with pytest.raises(ValueError, match="true_labels or true_count"):
        ev.evaluate_image(pred)


def test_summarize():
    a = {
        **dict.fromkeys(ev.METRICS, 0),
        "true_count": 10,
        "found_count": 8,
        "count_error": 0.2,
        "tp": 8,
        "fp": 0,
        "fn": 2,
        "precision": 1.0,
        "recall": 0.8,
        "f1": 8 / 9,
        "mean_matched_iou": 0.9,
    }
    b = {
        **dict.fromkeys(ev.METRICS, math.nan),
        "true_count": 30,
        "found_count": 33,
        "count_error": 0.1,
    }
    s = ev.summarize([a, b])
    assert s["n_images"] == 2 and s["n_matched_images"] == 1
    assert s["mean_count_error"] == pytest.approx(0.15)
    assert s["pooled_count_error"] == pytest.approx(5 / 40)
    assert s["mean_f1"] == pytest.approx(8 / 9)
    assert s["pooled_recall"] == pytest.approx(0.8)
    assert s["mean_matched_iou"] == pytest.approx(0.9)
    assert math.isnan(ev.summarize([])["mean_count_error"])


# -------------------------------------------------------------- benchmark


def test_benchmark_exits_cleanly_without_data(tmp_path, capsys):
    from benchmarks import accuracy

    assert accuracy.main(["--data", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out


def test_benchmark_presets_are_the_workflow_presets():
    from benchmarks import accuracy
    from scripts.config.presets import PRESETS

    nuclei = accuracy.preset_config("nuclei")
    assert accuracy.PRESET_NAMES == tuple(PRESETS)
    assert nuclei["threshold"]["method"] == "li"
    assert nuclei["morphology"]["steps"] == []
    assert nuclei["label"]["declump"]["enabled"] is True
    tutorial = accuracy.preset_config("tutorial")
    assert tutorial["threshold"]["method"] == "otsu"
    assert [s["iterations"] for s in tutorial["morphology"]["steps"]] == [2, 14, 4]


def test_segment_on_synthetic_touching_nuclei():
    from benchmarks import accuracy

    rng = np.random.default_rng(3)
    yy, xx = np.indices((120, 160))
    image = np.full((120, 160), 100.0)
    centres = [(40, 40), (40, 62), (90, 120), (90, 30)]  # the first two touch
    for cy, cx in centres:
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= 12**2] = 500
    image = (image + rng.normal(0, 10, image.shape)).astype(np.uint16)
    labels, d = accuracy.segment(image, accuracy.preset_config("nuclei"))
    assert d == pytest.approx(24, abs=2)
    assert labels.max() == 4
    tutorial, d = accuracy.segment(image, accuracy.preset_config("tutorial"))
    assert d is None
    assert tutorial.max() == 3  # the tutorial merges the touching pair


def test_annotation_text_becomes_a_label_image():
    from benchmarks.validation_data import parse_annotation_text

    labels = parse_annotation_text(b"0 0 1 1 \n0 2 2 1 \n\n")
    assert labels.tolist() == [[0, 0, 1, 1], [0, 2, 2, 1]]
    with pytest.raises(ValueError, match="rows of different lengths"):
        parse_annotation_text(b"0 0 1\n0 2\n")


def fresh_item_source(grey):
    """A fake fresh set: one item named like a recorded one, with `grey` as its pixels."""
    labels = np.zeros((4, 5), dtype=np.uint16)
    labels[1:3, 1:3] = 1

    def items(mirror):
        yield "nucleussegdata_1", grey, labels

    return items


def test_fresh_sets_are_skipped_without_their_snapshot(tmp_path):
    from benchmarks import validation_data

    sources = {"NucleusSegData": (tmp_path / "absent", "NUCLEUSSEGDATA_MIRROR", fresh_item_source(None))}
    folder, skipped = validation_data.fresh_folder(tmp_path / "out", sources)
    assert folder is None
    assert skipped == [
        f"NucleusSegData skipped: no snapshot of its repository at {tmp_path / 'absent'} "
        "(set NUCLEUSSEGDATA_MIRROR)"
    ]
    assert not (tmp_path / "out" / "truth.csv").exists()


def test_fresh_set_pixels_other_than_recorded_stop_the_extraction(tmp_path):
    from benchmarks import validation_data

    grey = np.zeros((4, 5), dtype=np.uint8)
    sources = {"NucleusSegData": (tmp_path, "NUCLEUSSEGDATA_MIRROR", fresh_item_source(grey))}
    with pytest.raises(ValueError, match="NucleusSegData nucleussegdata_1: pixels differ"):
        validation_data.fresh_folder(tmp_path / "out", sources)
    assert not (tmp_path / "out" / "truth.csv").exists()


def test_fresh_sets_are_extracted_as_recorded(tmp_path):
    """With the snapshots present (the fetch tool's folders, or the
    environment variables), every image and mask matches its recorded hash
    and truth.csv lists 11 + 37 images with the published nucleus counts."""
    from benchmarks import accuracy, validation_data

    present = {k: v for k, v in validation_data.FRESH_SOURCES.items() if v[0].is_dir()}
    if len(present) < 2:
        pytest.skip("needs the snapshots of the two fresh validation sets")
    folder, skipped = validation_data.fresh_folder(tmp_path / "out")
    assert skipped == []
    rows = accuracy.load_rows(folder)
    by_set = {}
    for row in rows:
        by_set.setdefault(accuracy.dataset_name(row), []).append(int(row["true_count"]))
    assert {name: len(counts) for name, counts in by_set.items()} == {"Pecot2022": 11, "NucleusSegData": 37}
    assert (min(by_set["Pecot2022"]), max(by_set["Pecot2022"])) == (198, 581)
    assert (min(by_set["NucleusSegData"]), max(by_set["NucleusSegData"])) == (7, 247)


# -------------------------------------------------------------- rule evaluate


def test_truth_counts_match_ids_or_file_names_and_ignore_other_images():
    rows = [
        {"image": "a", "true_count": "3"},
        {"image": "data/images/b.TIF", "true_count": "5", "dataset": "B"},
        {"image": "other/c.png", "true_count": "1"},
        {"image": "img.v2", "true_count": "0"},
    ]
    counts = ev.truth_counts(rows, ["a", "b", "img.v2"])
    assert counts == {"a": (3, ""), "b": (5, "B"), "img.v2": (0, "")}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"image": "a"}], "columns image and true_count"),
        ([{"image": "a", "true_count": "many"}], "line 2: true_count 'many'"),
        ([{"image": "a", "true_count": "-1"}], "is not an integer >= 0"),
    ],
)
def test_truth_counts_refuse_bad_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        ev.truth_counts(rows, ["a"])


def test_count_record_has_nan_matching_metrics():
    record = ev.count_record(10, 9)
    assert record["count_error"] == pytest.approx(0.1)
    assert math.isnan(record["f1"]) and math.isnan(record["tp"])


def test_evaluation_tables_and_summary_rows():
    records = [
        {"image": "a", "dataset": "X", **ev.count_record(10, 9)},
        {
            "image": "b",
            "dataset": "Y",
            **ev.evaluate_image(
                boxes((10, 10), [(1, 0, 4, 0, 4)]),
                true_labels=boxes((10, 10), [(7, 0, 4, 0, 4)]),
            ),
        },
    ]
    text = ev.table_text(records, ev.EVALUATION_COLUMNS)
    lines = text.splitlines()
    assert lines[0] == ",".join(ev.EVALUATION_COLUMNS)
    assert lines[1] == "a,X,10,9,0.1,,,,,,,"
    assert lines[2] == "b,Y,1,1,0.0,1,0,0,1.0,1.0,1.0,1.0"
    summary = ev.summary_rows(records)
    assert [row["dataset"] for row in summary] == ["all", "X", "Y"]
    assert summary[0]["n_images"] == 2 and summary[0]["n_matched_images"] == 1
    assert ev.table_text(summary, ev.SUMMARY_COLUMNS).startswith("dataset,n_images,")


@needs_shared
def test_nuclei_preset_meets_the_goals_on_shared_data():
    from benchmarks import accuracy

    configs = {name: accuracy.preset_config(name) for name in ("tutorial", "nuclei")}
    results = accuracy.benchmark([("development", SHARED, "")], configs)
    assert accuracy.goals_met(results, "nuclei") == (True, [])
    met, unmet = accuracy.goals_met(results, "tutorial")
    assert not met and "BBBC039: count error 58.2%" in unmet
    assert results["nuclei"]["BBBC039"]["set"] == "development"
    tutorial = results["tutorial"]["BBBC039"]["summary"]
    assert tutorial["mean_count_error"] == pytest.approx(
        0.58, abs=0.01
    )  # the number


def test_a_bad_truth_csv_is_named_in_the_error(tmp_path):
    from scripts.runtime.jobs import StepError
    from scripts.runtime.workers import Arguments

    stats = tmp_path / "a.json"
    stats.write_text('{"image": "a", "objects": 3}')
    truth = tmp_path / "truth.csv"
    truth.write_text("image,true_count\na,many\n")
    input = Arguments([], {"stats": [str(stats)], "counts": [str(truth)], "truth_labels": [], "labels": []})
    output = Arguments([str(tmp_path / "evaluation.csv"), str(tmp_path / "summary.csv")])
    params = Arguments([], {"evaluation": {"labels": None, "iou_threshold": 0.5}, "max_pixels": 10**6})
    with pytest.raises(StepError, match=rf"{truth}: line 2: true_count 'many'"):
        ev.run(input, output, params, Arguments([str(tmp_path / "evaluate.log")]))
    assert not (tmp_path / "evaluation.csv").exists()
