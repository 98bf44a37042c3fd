"""The check_images step (on_unreadable: skip) finds exactly the unreadable images."""

from __future__ import annotations

from types import SimpleNamespace

from scripts.tables import check_images
from tests import bad_inputs

READING = {"channel": None, "volume": "refuse", "max_pixels": 1_600_000_000}


def test_every_unreadable_case_is_found_with_its_reason_and_nothing_else(tmp_path):
    images = {k: str(v) for k, v in bad_inputs.write_battery(tmp_path).items()}
    readings = {image_id: READING for image_id in images}
    unreadable = check_images.find_unreadable(images, readings, threads=3)
    assert list(unreadable) == sorted(bad_inputs.UNREADABLE)
    for image_id, (_, problem) in bad_inputs.UNREADABLE.items():
        assert problem in unreadable[image_id]


def test_the_reading_settings_decide(tmp_path):
    path = tmp_path / "stack.tif"
    bad_inputs.make_stack(path)
    images = {"stack": str(path)}
    assert list(check_images.find_unreadable(images, {"stack": READING})) == ["stack"]
    projected = {**READING, "volume": "max_projection"}
    assert check_images.find_unreadable(images, {"stack": projected}) == {}


def test_table_is_sorted_and_quotes_reasons_with_commas(tmp_path):
    images = {"b": "in/b.tif", "a": "in/a, 1.tif", "c": "in/c.tif"}
    text = check_images.skipped_table(images, {"c": "x", "a": "declares (5, 5) pixels"})
    assert text == (
        "image,source,reason\n"
        'a,"in/a, 1.tif","declares (5, 5) pixels"\n'
        "c,in/c.tif,x\n"
    )
    (tmp_path / "skipped.csv").write_text(text)
    assert check_images.read_skipped(tmp_path / "skipped.csv") == {
        "a": "declares (5, 5) pixels",
        "c": "x",
    }


def test_all_readable_gives_the_header_only(tmp_path):
    assert check_images.skipped_table({"a": "a.tif"}, {}) == "image,source,reason\n"


def test_run_writes_the_table_and_a_log(tmp_path):
    good = bad_inputs.write_good(tmp_path, "good.tif")
    empty = tmp_path / "empty.tif"
    bad_inputs.make_zero_bytes(empty)
    output = SimpleNamespace(skipped=str(tmp_path / "out" / "skipped.csv"))
    check_images.run(
        SimpleNamespace(images=[str(empty), str(good)]),
        output,
        SimpleNamespace(ids=["empty", "good"], readings={"empty": READING, "good": READING}),
        [str(tmp_path / "check.log")],
        threads=2,
    )
    assert check_images.read_skipped(output.skipped) == {
        "empty": "empty file (0 bytes)"
    }
    log = (tmp_path / "check.log").read_text()
    assert f"skipped {empty}: empty file (0 bytes)" in log
    assert "1 readable, 1 skipped" in log
