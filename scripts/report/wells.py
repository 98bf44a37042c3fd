"""The per-well answers for the report: plate heatmaps and the table.

Snakemake rule: ``report_wells`` (``workflow/rules/report.smk``; only when
the images have wells). Reads ``results/wells.csv``; writes
``results/report/plate.png`` (one heatmap per plate and column of
``screen.heatmaps``, :func:`scripts.report.figures.plate_figure`) and
``results/report/wells.html`` (the table, numbers rounded, the CSV as a
download inside the page).
"""

from __future__ import annotations

import csv
import io
import math

from scripts.config.screens import well_position
from scripts.imaging import write_text
from scripts.report import figures
from scripts.report import html as report_html
from scripts.runtime.jobs import job_log

#: Columns of text; every other column is a number.
TEXT_COLUMNS = ("plate", "well")


def plate_values(rows, columns):
    """``{plate: {(row, column): {name: value}}}`` of the per-well rows."""
    plates = {}
    for row in rows:
        values = {name: float(row[name]) if row.get(name) not in (None, "") else math.nan for name in columns}
        plates.setdefault(row["plate"], {})[well_position(row["well"])] = values
    return plates


def shown(column, value):
    if column in TEXT_COLUMNS or value == "":
        return value
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"


def wells_html(text):
    """The page: the table, rounded, and the CSV as a download."""
    reader = csv.DictReader(io.StringIO(text))
    rows, columns = list(reader), list(reader.fieldnames or [])
    body = (
        report_html.paragraph(
            f"{len(rows)} wells. objects_per_field: objects over the fields of the well; "
            "<channel>_mean_intensity: the mean over the well's objects of their mean "
            "intensity; <channel>_positive_fraction: the fraction of objects above "
            "screen.positive."
        )
        + report_html.download_link("wells.csv", text)
        + report_html.table(
            columns,
            [[shown(name, row[name]) for name in columns] for row in rows],
            numeric=[name for name in columns if name not in TEXT_COLUMNS],
        )
    )
    return report_html.page("Per well (results/wells.csv)", body)


def run(input, output, params, log):
    """Snakemake entry point: wells.csv -> plate.png, wells.html."""
    with job_log(log[0], "report_wells", input.csv) as note:
        with open(input.csv, encoding="utf-8", newline="") as handle:
            text = handle.read()
        reader = csv.DictReader(io.StringIO(text))
        rows, available = list(reader), set(reader.fieldnames or [])
        missing = [name for name in params.heatmaps if name not in available]
        if missing:
            raise ValueError(
                f"screen.heatmaps: {', '.join(missing)} not among the columns of "
                f"wells.csv: {', '.join(reader.fieldnames or [])}"
            )
        figures.render(
            figures.plate_figure,
            output.plot,
            plate_values(rows, params.heatmaps),
            list(params.heatmaps),
            params.plate_format,
        )
        write_text(output.table, wells_html(text))
        note(f"{len(rows)} wells drawn: {', '.join(params.heatmaps)}")
