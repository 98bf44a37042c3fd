"""The counts of the whole run for the report: a plot and an HTML table.

Snakemake rule: ``report_counts`` (``workflow/rules/report.smk``). Reads
``results/counts.csv``; writes ``results/report/counts.png`` (objects per
image, :func:`scripts.figures.counts_figure`) and
``results/report/counts.html`` (the table, which the report viewer shows;
it offers the CSV itself only as a download).
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
    "height",
    "width",
    "pixel_size_um",
)


def read_counts(text):
    """Rows (dicts of str) of a counts table given as CSV text."""
    return list(csv.DictReader(io.StringIO(text)))


def summary(rows):
    """One sentence about the run: images, objects, flagged images."""
    if not rows:
        return "No images."
    objects = [int(row["objects"]) for row in rows]
    flagged = sum(1 for row in rows if row["note"])
    return (
        f"{plural(len(rows), 'image')}, {plural(sum(objects), 'object')} "
        f"(per image: min {min(objects)}, median {statistics.median(objects):g}, "
        f"max {max(objects)}); {plural(flagged, 'image')} with a note (highlighted)."
    )


def plural(count, noun):
    """'1 image', '2 images'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def counts_html(rows, columns):
    """The counts table as an HTML page, rows with a note highlighted."""
    body = report_html.paragraph(summary(rows), "summary") + report_html.table(
        columns,
        [[row[name] for name in columns] for row in rows],
        numeric=NUMERIC_COLUMNS,
        flagged=[bool(row["note"]) for row in rows],
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
            [bool(row["note"]) for row in rows],
        )
        write_text(output.table, counts_html(rows, columns))
        note(summary(rows))
