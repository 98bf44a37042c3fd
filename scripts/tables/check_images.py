"""Find the images that cannot be read, for ``on_unreadable: skip``.

Snakemake checkpoint: ``check_images`` (workflow/rules/check_images.smk),
which only runs when the config key ``on_unreadable`` is ``skip``. It reads
every image exactly as the threshold step does (:func:`scripts.imaging.open_image`
with the same settings) and writes ``results/skipped.csv``: one row per image
that cannot be used, with its id, its file and the reason, sorted by id (only
the header when every image can be read). The workflow then runs the steps
for the other images only, and the counts table leaves the skipped ones out.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

from scripts.imaging import ImageReadError, open_image, write_text
from scripts.runtime.jobs import job_log

COLUMNS = ("image", "source", "reason")


def reading_problem(path, reading):
    """Why `path` cannot be read with the settings `reading` (the keyword
    arguments of :func:`scripts.imaging.open_image`), or None if it can."""
    try:
        open_image(path, **reading)
    except ImageReadError as error:
        return error.problem
    return None


def find_unreadable(images, readings, threads=1):
    """``{id: reason}`` of the images that cannot be read.

    Parameters
    ----------
    images : dict
        Image id -> path.
    readings : dict
        Image id -> keyword arguments of :func:`scripts.imaging.open_image`
        (the config's channel, volume and max_pixels; a scene).
    threads : int
        Images read at the same time (decoding releases the GIL).

    Returns
    -------
    dict, sorted by id.
    """
    items = sorted(images.items())
    with ThreadPoolExecutor(max(1, threads)) as pool:
        problems = pool.map(lambda item: reading_problem(item[1], readings[item[0]]), items)
        found = {image_id: problem for (image_id, _), problem in zip(items, problems)}
    return {image_id: problem for image_id, problem in found.items() if problem}


def skipped_table(images, unreadable):
    """CSV text: a header and one row (image, source, reason) per unreadable
    image, sorted by id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for image_id in sorted(unreadable):
        writer.writerow([image_id, images[image_id], unreadable[image_id]])
    return buffer.getvalue()


def read_skipped(path):
    """``{id: reason}`` from a table written by :func:`skipped_table`."""
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["image"]: row["reason"] for row in csv.DictReader(handle)}


def run(input, output, params, log, threads=1):
    """Snakemake entry point: every raw image -> results/skipped.csv."""
    images = dict(zip(params.ids, input.images))
    with job_log(log[0], "check_images", f"{len(images)} images") as note:
        unreadable = find_unreadable(images, params.readings, threads)
        for image_id, reason in sorted(unreadable.items()):
            note(f"skipped {images[image_id]}: {reason}")
        note(f"{len(images) - len(unreadable)} readable, {len(unreadable)} skipped")
        write_text(output.skipped, skipped_table(images, unreadable))
