"""Per-object tables: one CSV per image (label step) and the combined table.

Snakemake rules: ``label`` writes ``results/objects/<image>.csv`` with
:func:`objects_csv`; rule ``objects`` combines them into
``results/objects.csv`` (:func:`combine_tables`), reading only those CSVs.
Columns: ``image`` then those of :func:`scripts.algorithms.measure.measure_objects`.
The same inputs give the same bytes (floats as their shortest exact text,
``nan`` as an empty cell).
"""

from __future__ import annotations

import csv
import io
import os

from scripts.imaging import write_text
from scripts.tables.csvtext import columns_text
from scripts.runtime.jobs import job_log


def objects_csv(image_id, table):
    """CSV text of one image's measurements.

    Parameters
    ----------
    image_id : str
    table : dict of str -> 1-D array
        Columns of equal length, as
        :func:`scripts.algorithms.measure.measure_objects` returns them.

    Returns
    -------
    str
        A header ``image,<columns>`` and one line per object (a header alone
        for an image without objects).
    """
    count = len(next(iter(table.values()))) if table else 0
    return columns_text({"image": [image_id] * count, **table})


def join_by_label(image_id, objects_text=None, intensities_text=None):
    """One image's objects table with its intensities table joined by
    label: ``image, label``, the objects' columns, the intensities'. Either
    may be missing (None)."""
    if intensities_text is None:
        return objects_text
    intensities = list(csv.reader(io.StringIO(intensities_text)))
    header, rows = intensities[0], {row[0]: row[1:] for row in intensities[1:]}
    if objects_text is None:
        lines = [["image", *header]] + [[image_id, label, *row] for label, row in rows.items()]
    else:
        objects = list(csv.reader(io.StringIO(objects_text)))
        label_at = objects[0].index("label")
        empty = [""] * (len(header) - 1)
        lines = [objects[0] + header[1:]] + [
            row + rows.get(row[label_at], empty) for row in objects[1:]
        ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue()


def combine_tables(texts):
    """One CSV of several :func:`objects_csv` texts, in the order given.

    Images of one run usually share their columns, and the rows are then
    joined as they are. Otherwise (some images with a pixel size, some
    without) the header is the union of the columns in order of first
    appearance, and missing cells are empty.
    """
    texts = list(texts)
    headers = [text.split("\n", 1)[0] for text in texts]
    if not texts:
        return ""
    if len(set(headers)) == 1:
        parts = [texts[0]] + [text.split("\n", 1)[1] for text in texts[1:]]
        return "".join(parts)
    columns = []
    for header in headers:
        for name in next(csv.reader([header])):
            if name not in columns:
                columns.append(name)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    for text in texts:
        writer.writerows(csv.DictReader(io.StringIO(text)))
    return buffer.getvalue()


def image_of(path):
    """The image id of a per-image table ``<folder>/<id>.csv``."""
    return os.path.basename(path)[: -len(".csv")]


def run(input, output, log):
    """Snakemake entry point: every results/objects/<image>.csv (and
    results/intensities/<image>.csv) -> results/objects.csv."""
    objects = {image_of(path): path for path in input.tables}
    intensities = {image_of(path): path for path in input.intensities}
    images = sorted(set(objects) | set(intensities))
    with job_log(log[0], "objects", f"{len(images)} images") as note:

        def text(paths, image):
            if image not in paths:
                return None
            with open(paths[image], encoding="utf-8") as handle:
                return handle.read()

        table = combine_tables(
            join_by_label(image, text(objects, image), text(intensities, image)) for image in images
        )
        write_text(output.csv, table)
        note(f"wrote {max(table.count(chr(10)) - 1, 0)} objects of {len(images)} images")
