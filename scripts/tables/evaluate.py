"""Accuracy of a segmentation against ground truth: counts and instance matching.

Pure functions on numpy arrays (label images of any dimension); at the end
the entry point of the Snakemake rule ``evaluate`` (config key
``evaluation``), which writes ``results/evaluation.csv`` (one row per image
with ground truth) and ``results/evaluation_summary.csv``.

Definitions
-----------
count error
    ``|found - true| / true`` for one image (0 when both are 0, ``inf`` when
    ``true == 0 < found``).
IoU
    ``|A & B| / |A | B|`` of one true and one predicted object (pixels).
match
    One-to-one pairing of true and predicted objects with
    ``IoU >= iou_threshold``, chosen to maximise the number of pairs (then the
    summed IoU). For thresholds above 0.5 every object can overlap at most one
    partner that much, so the matching is unique and this is the usual
    "IoU > t" count; at exactly 0.5 the rare ties are resolved optimally.
precision, recall, F1
    ``tp / (tp + fp)``, ``tp / (tp + fn)``, ``2 tp / (2 tp + fp + fn)``, with
    tp = matches, fp = unmatched predicted objects, fn = unmatched true
    objects. Defined as 1.0 when the denominator is 0 (nothing to find and
    nothing found).
mean matched IoU
    Mean IoU over the matched pairs (``nan`` without matches).
"""

from __future__ import annotations

import csv
import math
import numbers
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from scripts.algorithms.checks import check_count, check_labels
from scripts.config.params import truth_label_path
from scripts.imaging import open_image, read_json, read_tiff, write_text
from scripts.runtime.jobs import job_log
from scripts.tables.csvtext import rows_text

METRICS = (
    "true_count",
    "found_count",
    "count_error",
    "tp",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
    "mean_matched_iou",
)


def count_objects(labels):
    """Number of distinct non-zero labels (int)."""
    labels = check_labels(labels, "labels")
    return int(np.count_nonzero(np.unique(labels)))


def count_error(true_count, found_count):
    """Relative count error ``|found - true| / true``.

    Parameters
    ----------
    true_count, found_count : int >= 0

    Returns
    -------
    float
        0.0 when both are 0; ``inf`` when ``true_count == 0`` and
        ``found_count > 0``.
    """
    t = check_count("true_count", true_count)
    f = check_count("found_count", found_count)
    if t == 0:
        return 0.0 if f == 0 else math.inf
    return abs(f - t) / t


def iou_pairs(true_labels, pred_labels):
    """IoU of every overlapping (true, predicted) object pair, from a sparse contingency table.

    Parameters
    ----------
    true_labels, pred_labels : ndarray of int, same shape (any dimension)
        0 = background; label values need not be consecutive.

    Returns
    -------
    dict with

    ``true_ids``, ``pred_ids`` : ndarray of int64
        The distinct non-zero labels of each image, ascending.
    ``pairs_true``, ``pairs_pred`` : ndarray of int64
        Indices into ``true_ids`` / ``pred_ids`` of each overlapping pair.
    ``iou`` : ndarray of float64
        IoU of each pair.
    """
    t = check_labels(true_labels, "true_labels")
    p = check_labels(pred_labels, "pred_labels")
    if t.shape != p.shape:
        raise ValueError(
            f"true_labels shape {t.shape} must equal pred_labels shape {p.shape}"
        )
    t_ids, t_inv = np.unique(t.ravel(), return_inverse=True)
    p_ids, p_inv = np.unique(p.ravel(), return_inverse=True)
    # shift so that index 0 is background whether or not background occurs
    t_off = 0 if (t_ids.size and t_ids[0] == 0) else 1
    p_off = 0 if (p_ids.size and p_ids[0] == 0) else 1
    t_idx = t_inv.ravel().astype(np.int64) + t_off
    p_idx = p_inv.ravel().astype(np.int64) + p_off
    nt = t_ids.size + t_off  # including background slot
    np_ = p_ids.size + p_off
    t_area = np.bincount(t_idx, minlength=nt)
    p_area = np.bincount(p_idx, minlength=np_)
    both = (t_idx > 0) & (p_idx > 0)
    codes, inter = np.unique(t_idx[both] * np_ + p_idx[both], return_counts=True)
    ti, pi = codes // np_, codes % np_
    union = t_area[ti] + p_area[pi] - inter
    return {
        "true_ids": t_ids[t_ids != 0].astype(np.int64),
        "pred_ids": p_ids[p_ids != 0].astype(np.int64),
        "pairs_true": ti - 1,
        "pairs_pred": pi - 1,
        "iou": inter / union,
    }


def _ratio(num, den):
    return num / den if den else 1.0


def match_instances(true_labels, pred_labels, iou_threshold=0.5):
    """Match predicted to true objects one-to-one at an IoU threshold.

    Parameters
    ----------
    true_labels, pred_labels : ndarray of int, same shape, 0 = background
    iou_threshold : float in (0, 1]
        A pair can match when ``IoU >= iou_threshold``.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` (int), ``precision``, ``recall``, ``f1``
        (float, 1.0 when undefined because both images are empty),
        ``mean_matched_iou`` (float, nan without matches), ``true_count``,
        ``found_count`` (int) and ``matched_iou`` (ndarray of the matched
        pairs' IoU, for pooled summaries).
    """
    if (
        isinstance(iou_threshold, bool)
        or not isinstance(iou_threshold, numbers.Real)
        or not 0 < iou_threshold <= 1
    ):
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold!r}")
    pairs = iou_pairs(true_labels, pred_labels)
    n_true, n_pred = pairs["true_ids"].size, pairs["pred_ids"].size
    ok = pairs["iou"] >= iou_threshold
    ti, pi, iou = pairs["pairs_true"][ok], pairs["pairs_pred"][ok], pairs["iou"][ok]
    if iou.size == 0:
        matched = np.zeros(0)
    elif np.unique(ti).size == ti.size and np.unique(pi).size == pi.size:
        matched = iou  # already one-to-one (always so for threshold > 0.5)
    else:
        # optimal assignment on the (small) candidate sub-matrix:
        # maximise the number of matches first, then the summed IoU
        ut, ti_c = np.unique(ti, return_inverse=True)
        up, pi_c = np.unique(pi, return_inverse=True)
        cost = np.zeros((ut.size, up.size))
        cost[ti_c, pi_c] = -(1.0 + iou)
        rows, cols = linear_sum_assignment(cost)
        sel = cost[rows, cols] < 0
        matched = -cost[rows, cols][sel] - 1.0
    tp = int(matched.size)
    fp, fn = n_pred - tp, n_true - tp
    return {
        "true_count": n_true,
        "found_count": n_pred,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "mean_matched_iou": float(matched.mean()) if tp else math.nan,
        "matched_iou": matched,
    }


def evaluate_image(
    pred_labels, *, true_labels=None, true_count=None, iou_threshold=0.5
):
    """All metrics of one image.

    Parameters
    ----------
    pred_labels : ndarray of int, 0 = background
        The segmentation to judge (labels, not a mask).
    true_labels : ndarray of int or None
        Ground-truth instance labels of the same shape. Enables the matching
        metrics.
    true_count : int or None
        Reference count. Defaults to the number of objects in `true_labels`;
        give it when only a count is known (e.g. BBBC005's simulated count),
        or to override a mask whose touching objects merged.
    iou_threshold : float
        See :func:`match_instances`.

    Returns
    -------
    dict with the keys of :data:`METRICS`; the matching metrics (tp, fp, fn,
    precision, recall, f1, mean_matched_iou) are ``nan`` without
    `true_labels`.
    """
    pred_labels = check_labels(pred_labels, "pred_labels")
    if true_labels is None and true_count is None:
        raise ValueError("evaluate_image needs true_labels or true_count (got neither)")
    found = count_objects(pred_labels)
    if true_labels is not None:
        m = match_instances(true_labels, pred_labels, iou_threshold)
        m.pop("matched_iou")
        result = dict(m)
        if true_count is not None:
            result["true_count"] = check_count("true_count", true_count)
    else:
        result = {
            k: math.nan
            for k in ("tp", "fp", "fn", "precision", "recall", "f1", "mean_matched_iou")
        }
        result["true_count"] = check_count("true_count", true_count)
        result["found_count"] = found
    result["count_error"] = count_error(result["true_count"], found)
    return {k: result[k] for k in METRICS}


def summarize(records):
    """Summary over images of :func:`evaluate_image` results.

    Parameters
    ----------
    records : sequence of dict
        One :func:`evaluate_image` result per image.

    Returns
    -------
    dict
        ``n_images``; ``mean_count_error`` (mean of the per-image count
        errors, the headline number); ``pooled_count_error``
        (``sum |found - true| / sum true``); ``total_true``, ``total_found``;
        and over the images that have instance truth: ``n_matched_images``,
        ``mean_f1`` (mean of per-image F1), ``pooled_precision``,
        ``pooled_recall``, ``pooled_f1`` (from summed tp/fp/fn) and
        ``mean_matched_iou`` (mean of the per-image values, nan-skipping).
        Means over no images are ``nan``.
    """
    records = list(records)
    n = len(records)
    out = {"n_images": n}
    errors = [r["count_error"] for r in records]
    out["mean_count_error"] = float(np.mean(errors)) if n else math.nan
    total_true = sum(r["true_count"] for r in records)
    total_found = sum(r["found_count"] for r in records)
    abs_err = sum(abs(r["found_count"] - r["true_count"]) for r in records)
    out["total_true"] = int(total_true)
    out["total_found"] = int(total_found)
    out["pooled_count_error"] = (
        abs_err / total_true if total_true else (0.0 if abs_err == 0 else math.inf)
    )
    matched = [
        r for r in records if not (isinstance(r["tp"], float) and math.isnan(r["tp"]))
    ]
    out["n_matched_images"] = len(matched)
    if matched:
        tp = sum(r["tp"] for r in matched)
        fp = sum(r["fp"] for r in matched)
        fn = sum(r["fn"] for r in matched)
        out["mean_f1"] = float(np.mean([r["f1"] for r in matched]))
        out["pooled_precision"] = _ratio(tp, tp + fp)
        out["pooled_recall"] = _ratio(tp, tp + fn)
        out["pooled_f1"] = _ratio(2 * tp, 2 * tp + fp + fn)
        ious = [
            r["mean_matched_iou"]
            for r in matched
            if not math.isnan(r["mean_matched_iou"])
        ]
        out["mean_matched_iou"] = float(np.mean(ious)) if ious else math.nan
    else:
        for k in (
            "mean_f1",
            "pooled_precision",
            "pooled_recall",
            "pooled_f1",
            "mean_matched_iou",
        ):
            out[k] = math.nan
    return out


# --------------------------------------------------------------------------
# Snakemake rule `evaluate`
# --------------------------------------------------------------------------

#: Columns of results/evaluation.csv.
EVALUATION_COLUMNS = ("image", "dataset", *METRICS)
#: Columns of results/evaluation_summary.csv (one row for all images, then
#: one per dataset of the truth CSV).
SUMMARY_COLUMNS = (
    "dataset",
    "n_images",
    "mean_count_error",
    "pooled_count_error",
    "total_true",
    "total_found",
    "n_matched_images",
    "mean_f1",
    "pooled_precision",
    "pooled_recall",
    "pooled_f1",
    "mean_matched_iou",
)


def truth_counts(rows, image_ids):
    """{image id: (true_count, dataset)} from the rows of a truth CSV.

    Parameters
    ----------
    rows : iterable of dict
        With ``image`` (an image id, or a path whose file name without its
        suffix is the id) and ``true_count``; ``dataset`` optional.
    image_ids : collection of str
        The ids of the run; rows of other images are ignored.

    Raises
    ------
    ValueError
        For a missing column or a true_count that is no integer >= 0.
    """
    ids = set(image_ids)
    result = {}
    for number, row in enumerate(rows, start=2):
        if "image" not in row or "true_count" not in row:
            raise ValueError("the truth CSV needs the columns image and true_count")
        value = row["image"]
        image = value if value in ids else Path(value).stem
        if image not in ids:
            continue
        try:
            count = int(row["true_count"])
        except ValueError:
            count = -1
        if count < 0:
            raise ValueError(
                f"line {number}: true_count {row['true_count']!r} is not an integer >= 0"
            )
        result[image] = (count, row.get("dataset") or "")
    return result


def count_record(true_count, found_count):
    """The metrics of one image known by its true count only (the matching
    metrics are nan)."""
    record = {key: math.nan for key in METRICS}
    record.update(
        true_count=true_count,
        found_count=found_count,
        count_error=count_error(true_count, found_count),
    )
    return record


def table_text(rows, columns):
    """CSV text of dict rows (numbers as shortest exact text, nan empty)."""
    return rows_text(columns, rows)


def summary_rows(records):
    """Rows of evaluation_summary.csv: ``all``, then one per dataset."""
    groups = {"all": records}
    for record in records:
        if record["dataset"]:
            groups.setdefault(record["dataset"], []).append(record)
    return [{"dataset": name, **summarize(group)} for name, group in groups.items()]


def run(input, output, params, log):
    """Snakemake entry point: label JSONs (+ label TIFFs) and the truth ->
    results/evaluation.csv and results/evaluation_summary.csv."""
    with job_log(log[0], "evaluate", f"{len(input.stats)} images") as note:
        found = {}
        for path in input.stats:
            stats = read_json(path)
            found[stats["image"]] = stats["objects"]
        counts = {}
        if input.counts:
            with open(input.counts[0], newline="", encoding="utf-8") as handle:
                try:
                    counts = truth_counts(csv.DictReader(handle), found)
                except ValueError as error:
                    raise ValueError(f"{input.counts[0]}: {error}") from None
        truth_files = set(input.truth_labels)
        predicted = {Path(path).stem: path for path in input.labels}
        records = []
        for image in sorted(found):
            truth_path = truth_label_path(params.evaluation, image)
            true_count, dataset = counts.get(image, (None, ""))
            if truth_path in truth_files and image in predicted:
                labels, _ = read_tiff(predicted[image])
                truth = open_image(
                    truth_path, volume="3d", max_pixels=params.max_pixels
                ).pixels
                record = evaluate_image(
                    labels,
                    true_labels=truth,
                    true_count=true_count,
                    iou_threshold=params.evaluation["iou_threshold"],
                )
            elif true_count is not None:
                record = count_record(true_count, found[image])
            else:
                continue
            records.append({"image": image, "dataset": dataset, **record})
        note(f"{len(records)} of {len(found)} images have ground truth")
        write_text(output.csv, table_text(records, EVALUATION_COLUMNS))
        write_text(output.summary, table_text(summary_rows(records), SUMMARY_COLUMNS))
