"""Accuracy benchmark: the tutorial preset vs the ``nuclei`` preset on ../shared/data.

Segments every image listed in ``truth.csv`` of the shared test data with
each preset and prints, per dataset, the count error (mean over images of
``|found - true| / true``), F1 at IoU 0.5 and the mean matched IoU (mean of
the per-image values; pooled F1 over all objects in brackets).

Usage::

    python benchmarks/accuracy.py [--data PATH] [--per-image] [--json FILE]
    python benchmarks/accuracy.py --workflow [--presets nuclei]   # through Snakemake

Exits with status 0 and a message if the data folder is missing.

The presets are the workflow's (:mod:`scripts.config.presets`, merged with the
schema's defaults exactly as ``workflow/rules/common.smk`` does), and
:func:`segment` calls the workflow steps' own functions in the workflow's
order: (preprocess ->) threshold -> morphology (-> cleanup) -> label or
declump. ``--workflow`` instead runs the real workflow (``snakemake`` on a
copy of the project, with ``evaluation`` configured) once per preset and
reads ``results/evaluation.csv``: the same numbers.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import units  # noqa: E402
from scripts.algorithms.diameter import expected_diameter_px  # noqa: E402
from scripts.config import params, presets  # noqa: E402
from scripts.config.load import load_config  # noqa: E402
from scripts.steps import label, morphology, threshold  # noqa: E402
from scripts.tables.evaluate import evaluate_image, summarize  # noqa: E402
from scripts.imaging import Calibration, open_image  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
PRESET_NAMES = tuple(presets.PRESETS)

# --------------------------------------------------------------------------
# presets and the chain
# --------------------------------------------------------------------------


def preset_config(name, overrides=None):
    """The complete configuration of a preset, as the workflow sees it.

    `overrides` (a dict of config keys) go on top, as keys set by the user;
    then the schema's defaults fill the rest
    (:func:`scripts.config.load.load_config`, as in the workflow).
    """
    return load_config({"preset": name, **(overrides or {})}, SCHEMA)


def segment(image, config, pixel_size_um=None):
    """Segment one gray image as the workflow's steps do.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        Raw intensities (as :func:`scripts.imaging.open_image` reads them).
    config : dict
        Complete configuration (:func:`preset_config`).
    pixel_size_um : float or None

    Returns
    -------
    labels : ndarray of uint16/uint32, 0 = background
    diameter_px : float or None
        The expected diameter used (None when no step needs it).
    """
    diameter_px = None
    if params.needs_diameter(config):
        diameter_px, _ = expected_diameter_px(
            image, config["diameter"], config["diameter_unit"], pixel_size_um
        )
    pre = config["preprocess"] if params.preprocess_active(config["preprocess"]) else None
    prepared = threshold.prepare(image, pre, diameter_px)
    _, mask = threshold.adaptive_threshold(prepared, config["threshold"])
    steps = [(s["operation"], s["iterations"]) for s in config["morphology"]["steps"]]
    mask = morphology.apply_sequence(
        mask, steps, config["morphology"]["footprint_connectivity"]
    )
    if params.cleanup_active(config["cleanup"]):
        settings = dict(config["cleanup"], connectivity=config["label"]["connectivity"])
        pixel_um = units.pixel_area_um(Calibration(pixel_size_um), mask.ndim)
        mask = morphology.clean(mask, settings, diameter_px, pixel_um)
    if config["label"]["declump"]["enabled"]:
        labels, _ = label.declump_objects(mask, config["label"], diameter_px, image)
    else:
        labels, _ = label.label_objects(mask, config["label"]["connectivity"])
    return labels, diameter_px


def read_gray(path):
    """An image as the workflow reads it (volumes kept in 3D)."""
    loaded = open_image(path, volume="3d")
    return loaded.pixels, loaded.calibration.pixel_size_um


def dataset_name(row):
    """Group name of a truth.csv row: BBBC005 split into w1 / w2, stardist into 2D / 3D."""
    name = row["dataset"].split()[0]
    image = row["image"]
    if name == "BBBC005":
        return "BBBC005 w1" if "_w1" in image else "BBBC005 w2"
    if name == "stardist":
        return "stardist 3D" if "3d" in Path(image).name.lower() else "stardist 2D"
    return name


def load_rows(data):
    with open(Path(data) / "truth.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

GOALS = {
    "BBBC005 w1": {"count_error": 0.10},
    "BBBC039": {"count_error": 0.10, "f1": 0.90},
    "DSB2018": {"count_error": 0.10, "f1": 0.85},
}


def benchmark(data, presets=("tutorial", "nuclei"), per_image=False):
    """Evaluate each preset on every truth.csv image (in this process).

    Returns
    -------
    dict: preset -> dataset -> {"records": [...], "summary": {...}}
    """
    rows = load_rows(data)
    configs = {name: preset_config(name) for name in presets}
    results = {name: {} for name in presets}
    for row in rows:
        image, pixel_size_um = read_gray(Path(data) / row["image"])
        true_labels = None
        if row["truth_type"] == "instance_mask" and row["mask"]:
            true_labels, _ = read_gray(Path(data) / row["mask"])
        group = dataset_name(row)
        for name in presets:
            start = time.perf_counter()
            labels, d = segment(image, configs[name], pixel_size_um)
            seconds = time.perf_counter() - start
            record = evaluate_image(
                labels, true_labels=true_labels, true_count=int(row["true_count"])
            )
            record.update(image=row["image"], seconds=seconds, diameter_px=d)
            results[name].setdefault(group, {"records": []})["records"].append(record)
            if per_image:
                print(
                    f"{name:8s} {group:12s} {Path(row['image']).name[:40]:40s} "
                    f"true={record['true_count']:4d} found={record['found_count']:4d} "
                    f"err={record['count_error']:.2f} F1={record['f1']:.2f} "
                    f"d={'-' if d is None else f'{d:.1f}'} {seconds * 1000:.0f} ms"
                )
    for name in presets:
        for group in results[name].values():
            group["summary"] = summarize(group["records"])
    return results


def workflow_inputs(data, folder):
    """Sample sheet, true counts and true label links for one workflow run.

    Writes into `folder`: ``samples.tsv`` (id = file name without suffix,
    every truth.csv image), ``truth.csv`` (image, true_count, dataset =
    :func:`dataset_name`) and ``truth/<id>.tif`` links to the instance masks.
    Returns the config keys that point the workflow at them.
    """
    folder = Path(folder)
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    samples = ["id\tpath"]
    counts = ["image,true_count,dataset"]
    for row in load_rows(data):
        image = Path(data).resolve() / row["image"]
        samples.append(f"{image.stem}\t{image}")
        counts.append(f"{image.stem},{row['true_count']},{dataset_name(row)}")
        if row["truth_type"] == "instance_mask" and row["mask"]:
            link = folder / "truth" / f"{image.stem}.tif"
            if not link.exists():
                link.symlink_to(Path(data).resolve() / row["mask"])
    (folder / "samples.tsv").write_text("\n".join(samples) + "\n")
    (folder / "truth.csv").write_text("\n".join(counts) + "\n")
    return {
        "samples": str(folder / "samples.tsv"),
        "volume": "3d",
        "evaluation": {
            "counts": str(folder / "truth.csv"),
            "labels": str(folder / "truth" / "{image}.tif"),
        },
    }


def benchmark_workflow(data, presets=("tutorial", "nuclei"), cores=2, keep=None):
    """As :func:`benchmark`, through the real workflow: one Snakemake run per
    preset on a copy of the project; records from results/evaluation.csv."""
    from tests.workflow_copy import copy_project

    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(keep or scratch)
        keys = workflow_inputs(data, base / "truth")
        for name in presets:
            project = copy_project(base / name, with_example=False)
            config = dict(keys, preset=name, report={"max_images": 0})
            (project.root / "run.json").write_text(json.dumps(config))
            start = time.perf_counter()
            project.snakemake("--cores", str(cores), "--configfile", "run.json", timeout=3600)
            seconds = time.perf_counter() - start
            with open(project.root / "results" / "evaluation.csv", newline="") as handle:
                rows = list(csv.DictReader(handle))
            groups = {}
            for row in rows:
                record = {
                    k: (float(v) if v not in ("", None) else math.nan)
                    for k, v in row.items()
                    if k not in ("image", "dataset")
                }
                for k in ("true_count", "found_count"):
                    record[k] = int(record[k])
                record.update(image=row["image"], seconds=seconds / len(rows))
                groups.setdefault(row["dataset"], {"records": []})["records"].append(
                    record
                )
            for group in groups.values():
                group["summary"] = summarize(group["records"])
            results[name] = groups
            print(f"workflow, preset {name}: {len(rows)} images in {seconds:.1f} s")
    return results


def _fmt(value, spec=".3f"):
    return (
        "   n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


def print_tables(results):
    groups = []
    for per_preset in results.values():
        for group in per_preset:
            if group not in groups:
                groups.append(group)
    for group in groups:
        goal = GOALS.get(group)
        note = ""
        if goal:
            note = "  goal: " + ", ".join(
                f"count error <= {v:.0%}" if k == "count_error" else f"F1 >= {v:.2f}"
                for k, v in goal.items()
            )
        print(f"\n{group}{note}")
        print(
            f"  {'preset':9s} {'images':>6s} {'count err':>9s} {'F1@0.5':>7s} {'(pooled)':>8s} {'mean IoU':>8s} {'ms/img':>7s}"
        )
        for name, per_preset in results.items():
            if group not in per_preset:
                continue
            s = per_preset[group]["summary"]
            ms = 1000 * np.mean([r["seconds"] for r in per_preset[group]["records"]])
            print(
                f"  {name:9s} {s['n_images']:6d} {s['mean_count_error']:9.1%} "
                f"{_fmt(s['mean_f1']):>7s} {_fmt(s['pooled_f1']):>8s} {_fmt(s['mean_matched_iou']):>8s} {ms:7.0f}"
            )


def goals_met(results, preset="nuclei"):
    ok = True
    for group, goal in GOALS.items():
        s = results[preset].get(group, {}).get("summary")
        if s is None:
            continue
        if "count_error" in goal and not s["mean_count_error"] <= goal["count_error"]:
            ok = False
        if "f1" in goal and not s["mean_f1"] >= goal["f1"]:
            ok = False
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with truth.csv"
    )
    parser.add_argument(
        "--per-image", action="store_true", help="print one line per image"
    )
    parser.add_argument(
        "--json", type=Path, help="also write all per-image records here"
    )
    parser.add_argument(
        "--presets", nargs="+", choices=PRESET_NAMES, default=["tutorial", "nuclei"]
    )
    parser.add_argument(
        "--workflow",
        action="store_true",
        help="run the real workflow (Snakemake) instead of the steps in this process",
    )
    parser.add_argument("--cores", type=int, default=2, help="with --workflow")
    parser.add_argument(
        "--keep", type=Path, help="with --workflow: keep the runs in this folder"
    )
    args = parser.parse_args(argv)
    if not (args.data / "truth.csv").is_file():
        print(f"accuracy benchmark skipped: no truth.csv in {args.data.resolve()}")
        return 0
    if args.workflow:
        results = benchmark_workflow(args.data, args.presets, args.cores, args.keep)
    else:
        results = benchmark(args.data, args.presets, per_image=args.per_image)
    print_tables(results)
    if "nuclei" in results:
        met = "yes" if goals_met(results) else "NO"
        print(f"\nnuclei preset meets the issue's goals: {met}")
    if args.json:

        def clean(value):
            if isinstance(value, float) and not math.isfinite(value):
                return None
            if isinstance(value, np.generic):
                return value.item()
            return value

        payload = {
            name: {
                g: {
                    "summary": {k: clean(v) for k, v in grp["summary"].items()},
                    "records": [
                        {k: clean(v) for k, v in r.items()} for r in grp["records"]
                    ],
                }
                for g, grp in per.items()
            }
            for name, per in results.items()
        }
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
