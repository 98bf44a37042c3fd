"""Step 6, counts: one table row per image, from the label step's side files.

Snakemake rule: ``counts``. Output: ``results/counts.csv``, sorted by image
id, the same bytes for the same inputs (no timestamps; fixed float format).
"""

from __future__ import annotations

from scripts.imaging import read_json, write_text
from scripts.runtime.jobs import job_log
from scripts.tables.csvtext import cell, rows_text

COLUMNS = (
    "image",
    "source",
    "objects",
    "threshold",
    "threshold_method",
    "foreground_fraction",
    "depth",
    "height",
    "width",
    "dtype",
    "pixel_size_um",
    "z_spacing_um",
    "diameter_px",
    "note",
)


def _number(value):
    """A float column's cell ('' for None)."""
    return cell(None if value is None else float(value))


#: The QC column, after :data:`COLUMNS` when the label step wrote QC flags
#: (config ``qc.enabled``): the reasons to check the image by eye, empty
#: when the count can be trusted (:mod:`scripts.algorithms.qc`).
QC_COLUMN = "qc"


def count_row(stats):
    """The CSV row (dict of str) for one image's label-step statistics.

    `depth` and `z_spacing_um` are empty for 2D images, `diameter_px` (the
    expected object diameter of the threshold step) when no step needed it;
    ``qc`` only when the label step wrote it.
    """
    note = stats.get("threshold_note") or ""
    if not note and stats["objects"] == 0:
        note = "no objects found"
    *depth, height, width = stats["shape"]
    return {
        "image": stats["image"],
        "source": stats["source"],
        "objects": str(stats["objects"]),
        "threshold": _number(stats["threshold"]),
        "threshold_method": stats["threshold_method"],
        "foreground_fraction": f"{stats['foreground_fraction']:.6f}",
        "depth": str(depth[0]) if depth else "",
        "height": str(height),
        "width": str(width),
        "dtype": stats["dtype"],
        "pixel_size_um": _number(stats["pixel_size_um"]),
        "z_spacing_um": _number(stats.get("z_spacing_um")),
        "diameter_px": _number(stats.get("diameter_px")),
        "note": note,
        **({QC_COLUMN: stats[QC_COLUMN]} if QC_COLUMN in stats else {}),
    }


def counts_table(all_stats):
    """CSV text with a header and one row per image, sorted by image id;
    the ``qc`` column when any image has QC flags."""
    rows = sorted((count_row(stats) for stats in all_stats), key=lambda r: r["image"])
    columns = COLUMNS
    if any(QC_COLUMN in row for row in rows):
        columns = (*COLUMNS, QC_COLUMN)
        for row in rows:
            row.setdefault(QC_COLUMN, "")
    return rows_text(columns, rows)


def run(input, output, log):
    """Snakemake entry point: every label JSON -> results/counts.csv."""
    with job_log(log[0], "counts", f"{len(input.stats)} images") as note:
        table = counts_table(read_json(path) for path in input.stats)
        write_text(output.csv, table)
        note(f"wrote {len(input.stats)} rows")
