"""Answers per well: fields, objects, and the intensities of other channels.

Snakemake rule: ``wells`` (``workflow/rules/counts.smk``; only when the
images have wells: a screen's file names, an OME-Zarr plate or a sample
sheet's ``well`` column). Reads each image's label-step JSON (its count)
and intensity table (:mod:`scripts.tables.intensities`); writes
``results/wells.csv``, one row per plate and well in plate order (A01, A02,
..., B01): ``plate, well, fields, objects, objects_per_field``, then per
measured channel ``<channel>_mean_intensity`` (the mean over the well's
objects of their mean intensity) and, for the channels of
``screen.positive``, ``<channel>_positive_fraction`` (the fraction of the
well's objects whose mean intensity is above the configured value).
"""

from __future__ import annotations

import csv
import io
import math

from scripts.config.screens import well_position
from scripts.imaging import read_json, write_text
from scripts.runtime.jobs import job_log
from scripts.tables.csvtext import rows_text

SUFFIX = "_mean_intensity"


def object_means(intensities_text):
    """``{channel: [mean intensity of each object]}`` of one image's
    intensity table."""
    rows = list(csv.DictReader(io.StringIO(intensities_text)))
    columns = [name for name in (rows[0] if rows else _header(intensities_text)) if name.endswith(SUFFIX)]
    return {column[: -len(SUFFIX)]: [float(row[column]) for row in rows] for column in columns}


def _header(text):
    return next(csv.reader(io.StringIO(text)), [])


def well_rows(images, positive=None):
    """The rows of the per-well table.

    Parameters
    ----------
    images : sequence of dict
        One per image: ``plate``, ``well``, ``objects`` (its count) and
        ``means`` (:func:`object_means`; empty without measured channels).
    positive : dict of str -> float or None
        Channel -> intensity above which an object counts as positive.

    Returns
    -------
    list of dict
        Sorted by plate, then row and column of the well.
    """
    positive = positive or {}
    wells = {}
    for image in images:
        well = wells.setdefault((image["plate"], image["well"]), {"fields": 0, "objects": 0, "means": {}})
        well["fields"] += 1
        well["objects"] += image["objects"]
        for channel, values in image["means"].items():
            well["means"].setdefault(channel, []).extend(values)
    channels = sorted({channel for well in wells.values() for channel in well["means"]})
    rows = []
    for (plate, name), well in sorted(wells.items(), key=lambda item: (item[0][0], well_position(item[0][1]))):
        row = {
            "plate": plate,
            "well": name,
            "fields": well["fields"],
            "objects": well["objects"],
            "objects_per_field": well["objects"] / well["fields"],
        }
        for channel in channels:
            values = well["means"].get(channel, [])
            row[f"{channel}{SUFFIX}"] = sum(values) / len(values) if values else math.nan
            if channel in positive:
                above = sum(value > positive[channel] for value in values)
                row[f"{channel}_positive_fraction"] = above / len(values) if values else math.nan
        rows.append(row)
    return rows


def wells_table(rows):
    """CSV text of :func:`well_rows` (columns of the first row)."""
    columns = list(rows[0]) if rows else ["plate", "well", "fields", "objects", "objects_per_field"]
    return rows_text(columns, rows)


def run(input, output, params, log):
    """Snakemake entry point: label JSONs (+ intensity tables) -> results/wells.csv."""
    intensities = dict(zip(params.images, input.intensities)) if input.intensities else {}
    with job_log(log[0], "wells", f"{len(params.images)} images") as note:
        images = []
        for image_id, stats_path in zip(params.images, input.stats):
            means = {}
            if image_id in intensities:
                with open(intensities[image_id], encoding="utf-8") as handle:
                    means = object_means(handle.read())
            place = params.places[image_id]
            images.append({**place, "objects": read_json(stats_path)["objects"], "means": means})
        missing = set(params.positive) - {channel for image in images for channel in image["means"]}
        if missing and images:
            raise ValueError(
                f"screen.positive names {', '.join(sorted(missing))}, which no image "
                "measures: add them to measure.channels"
            )
        rows = well_rows(images, params.positive)
        write_text(output.csv, wells_table(rows))
        note(f"{len(rows)} wells")
