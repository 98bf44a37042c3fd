"""Small self-contained HTML pages for the Snakemake report.

The report viewer shows images, PDFs and HTML, but nothing for a CSV, TSV or
YAML file; tables are therefore written as HTML pages (no scripts, no
external resources, inline CSS), each with the file itself as a download link
inside the page. Pure functions returning text.
"""

from __future__ import annotations

import base64
from html import escape

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
       font-size: 14px; margin: 1.2em; color: #1f2328; background: #fff; }
h1 { font-size: 1.3em; margin: 0 0 0.6em 0; }
h2 { font-size: 1.1em; margin: 1.2em 0 0.4em 0; }
p.summary { margin: 0 0 1em 0; }
p.note { color: #57606a; max-width: 60em; }
a.download { display: inline-block; margin: 0 0 1em 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.flagged td { background: #ffebe9; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 0.8em;
      overflow-x: auto; }
"""


def page(title, body):
    """A complete HTML document with `title` (escaped) and `body` (HTML)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{escape(title)}</h1>\n{body}</body>\n</html>\n"
    )


def table(header, rows, numeric=(), flagged=None):
    """An HTML table; every cell is escaped.

    Parameters
    ----------
    header : sequence of str
    rows : sequence of sequences of str
    numeric : collection of str
        Columns to right-align.
    flagged : sequence of bool or None
        Rows to highlight (one per row).
    """
    numeric = set(numeric)
    lines = ["<table>", "<thead><tr>"]
    lines.extend(f"<th>{escape(name)}</th>" for name in header)
    lines.append("</tr></thead>\n<tbody>")
    flagged = flagged or [False] * len(rows)
    for row, flag in zip(rows, flagged):
        cells = "".join(
            f'<td class="number">{escape(str(value))}</td>'
            if name in numeric
            else f"<td>{escape(str(value))}</td>"
            for name, value in zip(header, row)
        )
        lines.append(f'<tr class="flagged">{cells}</tr>' if flag else f"<tr>{cells}</tr>")
    lines.append("</tbody>\n</table>\n")
    return "\n".join(lines)


def preformatted(text):
    """Text in a <pre> block, escaped."""
    return f"<pre>{escape(text)}</pre>\n"


def paragraph(text, css_class=None):
    """One escaped paragraph."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>\n"


def download_link(filename, text, mime="text/csv"):
    """A link that saves `text` as `filename`, its bytes inside the link (a
    data: URL), so that the page stays one self-contained file."""
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="download" download="{escape(filename)}" '
        f'href="data:{mime};charset=utf-8;base64,{data}">Download {escape(filename)}</a>\n'
    )
