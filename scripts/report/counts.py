"""The counts of the whole run for the report: a plot and an HTML table.

Snakemake rule: ``report_counts`` (``workflow/rules/report.smk``). Reads
``results/counts.csv``; writes ``results/report/counts.png`` (objects per
image, :func:`scripts.report.figures.counts_figure`) and
``results/report/counts.html`` (the table, numbers rounded for reading,
with the CSV itself, every digit kept, as a download inside the page).
"""

from __future__ import annotations

import csv
import io
import statistics

from scripts.report import figures
from scripts.report import html as report_html
from scripts.imaging import write_text
from scripts.runtime.jobs import job_log

NUMERIC_COLUMNS = (
    "objects",
    "threshold",
    "foreground_fraction",
    "depth",
    "height",
    "width",
    "pixel_size_um",
    "z_spacing_um",
    "diameter_px",
)
#: How the page shows a number of these columns (the CSV keeps every digit).
ROUNDED = {
    "threshold": "{:.4g}",
    "foreground_fraction": "{:.4f}",
    "pixel_size_um": "{:.4g}",
    "z_spacing_um": "{:.4g}",
    "diameter_px": "{:.1f}",
}
#: What the columns that are easy to misread mean.
COLUMN_NOTES = (
    "threshold: in the intensity units of the image the threshold was computed "
    "on (after smoothing and background correction when they are on). "
    "foreground_fraction: the fraction of the image inside objects of the label "
    "image, so after morphology and cleanup; the threshold step's own foreground "
    "fraction, before them, is in its log (logs/threshold/<image>.log). "
    "diameter_px: the expected object diameter d the steps used, when one needed it."
)
#: What the ``qc`` column means (on the page only when the table has it).
QC_NOTE = (
    " qc: why the count should be checked by eye: unstable count (it changes by "
    "more than half when the threshold moves by 15%), objects far below d, "
    "d re-estimated (a few very bright objects misled the first estimate of d), "
    "foreground over half the image, no objects; empty when fine."
)


def read_counts(text):
    """Rows (dicts of str) of a counts table given as CSV text."""
    return list(csv.DictReader(io.StringIO(text)))


def flagged(row):
    """Whether a counts row asks to be checked by eye: a note (constant
    image, no objects) or a QC flag (the ``qc`` column, when there is one)."""
    return bool(row["note"] or row.get("qc"))


def summary(rows):
    """One sentence about the run: images, objects, flagged images."""
    if not rows:
        return "No images."
    objects = [int(row["objects"]) for row in rows]
    noted = sum(1 for row in rows if flagged(row))
    what = "a note or a QC flag" if "qc" in rows[0] else "a note"
    return (
        f"{plural(len(rows), 'image')}, {plural(sum(objects), 'object')} "
        f"(per image: min {min(objects)}, median {statistics.median(objects):g}, "
        f"max {max(objects)}); {plural(noted, 'image')} with {what} (highlighted)."
    )


def plural(count, noun):
    """'1 image', '2 images'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def shown(column, value):
    """The text of one cell on the page: numbers of :data:`ROUNDED` columns
    rounded, everything else as in the CSV."""
    if value == "" or column not in ROUNDED:
        return value
    return ROUNDED[column].format(float(value))


def counts_html(rows, columns, csv_text=None):
    """The counts table as an HTML page, rows with a note highlighted, and
    `csv_text` (the CSV file) as a download."""
    body = (
        report_html.paragraph(summary(rows), "summary")
        + (report_html.download_link("counts.csv", csv_text) if csv_text else "")
        + report_html.table(
            columns,
            [[shown(name, row[name]) for name in columns] for row in rows],
            numeric=NUMERIC_COLUMNS,
            flagged=[flagged(row) for row in rows],
        )
        + report_html.paragraph(COLUMN_NOTES + (QC_NOTE if "qc" in columns else ""), "note")
    )
    return report_html.page("Objects per image (results/counts.csv)", body)


def run(input, output, log):
    """Snakemake entry point: counts.csv -> counts.png, counts.html."""
    with job_log(log[0], "report_counts", input.counts) as note:
        with open(input.counts, encoding="utf-8", newline="") as handle:
            text = handle.read()
        rows = read_counts(text)
        columns = next(csv.reader(io.StringIO(text)), [])
        figures.render(
            figures.counts_figure,
            output.plot,
            [row["image"] for row in rows],
            [int(row["objects"]) for row in rows],
            [flagged(row) for row in rows],
        )
        write_text(output.table, counts_html(rows, columns, text))
        note(summary(rows))
