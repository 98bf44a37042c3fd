"""Accuracy benchmark: the tutorial and ``nuclei`` presets on the development
set (../shared/data) and on the validation sets, side by side.

Segments every image listed in a ``truth.csv`` with each preset and prints,
per data set, the count error (mean over images of ``|found - true| /
true``), F1 at IoU 0.5 and the mean matched IoU (mean of the per-image
values; pooled F1 over all objects in brackets), and how many images are
off by more than 2x (found > 2 x true or < true / 2), with and without the
QC flag of ``counts.csv``.

Sets (``--sets``): ``development`` = ../shared/data (the images the methods
were developed on); ``validation`` = tests/data/validation (DSB2018 stage-1
test, committed) and Coelho et al. 2009 (NIH3T3, U2OS; extracted from a
local snapshot of its repository by ``benchmarks/validation_data.py``,
skipped with a message when there is none); ``fresh`` = Pecot et al. 2022
and NucleusSegData, extracted the same way (the sets of the last round's
run-once check); ``synthetic`` = the seeded hard cases of
``tests/synthetic.py``. Nothing was tuned on the validation sets.

Usage::

    python benchmarks/accuracy.py [--sets development validation] [--per-image] [--json FILE]
    python benchmarks/accuracy.py --ablation            # the nuclei preset without each part
    python benchmarks/accuracy.py --data PATH           # any folder with a truth.csv
    python benchmarks/accuracy.py --workflow [--presets nuclei]   # through Snakemake

Exits with status 0 and a message if a data folder is missing.

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

from benchmarks import validation_data  # noqa: E402
from scripts import units  # noqa: E402
from scripts.algorithms.diameter import estimate_object_diameter, expected_diameter_px  # noqa: E402
from scripts.config import params, presets  # noqa: E402
from scripts.config.load import load_config  # noqa: E402
from scripts.steps import label, morphology, threshold  # noqa: E402
from scripts.tables.evaluate import evaluate_image, summarize  # noqa: E402
from scripts.imaging import Calibration, open_image  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data"
SETS = ("development", "validation", "fresh", "synthetic")
#: The nuclei preset without one of its parts each (``--ablation``): config
#: keys set on top of the preset (the dim growth needs the noise floor and
#: the per-object level, so it goes with either). ``previous preset`` is the
#: preset before its three newest parts (dim growth, the fine-scale noise,
#: the clump size limit); ``issue 15 preset`` is the preset as it
#: was before issue 16 (all of them off); ``plain median d`` replaces the
#: robust diameter estimate by the plain median (see :func:`segment`);
#: ``d never raised`` keeps the first estimate of d even where the
#: thresholded objects contradict it; ``noise from darker pixels`` takes the
#: noise floor's sigma from the spread of the pixels below Otsu instead of
#: the raw image's finest scale.
ABLATIONS = {
    "nuclei": {},
    "no background auto": {"preprocess": {"background": "none"}},
    "no noise floor": {"threshold": {"noise_floor": None, "grow_dim": False}},
    "no per-object level": {"threshold": {"object_fraction": None, "grow_dim": False}},
    "no texture guards": {"label": {"declump": {"max_texture": None, "max_density": None}}},
    "plain median d": {"diameter_estimate": "median"},
    "d never raised": {"diameter_estimate": "first"},
    "no dim growth": {"threshold": {"grow_dim": False}},
    "no clump size limit": {"label": {"declump": {"max_area": None}}},
    "noise from darker pixels": {"noise_estimate": "darker pixels"},
    "previous preset": {
        "threshold": {"grow_dim": False},
        "noise_estimate": "darker pixels",
        "label": {"declump": {"max_area": None}},
    },
    "issue 15 preset": {
        "diameter_estimate": "median",
        "preprocess": {"background": "none"},
        "threshold": {"noise_floor": None, "object_fraction": None, "grow_dim": False},
        "label": {"declump": {"max_texture": None, "max_density": None, "max_area": None}},
    },
}
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
    overrides = dict(overrides or {})
    estimate = overrides.pop("diameter_estimate", "robust")
    noise = overrides.pop("noise_estimate", "fine scale")
    config = load_config({"preset": name, **overrides}, SCHEMA)
    config["diameter_estimate"] = estimate  # not config keys: the ablation's
    config["noise_estimate"] = noise
    return config


def segment(image, config, pixel_size_um=None):
    """:func:`run_chain` without the QC: ``(labels, diameter_px)``."""
    result = run_chain(image, config, pixel_size_um)
    return result["labels"], result["diameter_px"]


def run_chain(image, config, pixel_size_um=None):
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
    dict
        ``labels`` (ndarray of uint16/uint32, 0 = background),
        ``diameter_px`` (the expected diameter used; None when no step
        needs it) and ``qc`` (the QC reasons as the label step writes them,
        "" when fine; None with ``qc.enabled`` off).
    """
    diameter_px, source = None, None
    if params.needs_diameter(config):
        if config.get("diameter_estimate") == "median" and config["diameter"] == "auto":
            diameter_px = estimate_object_diameter(image, robust=False)
            if not np.isfinite(diameter_px):
                diameter_px, _ = expected_diameter_px(image)
        else:
            diameter_px, source = expected_diameter_px(
                image, config["diameter"], config["diameter_unit"], pixel_size_um
            )
    pre = config["preprocess"] if params.preprocess_active(config["preprocess"]) else None
    prepared, global_threshold, mask, diameter_px, raised_from_px = (
        threshold.threshold_with_diameter(
            image,
            config["threshold"],
            pre,
            diameter_px,
            recheck=source == "estimated"
            and config.get("diameter_estimate", "robust") == "robust",
            fine_scale_noise=config.get("noise_estimate", "fine scale") == "fine scale",
        )
    )
    stability = None
    if config["qc"]["enabled"]:
        stability = threshold.stability_counts(prepared, global_threshold, diameter_px)
    steps = [(s["operation"], s["iterations"]) for s in config["morphology"]["steps"]]
    mask = morphology.apply_sequence(
        mask, steps, config["morphology"]["footprint_connectivity"]
    )
    if params.cleanup_active(config["cleanup"]):
        settings = dict(config["cleanup"], connectivity=config["label"]["connectivity"])
        pixel_area_um = units.pixel_area_um(Calibration(pixel_size_um), mask.ndim)
        mask = morphology.clean(mask, settings, diameter_px, pixel_area_um)
    if config["label"]["declump"]["enabled"]:
        labels, count = label.declump_objects(mask, config["label"], diameter_px, image)
    else:
        labels, count = label.label_objects(mask, config["label"]["connectivity"])
    qc = None
    if config["qc"]["enabled"]:
        row = {
            "diameter_px": diameter_px,
            "qc_threshold_counts": stability,
            "diameter_first_estimate_px": raised_from_px,
        }
        qc = label.quality_flags(labels, count, row)
    return {"labels": labels, "diameter_px": diameter_px, "qc": qc}


def read_gray(path):
    """An image as the workflow reads it (volumes kept in 3D)."""
    loaded = open_image(path, volume="3d")
    return loaded.pixels, loaded.calibration.pixel_size_um


def dataset_name(row):
    """Group name of a truth.csv row: BBBC005 split into w1 / w2, stardist into 2D / 3D."""
    name = row["dataset"].split()[0]
    image = row["image"]
    if "stage1_test" in row["dataset"]:
        return "DSB2018 test"
    if name == "Coelho2009":
        return row["dataset"]
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

#: Goals of issue 16 per data set: count error at most, F1 at IoU 0.5 at least.
GOALS = {
    "BBBC005 w1": {"count_error": 0.10},
    "BBBC039": {"count_error": 0.10, "f1": 0.90},
    "DSB2018": {"count_error": 0.10, "f1": 0.85},
    "DSB2018 test": {"count_error": 0.10, "f1": 0.85},
    "Coelho2009 NIH3T3": {"count_error": 0.10, "f1": 0.85},
    "Coelho2009 U2OS": {"count_error": 0.10, "f1": 0.85},
    "Pecot2022": {"count_error": 0.10, "f1": 0.85},
    "NucleusSegData": {"count_error": 0.10, "f1": 0.85},
}


def data_folders(sets, data=None):
    """``[(set name, folder with truth.csv or None, why missing)]``.

    `data` (``--data``) replaces the development folder.
    """
    folders = []
    if "development" in sets:
        folders.append(("development", Path(data or DEFAULT_DATA), ""))
    if "validation" in sets:
        folders.append(("validation", validation_data.COMMITTED, ""))
        coelho = validation_data.coelho_folder()
        reason = validation_data.no_snapshot(
            "Coelho 2009", validation_data.DEFAULT_MIRROR, validation_data.COELHO_VARIABLE
        )
        folders.append(("validation", coelho, "" if coelho else reason))
    if "fresh" in sets:
        fresh, skipped = validation_data.fresh_folder()
        folders.append(("fresh", fresh, "\n".join(skipped)))
    return folders


def off_by_2x(found, true):
    """Whether a count is off by more than a factor of 2 (found > 2 x true or
    < true / 2; any object in an image without true objects)."""
    if true == 0:
        return found > 0
    return found > 2 * true or 2 * found < true


def summary(records):
    """:func:`scripts.tables.evaluate.summarize` plus the images off by more
    than 2x (``n_off2x``), those of them with a QC flag
    (``n_off2x_flagged``) and all flagged images (``n_flagged``)."""
    result = summarize(records)
    off = [r for r in records if off_by_2x(r["found_count"], r["true_count"])]
    result["n_off2x"] = len(off)
    result["n_off2x_flagged"] = sum(1 for r in off if r.get("qc"))
    result["n_flagged"] = sum(1 for r in records if r.get("qc"))
    return result


def synthetic_rows():
    """The seeded hard cases of tests/synthetic.py as (name, image, labels)."""
    from tests import synthetic

    for name, make in synthetic.CASES.items():
        for seed in (0, 1):
            image, labels = make(seed)
            yield f"synthetic {name}", f"{name}_{seed}", image, labels


def image_rows(folder):
    """(group, image name, image, true labels or None, true count, pixel size)."""
    for row in load_rows(folder):
        image, pixel_size_um = read_gray(Path(folder) / row["image"])
        true_labels = None
        if row["truth_type"] == "instance_mask" and row["mask"]:
            true_labels, _ = read_gray(Path(folder) / row["mask"])
        yield dataset_name(row), row["image"], image, true_labels, int(row["true_count"]), pixel_size_um


def benchmark(folders, configs, per_image=False, synthetic=False):
    """Evaluate each configuration on every image of `folders` (in this process).

    Parameters
    ----------
    folders : list of (set name, folder, reason)
        :func:`data_folders`; folders that are None are skipped.
    configs : dict of name -> config (:func:`preset_config`)
    per_image : bool
        Print one line per image and configuration.
    synthetic : bool
        Also the seeded hard cases (set ``synthetic``).

    Returns
    -------
    dict: config name -> data set -> {"set", "records", "summary"}
    """
    results = {name: {} for name in configs}

    def images():
        for set_name, folder, _ in folders:
            if folder is None:
                continue
            for group, image_name, image, true_labels, true_count, px in image_rows(folder):
                yield set_name, group, image_name, image, true_labels, true_count, px
        if synthetic:
            for group, image_name, image, true_labels in synthetic_rows():
                yield "synthetic", group, image_name, image, true_labels, int(true_labels.max()), None

    for set_name, group, image_name, image, true_labels, true_count, px in images():
        for name, config in configs.items():
            start = time.perf_counter()
            chain = run_chain(image, config, px)
            seconds = time.perf_counter() - start
            record = evaluate_image(chain["labels"], true_labels=true_labels, true_count=true_count)
            d = chain["diameter_px"]
            record.update(image=image_name, seconds=seconds, diameter_px=d, qc=chain["qc"] or "")
            entry = results[name].setdefault(group, {"set": set_name, "records": []})
            entry["records"].append(record)
            if per_image:
                print(
                    f"{name:20s} {group:18s} {Path(image_name).name[:28]:28s} "
                    f"true={record['true_count']:4d} found={record['found_count']:5d} "
                    f"err={record['count_error']:.2f} F1={record['f1']:.2f} "
                    f"d={'-' if d is None else f'{d:.1f}'} qc={record['qc'] or '-'} "
                    f"{seconds * 1000:.0f} ms"
                )
    for per_config in results.values():
        for group in per_config.values():
            group["summary"] = summary(group["records"])
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


def benchmark_workflow(folders, presets=("tutorial", "nuclei"), cores=2, keep=None):
    """As :func:`benchmark`, through the real workflow: one Snakemake run per
    preset and data folder on a copy of the project; records from
    results/evaluation.csv, QC flags from results/counts.csv."""
    results = {name: {} for name in presets}
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(keep or scratch)
        for index, (set_name, data, _) in enumerate(folders):
            if data is None:
                continue
            runs = _workflow_runs(data, presets, cores, base / f"{index}-{set_name}")
            for name, groups in runs.items():
                for group, entry in groups.items():
                    results[name][group] = dict(entry, set=set_name)
    return results


def _workflow_runs(data, presets, cores, base):
    """:func:`benchmark_workflow` on one data folder."""
    from tests.workflow_copy import copy_project

    results = {}
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
        with open(project.root / "results" / "counts.csv", newline="") as handle:
            flags = {row["image"]: row.get("qc", "") for row in csv.DictReader(handle)}
        groups = {}
        for row in rows:
            record = {
                k: (float(v) if v not in ("", None) else math.nan)
                for k, v in row.items()
                if k not in ("image", "dataset")
            }
            for k in ("true_count", "found_count"):
                record[k] = int(record[k])
            record.update(
                image=row["image"], seconds=seconds / len(rows), qc=flags.get(row["image"], "")
            )
            groups.setdefault(row["dataset"], {"records": []})["records"].append(
                record
            )
        for group in groups.values():
            group["summary"] = summary(group["records"])
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
    """One table per data set (development first), a row per configuration."""
    groups = []
    for per_config in results.values():
        for group, entry in per_config.items():
            if (entry["set"], group) not in groups:
                groups.append((entry["set"], group))
    order = {name: index for index, name in enumerate(SETS)}
    for set_name, group in sorted(groups, key=lambda g: order[g[0]]):
        goal = GOALS.get(group)
        note = ""
        if goal:
            note = "  goal: " + ", ".join(
                f"count error <= {v:.0%}" if k == "count_error" else f"F1 >= {v:.2f}"
                for k, v in goal.items()
            )
        print(f"\n{group} [{set_name}]{note}")
        print(
            f"  {'configuration':20s} {'images':>6s} {'count err':>9s} {'F1@0.5':>7s} "
            f"{'(pooled)':>8s} {'mean IoU':>8s} {'>2x':>4s} {'>2x flagged':>11s} "
            f"{'flagged':>7s} {'ms/img':>7s}"
        )
        for name, per_config in results.items():
            if group not in per_config:
                continue
            s = per_config[group]["summary"]
            ms = 1000 * np.mean([r["seconds"] for r in per_config[group]["records"]])
            print(
                f"  {name:20s} {s['n_images']:6d} {s['mean_count_error']:9.1%} "
                f"{_fmt(s['mean_f1']):>7s} {_fmt(s['pooled_f1']):>8s} "
                f"{_fmt(s['mean_matched_iou']):>8s} {s['n_off2x']:4d} "
                f"{s['n_off2x_flagged']:11d} {s['n_flagged']:7d} {ms:7.0f}"
            )


def goals_met(results, preset="nuclei"):
    """Whether `preset` meets every goal of :data:`GOALS` on the data sets it
    ran on, and no image off by more than 2x lacks the QC flag; with the
    unmet ones."""
    unmet = []
    for group, entry in results.get(preset, {}).items():
        s = entry["summary"]
        goal = GOALS.get(group, {})
        if "count_error" in goal and not s["mean_count_error"] <= goal["count_error"]:
            unmet.append(f"{group}: count error {s['mean_count_error']:.1%}")
        if "f1" in goal and not s["mean_f1"] >= goal["f1"]:
            unmet.append(f"{group}: F1 {s['mean_f1']:.3f}")
        if entry["set"] != "synthetic" and s["n_off2x"] > s["n_off2x_flagged"]:
            unmet.append(f"{group}: {s['n_off2x'] - s['n_off2x_flagged']} image(s) off by >2x unflagged")
    return not unmet, unmet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", nargs="+", choices=SETS,
        help="data sets (default: development and validation; with --data: development)",
    )
    parser.add_argument(
        "--data", type=Path, help="a folder with truth.csv instead of ../shared/data"
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
        "--ablation", action="store_true",
        help="the nuclei preset without each of its robustness parts instead of --presets",
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
    sets = args.sets or (["development"] if args.data else ["development", "validation"])
    folders = data_folders(sets, args.data)
    for _, folder, reason in folders:
        if reason:
            print(reason)
    missing = [f for _, f, _ in folders if f is not None and not (f / "truth.csv").is_file()]
    for folder in missing:
        print(f"accuracy benchmark skipped: no truth.csv in {folder.resolve()}")
    folders = [(s, f, r) for s, f, r in folders if f is not None and f not in missing]
    if not folders and "synthetic" not in sets:
        return 0
    if args.workflow:
        results = benchmark_workflow(folders, args.presets, args.cores, args.keep)
    else:
        if args.ablation:
            configs = {name: preset_config("nuclei", o) for name, o in ABLATIONS.items()}
        else:
            configs = {name: preset_config(name) for name in args.presets}
        results = benchmark(
            folders, configs, per_image=args.per_image, synthetic="synthetic" in sets
        )
    print_tables(results)
    if "nuclei" in results:
        met, unmet = goals_met(results)
        print(f"\nnuclei preset meets the issue's goals: {'yes' if met else 'NO'}")
        for line in unmet:
            print(f"  not met: {line}")
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
                    "set": grp["set"],
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
