"""The text of every CSV table the workflow writes: one number format.

Numbers are written as the shortest text that reads back as the same value
(``repr``), integers without a decimal point, missing values (None, NaN) as
empty cells, and lines end with ``\\n``, so the same values always give the
same bytes.
"""

from __future__ import annotations

import csv
import io
import math
import numbers


def cell(value):
    """The text of one table cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    value = float(value)
    return "" if math.isnan(value) else repr(value)


def rows_text(columns, rows):
    """CSV text of `rows` (dicts, or sequences in the order of `columns`)
    under a header of `columns`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = (row[name] for name in columns) if isinstance(row, dict) else row
        writer.writerow([cell(value) for value in values])
    return buffer.getvalue()


def columns_text(table):
    """CSV text of a table given as columns: a dict of name -> equally long
    1-D sequences (the header alone when they are empty)."""
    names = list(table)
    count = len(table[names[0]]) if names else 0
    return rows_text(names, ([table[name][i] for name in names] for i in range(count)))
