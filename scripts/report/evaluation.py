"""The evaluation against ground truth for the report: a plot and an HTML page.

Snakemake rule: ``report_evaluation`` (``workflow/rules/report.smk``; only
with ``evaluation`` configured). Reads ``results/evaluation.csv`` and
``results/evaluation_summary.csv``; writes ``results/report/evaluation.png``
(:func:`scripts.report.figures.evaluation_figure`) and
``results/report/evaluation.html`` (both tables, numbers rounded for reading,
the CSV files as downloads inside the page).
"""

from __future__ import annotations

import csv
import io
import math

from scripts.imaging import write_text
from scripts.report import figures
from scripts.report import html as report_html
from scripts.runtime.jobs import job_log

#: Columns shown as whole numbers; every other number is rounded to 3 decimals.
WHOLE = ("true_count", "found_count", "tp", "fp", "fn", "n_images", "total_true",
         "total_found", "n_matched_images")  # fmt: skip


def read_rows(text):
    """Rows (dicts of str) and the column names of a CSV text."""
    reader = csv.DictReader(io.StringIO(text))
    return list(reader), list(reader.fieldnames or [])


def shown(column, value):
    """A cell as the page shows it: '' stays '', whole numbers stay, other
    numbers to 3 decimals, text as it is."""
    if value == "" or column in ("image", "dataset"):
        return value
    number = float(value)
    if column in WHOLE:
        return str(int(number))
    return "inf" if math.isinf(number) else f"{number:.3f}"


def table(rows, columns):
    return report_html.table(
        columns,
        [[shown(name, row[name]) for name in columns] for row in rows],
        numeric=[name for name in columns if name not in ("image", "dataset")],
    )


def evaluation_html(per_image_text, summary_text):
    """The page: the summary (all images, then per data set), then every image."""
    images, image_columns = read_rows(per_image_text)
    summary, summary_columns = read_rows(summary_text)
    body = (
        report_html.paragraph(
            f"{len(images)} images with ground truth. count_error = |found - true| / true "
            "per image (mean over images; pooled: over the totals); precision, recall "
            "and F1 of objects matched to a true object at the configured IoU."
        )
        + report_html.download_link("evaluation_summary.csv", summary_text)
        + table(summary, summary_columns)
        + "<h2>Per image</h2>\n"
        + report_html.download_link("evaluation.csv", per_image_text)
        + table(images, image_columns)
    )
    return report_html.page("Accuracy against the ground truth (results/evaluation.csv)", body)


def run(input, output, log):
    """Snakemake entry point: the evaluation CSVs -> evaluation.png, evaluation.html."""
    with job_log(log[0], "report_evaluation", input.csv) as note:
        with open(input.csv, encoding="utf-8", newline="") as handle:
            per_image = handle.read()
        with open(input.summary, encoding="utf-8", newline="") as handle:
            summary = handle.read()
        rows, _ = read_rows(per_image)

        def number(row, column):
            return float(row[column]) if row.get(column) not in (None, "") else math.nan

        figures.render(
            figures.evaluation_figure,
            output.plot,
            [number(row, "true_count") for row in rows],
            [number(row, "found_count") for row in rows],
            [number(row, "f1") for row in rows],
            [row.get("dataset", "") for row in rows],
        )
        write_text(output.table, evaluation_html(per_image, summary))
        note(f"{len(rows)} images evaluated")
