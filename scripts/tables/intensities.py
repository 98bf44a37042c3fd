"""Intensities of every object in other channels: one table per image.

Snakemake rule: ``intensities`` (``workflow/rules/intensities.smk``; only
with ``measure.channels`` set). Reads the label image and each channel to
measure (:func:`scripts.config.params.measured_channels`: a screen's
channel files, or channels of the segmented file); writes
``results/intensities/<image>.csv``: ``label`` then, per channel, the mean,
integrated, maximum and standard deviation of its intensity
(``<channel>_mean_intensity``, ...; :func:`scripts.algorithms.measure.channel_intensities`).
Rule ``objects`` joins it to the label step's table by label; rule ``wells``
averages it per well.
"""

from __future__ import annotations

import numpy as np

from scripts.algorithms.measure import INTENSITY_STATISTICS, channel_intensities, object_pixels
from scripts.config.params import channel_column
from scripts.imaging import list_channels, open_image, read_tiff, write_text
from scripts.runtime.jobs import job_log
from scripts.tables.csvtext import columns_text


def intensity_columns(name):
    """The column names of one channel, in order."""
    return [f"{name}_{statistic}_intensity" for statistic in INTENSITY_STATISTICS]


def expand_all(channel, segmented):
    """Channel specs of ``all`` in one file: every channel but `segmented`
    (the config's ``channel``: an index or a name), of the scene
    ``channel["reading"]`` reads."""
    names = list_channels(channel["path"], scene=channel["reading"].get("scene"))
    specs = []
    for index, name in enumerate(names):
        if segmented in (index, name):
            continue
        specs.append(
            {
                "name": channel_column(name or index),
                "path": channel["path"],
                "reading": {**channel["reading"], "channel": index},
            }
        )
    return specs


def intensity_table(labels, channels):
    """The columns of the table: ``label`` and each channel's statistics.

    Parameters
    ----------
    labels : ndarray of int
    channels : sequence of (str, ndarray)
        Name and pixels of each channel, the shape of `labels`.
    """
    table = {}
    objects = object_pixels(labels)
    for name, pixels in channels:
        measured = channel_intensities(labels, pixels, objects)
        table.setdefault("label", measured["label"])
        for statistic, column in zip(INTENSITY_STATISTICS, intensity_columns(name)):
            table[column] = measured[statistic]
    return table


def run(input, output, params, log):
    """Snakemake entry point: label TIFF + channels -> results/intensities/<image>.csv."""
    with job_log(log[0], "intensities", params.source) as note:
        labels, _ = read_tiff(input.labels)
        specs = []
        for channel in params.channels:
            specs.extend(expand_all(channel, params.segmented) if channel.get("all") else [channel])
        channels = []
        for spec in specs:
            pixels = open_image(spec["path"], **spec["reading"]).pixels
            if pixels.shape != labels.shape:
                raise ValueError(
                    f"channel {spec['name']} ({spec['path']}) has shape {pixels.shape}, "
                    f"the label image {labels.shape}"
                )
            channels.append((spec["name"], pixels))
        # `all` on a file of one channel measures none: the objects stay listed
        table = intensity_table(labels, channels) if channels else {"label": np.unique(labels[labels > 0])}
        write_text(output.csv, columns_text(table))
        note(f"{len(next(iter(table.values())))} objects in {len(channels)} channels: "
             f"{', '.join(name for name, _ in channels)}")
