"""scripts.generate_examples: seeded synthetic images whose true count the tutorial finds."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scripts.generate_examples import (
    EXAMPLE_SPECS,
    Spec,
    benchmark_specs,
    main,
    place_centres,
    render,
    write_set,
    write_truth,
)
from scripts.imaging import read_image
from scripts.steps.label import label_objects
from scripts.steps.morphology import apply_sequence
from scripts.steps.threshold import apply_threshold, compute_threshold

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example"
SPECS = {spec.name: spec for spec in EXAMPLE_SPECS}


def tutorial_count(image):
    """Otsu, erosion x2 / dilation x14 / erosion x4, label: the tutorial's chain."""
    mask = apply_threshold(image, compute_threshold(image, "otsu"))
    _, count = label_objects(apply_sequence(mask))
    return count


def read_truth(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["image"]: int(row["true_count"]) for row in csv.DictReader(handle)}


def folder_bytes(folder):
    return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir())}


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path):
    main(["--out", str(tmp_path / "one" / "images"), "--seed", "3"])
    main(["--out", str(tmp_path / "two" / "images"), "--seed", "3"])
    one, two = folder_bytes(tmp_path / "one" / "images"), folder_bytes(tmp_path / "two" / "images")
    assert sorted(one) == ["four_cells.tif", "nuclei_16bit.tif", "nuclei_8bit.tif", "nuclei_png.png"]
    assert one == two
    assert (tmp_path / "one" / "truth.csv").read_bytes() == (tmp_path / "two" / "truth.csv").read_bytes()


def test_different_seeds_give_different_images(tmp_path):
    write_set(tmp_path / "a", EXAMPLE_SPECS[:1], seed=0)
    write_set(tmp_path / "b", EXAMPLE_SPECS[:1], seed=1)
    assert folder_bytes(tmp_path / "a") != folder_bytes(tmp_path / "b")


def test_the_bundled_example_is_what_the_generator_makes(tmp_path):
    """example/ can be regenerated: `python -m scripts.generate_examples`."""
    main(["--out", str(tmp_path / "images")])
    assert folder_bytes(tmp_path / "images") == folder_bytes(EXAMPLE / "images")
    assert (tmp_path / "truth.csv").read_bytes() == (EXAMPLE / "truth.csv").read_bytes()


def test_benchmark_sets_are_deterministic(tmp_path):
    specs = benchmark_specs(3, 400, seed=7)
    assert specs == benchmark_specs(3, 400, seed=7)
    assert [spec.name for spec in specs] == ["img00000", "img00001", "img00002"]
    assert all(8 <= spec.count <= 20 and spec.shape == (400, 400) for spec in specs)
    truth_a = write_set(tmp_path / "a", specs, seed=7)
    truth_b = write_set(tmp_path / "b", specs, seed=7)
    assert truth_a == truth_b == {spec.name: spec.count for spec in specs}
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")


def test_render_is_deterministic():
    spec = SPECS["nuclei_8bit"]
    image_a, labels_a = render(spec, 5)
    image_b, labels_b = render(spec, 5)
    assert np.array_equal(image_a, image_b) and np.array_equal(labels_a, labels_b)


# ---------------------------------------------------------------------------
# Truth
# ---------------------------------------------------------------------------


def test_truth_csv_matches_the_specs():
    assert read_truth(EXAMPLE / "truth.csv") == {spec.name: spec.count for spec in EXAMPLE_SPECS}
    text = (EXAMPLE / "truth.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "image,true_count"


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=lambda spec: spec.name)
def test_tutorial_chain_finds_the_true_count_on_each_bundled_example(spec):
    path = EXAMPLE / "images" / f"{spec.name}{spec.suffix}"
    image, _ = read_image(path)
    assert image.dtype == np.dtype(spec.dtype)
    assert image.shape == spec.shape
    assert tutorial_count(image) == read_truth(EXAMPLE / "truth.csv")[spec.name] == spec.count


@pytest.mark.parametrize("seed", [1, 2])
def test_tutorial_chain_finds_the_true_count_for_other_seeds(tmp_path, seed):
    truth = write_set(tmp_path, EXAMPLE_SPECS, seed)
    for spec in EXAMPLE_SPECS:
        image, _ = read_image(tmp_path / f"{spec.name}{spec.suffix}")
        assert tutorial_count(image) == truth[spec.name], spec.name


def test_tutorial_chain_finds_the_true_count_on_benchmark_images():
    specs = benchmark_specs(4, 512, seed=0)  # what the benchmarks use by default
    for offset, spec in enumerate(specs):
        image, _ = render(spec, 0 + offset)
        assert tutorial_count(image) == spec.count, spec.name


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=lambda spec: spec.name)
def test_true_labels_number_the_objects(spec):
    _, labels = render(spec, 0)
    assert labels.dtype == np.uint16
    assert sorted(np.unique(labels).tolist()) == list(range(spec.count + 1))


def test_four_cells_is_dark_like_the_tutorials_image():
    image, pixel_size = read_image(EXAMPLE / "images" / "four_cells.tif")
    assert image.dtype == np.uint8
    assert image.shape == (342, 382)  # the tutorial's image size
    assert 45 <= image.max() <= 60  # the tutorial's maximum is 52
    assert image.min() <= 2
    assert pixel_size == pytest.approx(0.65)


def test_pixel_sizes_are_written(tmp_path):
    write_set(tmp_path, EXAMPLE_SPECS, seed=0)
    for spec in EXAMPLE_SPECS:
        _, pixel_size = read_image(tmp_path / f"{spec.name}{spec.suffix}")
        if spec.pixel_size_um is None:
            assert pixel_size is None
        else:
            assert pixel_size == pytest.approx(spec.pixel_size_um)


def test_specks_are_single_pixels_the_erosions_remove():
    spec = replace(SPECS["nuclei_8bit"], count=1, specks=40)
    image, labels = render(spec, 11)
    mask = apply_threshold(image, compute_threshold(image))
    assert label_objects(mask)[1] > 1  # the raw threshold keeps specks
    assert tutorial_count(image) == 1


def test_uint16_spec_uses_the_uint16_range():
    image, _ = render(SPECS["nuclei_16bit"], 0)
    assert image.dtype == np.uint16
    assert image.max() > 255


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def test_place_centres_keeps_the_gap_and_the_margin():
    rng = np.random.default_rng(0)
    radii = np.array([10.0, 12.0, 9.0, 14.0, 11.0])
    centres = place_centres(rng, (200, 220), radii, gap=20.0, margin=4)
    assert centres.shape == (5, 2)
    for i in range(5):
        assert radii[i] + 4 <= centres[i, 0] <= 200 - radii[i] - 4
        assert radii[i] + 4 <= centres[i, 1] <= 220 - radii[i] - 4
        for j in range(i):
            assert np.hypot(*(centres[i] - centres[j])) >= radii[i] + radii[j] + 20.0


def test_place_centres_raises_when_impossible():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"cannot place 14 objects in \(128, 128\)"):
        place_centres(rng, (128, 128), np.full(14, 12.0), gap=26.0, attempts=200)


def test_write_truth_is_sorted(tmp_path):
    write_truth(tmp_path / "t.csv", {"b": 2, "a": 10})
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == "image,true_count\na,10\nb,2\n"


def test_png_spec_writes_a_png(tmp_path):
    spec = Spec("p", (64, 64), 1, suffix=".png", radius=(8.0, 9.0))
    write_set(tmp_path, [spec], seed=0)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
