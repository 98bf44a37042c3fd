"""Accuracy benchmark: the tutorial chain vs the ``nuclei`` preset on ../shared/data.

Runs both segmentation chains on every image listed in ``truth.csv`` of the
shared test data and prints, per dataset, the count error (mean over images
of ``|found - true| / true``), F1 at IoU 0.5 and the mean matched IoU (mean of
the per-image values; pooled F1 over all objects in brackets).

Usage::

    python benchmarks/accuracy.py [--data PATH] [--per-image] [--json FILE]

Exits with status 0 and a message if the data folder is missing.

The chain (:func:`run_chain`) is exactly the workflow's order:
(optional preprocess) -> global threshold (skimage.filters) -> morphology
(scipy.ndimage, cross footprint) -> cleanup -> label (optional declump), so
the numbers transfer to the workflow. Parameters of the ``nuclei`` preset are
given relative to ONE expected object diameter ``d`` (pixels), estimated per
image (see :data:`NUCLEI_PRESET`).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, measure

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.cleanup import cleanup  # noqa: E402
from scripts.declump import split_touching  # noqa: E402
from scripts.evaluate import evaluate_image, summarize  # noqa: E402
from scripts.preprocess import estimate_object_diameter, preprocess  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data"

THRESHOLDS = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "yen": filters.threshold_yen,
    "triangle": filters.threshold_triangle,
    "isodata": filters.threshold_isodata,
    "mean": filters.threshold_mean,
    "minimum": filters.threshold_minimum,
}

# --------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------

#: The tutorial, exactly: Otsu -> erosion x2, dilation x14, erosion x4 (cross
#: footprint) -> 8-connected labelling. No preprocessing, cleanup or declumping.
TUTORIAL_PRESET = {
    "expected_diameter_px": None,
    "preprocess": {
        "smooth_sigma_d": 0.0,
        "background_radius_d": 0.0,
        "background_method": "tophat",
    },
    "threshold": {"method": "otsu"},
    "morphology": {
        "connectivity": 1,
        "steps": [("erosion", 2), ("dilation", 14), ("erosion", 4)],
    },
    "cleanup": {
        "fill_holes": False,
        "max_hole_area_d2": None,
        "min_area_d2": None,
        "max_area_d2": None,
        "exclude_border": False,
    },
    "label": {"connectivity": 2, "declump": False},
}

#: Fluorescence nuclei. Every length is a multiple of the expected object
#: diameter ``d`` in pixels (``*_d``), every area a multiple of ``d**2``
#: (``*_d2``). ``expected_diameter_px: "auto"`` estimates ``d`` per image with
#: :func:`scripts.preprocess.estimate_object_diameter` (first pass: Gaussian
#: 1 px, Otsu, fill holes; d = 2 x median largest inscribed radius of the
#: objects); a number fixes it for all images. ``min_px`` entries are floors
#: in pixels.
NUCLEI_PRESET = {
    "expected_diameter_px": "auto",
    "fallback_diameter_px": 20.0,  # when auto finds no object
    "preprocess": {
        "smooth_sigma_d": 0.05,  # Gaussian sigma = d / 20 ...
        "smooth_sigma_min_px": 0.5,  # ... but at least 0.5 px
        "background_radius_d": 0.0,  # off; 2.0 (top-hat, radius 2 d) for uneven illumination
        "background_method": "tophat",
    },
    "threshold": {"method": "li"},
    "morphology": {"connectivity": 1, "steps": []},
    "cleanup": {
        "fill_holes": True,
        "max_hole_area_d2": math.pi
        / 4,  # holes up to one nucleus area (disc of diameter d)
        "min_area_d2": math.pi
        / 4
        * 0.1**2,  # drop specks smaller than a disc of diameter d/10
        "max_area_d2": None,
        "exclude_border": False,
    },
    "label": {
        "connectivity": 2,
        "declump": True,
        "neck_ratio": 0.9,  # split where the neck < 0.9 x radius of the smaller part
        "smooth_sigma_d": 0.05,  # smoothing of distance map and intensity: d / 20
        "min_distance_d": 0.3,  # summits closer than 0.3 d are never split
        "min_area_d2": math.pi
        / 4
        * 0.25**2,  # split-off pieces < disc of diameter d/4 merge back
        "use_intensity": True,  # landscape = EDT x normalised raw intensity
        "intensity_weight": 1.0,
        "intensity_sigma_d": 0.07,  # smoothing of the raw intensity: d / 14
    },
}

PRESETS = {"tutorial": TUTORIAL_PRESET, "nuclei": NUCLEI_PRESET}


def resolve_preset(preset, diameter_px):
    """Concrete pixel parameters of a preset for one expected diameter.

    Parameters
    ----------
    preset : dict
        :data:`TUTORIAL_PRESET`, :data:`NUCLEI_PRESET` or alike.
    diameter_px : float or None
        Expected object diameter ``d`` in pixels (``None`` only for presets
        without ``*_d`` values).

    Returns
    -------
    dict with keys ``preprocess``, ``threshold``, ``morphology``, ``cleanup``,
    ``label``: keyword arguments in pixels, as :func:`run_chain` takes them.
    """
    d = diameter_px

    def length(factor, floor=0.0):
        if not factor:
            return 0.0
        return max(factor * d, floor)

    def area(factor):
        return None if factor is None else factor * d * d

    p, c, lab = preset["preprocess"], preset["cleanup"], preset["label"]
    params = {
        "preprocess": {
            "smooth_sigma_px": length(
                p["smooth_sigma_d"], p.get("smooth_sigma_min_px", 0.0)
            ),
            "background_radius_px": length(p["background_radius_d"]),
            "background_method": p["background_method"],
        },
        "threshold": dict(preset["threshold"]),
        "morphology": {
            "connectivity": preset["morphology"]["connectivity"],
            "steps": list(preset["morphology"]["steps"]),
        },
        "cleanup": {
            "fill_holes": c["fill_holes"],
            "max_hole_area_px": area(c["max_hole_area_d2"]),
            "min_area_px": area(c["min_area_d2"]),
            "max_area_px": area(c["max_area_d2"]),
            "exclude_border": c["exclude_border"],
        },
        "label": {"connectivity": lab["connectivity"], "declump": lab["declump"]},
    }
    if lab["declump"]:
        params["label"].update(
            neck_ratio=lab["neck_ratio"],
            smooth_sigma_px=length(lab["smooth_sigma_d"]),
            min_distance_px=length(lab["min_distance_d"]) or None,
            min_area_px=area(lab["min_area_d2"]),
            use_intensity=lab["use_intensity"],
            intensity_weight=lab["intensity_weight"],
            intensity_sigma_px=length(
                lab.get("intensity_sigma_d", lab["smooth_sigma_d"])
            ),
        )
    return params


def expected_diameter(image, preset):
    """``d`` for one image: fixed, or estimated when the preset says ``"auto"``."""
    value = preset.get("expected_diameter_px")
    if value is None:
        return None
    if value == "auto":
        d = estimate_object_diameter(image)
        return d if math.isfinite(d) else float(preset["fallback_diameter_px"])
    return float(value)


# --------------------------------------------------------------------------
# the chain
# --------------------------------------------------------------------------


def _morphology(mask, steps, connectivity):
    structure = ndi.generate_binary_structure(mask.ndim, connectivity)
    for operation, iterations in steps:
        if iterations == 0:
            continue
        if operation == "erosion":
            mask = ndi.binary_erosion(mask, structure, iterations, border_value=1)
        elif operation == "dilation":
            mask = ndi.binary_dilation(mask, structure, iterations, border_value=0)
        elif operation == "opening":
            mask = ndi.binary_erosion(mask, structure, iterations, border_value=1)
            mask = ndi.binary_dilation(mask, structure, iterations, border_value=0)
        elif operation == "closing":
            mask = ndi.binary_dilation(mask, structure, iterations, border_value=0)
            mask = ndi.binary_erosion(mask, structure, iterations, border_value=1)
        else:
            raise ValueError(f"unknown morphology operation {operation!r}")
    return mask


def run_chain(image, params):
    """Segment one grayscale image with concrete parameters.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X), integer or float
        Raw intensities.
    params : dict
        As returned by :func:`resolve_preset`.

    Returns
    -------
    ndarray of int32, same shape: labels 1..N (raster order), 0 = background.
    """
    pre = preprocess(image, **params["preprocess"])
    th = params["threshold"]
    if th["method"] == "manual":
        t = th["value"]
    elif float(pre.min()) == float(pre.max()):
        return np.zeros(image.shape, dtype=np.int32)
    else:
        t = THRESHOLDS[th["method"]](pre)
    mask = pre > t
    mask = _morphology(
        mask, params["morphology"]["steps"], params["morphology"]["connectivity"]
    )
    mask = cleanup(
        mask, connectivity=params["label"]["connectivity"], **params["cleanup"]
    )
    lab = params["label"]
    if not lab["declump"]:
        return measure.label(mask, connectivity=lab["connectivity"]).astype(np.int32)
    return split_touching(
        mask,
        neck_ratio=lab["neck_ratio"],
        smooth_sigma_px=lab["smooth_sigma_px"],
        min_distance_px=lab["min_distance_px"],
        min_area_px=lab["min_area_px"],
        intensity=image if lab["use_intensity"] else None,
        intensity_weight=lab["intensity_weight"],
        intensity_sigma_px=lab["intensity_sigma_px"],
        connectivity=lab["connectivity"],
    )


def segment(image, preset):
    """Resolve `preset` for `image` (estimating ``d`` if needed) and run the chain.

    Returns
    -------
    labels : ndarray of int32
    diameter_px : float or None
    """
    d = expected_diameter(image, preset)
    return run_chain(image, resolve_preset(preset, d)), d


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


def read_gray(path):
    """Read an image as one gray plane (DSB RGBA PNGs: channel 0); 3D TIFFs stay 3D."""
    import imageio.v3 as iio
    import tifffile

    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        image = tifffile.imread(path)
    else:
        image = iio.imread(path)
        if image.ndim == 3 and image.shape[-1] in (3, 4):
            image = image[..., 0]
    return image


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
    """Evaluate each preset on every truth.csv image.

    Returns
    -------
    dict: preset -> dataset -> {"records": [...], "summary": {...}}
    """
    rows = load_rows(data)
    results = {name: {} for name in presets}
    for row in rows:
        image = read_gray(Path(data) / row["image"])
        true_labels = None
        if row["truth_type"] == "instance_mask" and row["mask"]:
            true_labels = read_gray(Path(data) / row["mask"])
        group = dataset_name(row)
        for name in presets:
            start = time.perf_counter()
            labels, d = segment(image, PRESETS[name])
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
    args = parser.parse_args(argv)
    if not (args.data / "truth.csv").is_file():
        print(f"accuracy benchmark skipped: no truth.csv in {args.data.resolve()}")
        return 0
    results = benchmark(args.data, per_image=args.per_image)
    print_tables(results)
    print(
        f"\nnuclei preset meets the issue's goals: {'yes' if goals_met(results) else 'NO'}"
    )
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
