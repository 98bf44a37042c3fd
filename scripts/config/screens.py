"""Screens: plates of wells, fields per well, one file per channel.

Acquisition software names every file after its plate, well, field (site)
and channel. A file-name pattern (config ``screen.file_pattern``) says how;
the files of one field are grouped into one image of the workflow, segmented
in one channel (config ``channel``) and measured in the others.

A pattern is one of the conventions of :data:`CONVENTIONS` by name, a
template with the placeholders ``{plate}``, ``{well}``, ``{row}``,
``{column}``, ``{field}``, ``{plane}`` and ``{channel}`` (the rest of the name
literally; ``{plate}`` and ``{field}`` may be missing), or a regular
expression with groups of those names. It is matched against the file name
without its suffix; text after the match (e.g. the GUID ImageXpress appends)
is ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Ready-made patterns, as regular expressions.
CONVENTIONS = {
    # Molecular Devices ImageXpress: IXMtest_B02_s9_w1<GUID>.tif
    "imagexpress": r"(?P<plate>.+)_(?P<well>[A-Za-z]{1,2}\d{1,2})_s(?P<field>\d+)_w(?P<channel>\d)",
    # CellProfiler's ExampleHuman: AS_09125_050116030001_D03f00d0.tif
    "cellprofiler": r"(?P<plate>.+)_(?P<well>[A-Za-z]{1,2}\d{1,2})f(?P<field>\d+)d(?P<channel>\d+)",
    # PerkinElmer Opera / Operetta (Harmony): r01c01f01p01-ch1sk1fk1fl1.tiff
    "operetta": r"r(?P<row>\d{2})c(?P<column>\d{2})f(?P<field>\d{2})p(?P<plane>\d{2})-ch(?P<channel>\d+)",
}
#: What each placeholder of a template matches.
PLACEHOLDERS = {
    "plate": r".+?",
    "well": r"[A-Za-z]{1,2}\d{1,2}",
    "row": r"[A-Za-z]{1,2}|\d{1,2}",
    "column": r"\d{1,2}",
    "field": r"\d+",
    "plane": r"\d+",
    "channel": r"[A-Za-z0-9]+",
}


class PatternError(ValueError):
    """A file-name pattern that cannot group the files; the message says why."""


def compile_pattern(spec):
    """The regular expression of a pattern (a convention's name, a template
    or a regular expression; see the module's docstring).

    Raises
    ------
    PatternError
        When it has no ``channel`` group, or neither ``well`` nor both
        ``row`` and ``column``.
    """
    text = CONVENTIONS.get(spec, spec)
    if "(?P<" not in text:  # a template: literal text around placeholders
        parts = re.split(r"\{(\w+)\}", text)
        regex = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                regex.append(re.escape(part))
            elif part in PLACEHOLDERS:
                regex.append(f"(?P<{part}>{PLACEHOLDERS[part]})")
            else:
                raise PatternError(
                    f"screen.file_pattern {spec!r}: unknown placeholder {{{part}}}; "
                    f"allowed: {', '.join('{' + name + '}' for name in PLACEHOLDERS)}"
                )
        text = "".join(regex)
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise PatternError(f"screen.file_pattern {spec!r}: not a valid pattern ({error})") from None
    groups = set(pattern.groupindex)
    if "channel" not in groups or not ({"well"} <= groups or {"row", "column"} <= groups):
        raise PatternError(
            f"screen.file_pattern {spec!r} must name the channel and the well (or row "
            f"and column); it has {sorted(groups) or 'no groups'}. Conventions: "
            f"{', '.join(CONVENTIONS)}"
        )
    return pattern


def row_letters(row):
    """A plate row's letters from its number (from 1): 1 -> A, 27 -> AA."""
    letters = ""
    while row:
        row, rest = divmod(row - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def well_name(row, column):
    """A well's name as plates print it: row letter(s) and two-digit column
    (``"B", "2"`` and ``"2", "2"`` give ``B02``)."""
    if row.isdigit():
        row = row_letters(int(row))
    return f"{row.upper()}{int(column):02d}"


#: A well's name: row letter(s) and column number (``B2``, ``B02``, ``AF48``).
WELL_NAME = re.compile(r"([A-Za-z]{1,2})(\d{1,2})")


def well_position(well):
    """``(row, column)``, both from 1, of a well name such as ``B02`` or
    ``AF48`` (1536-well plates)."""
    match = WELL_NAME.fullmatch(well)
    if not match:
        raise ValueError(f"well {well!r} is not a row letter and a column number")
    letters, column = match.groups()
    row = 0
    for letter in letters.upper():
        row = row * 26 + ord(letter) - ord("A") + 1
    return row, int(column)


def file_fields(path, pattern):
    """``{plate, well, field, plane, channel}`` of a file name (suffix
    dropped), or None when `pattern` does not match it."""
    match = pattern.match(Path(path).name.rsplit(".", 1)[0])
    if not match:
        return None
    found = match.groupdict()
    well = found.get("well") or well_name(found["row"], found["column"])
    parts = WELL_NAME.fullmatch(well)
    if not parts:
        raise PatternError(
            f"{path}: screen.file_pattern reads the well {well!r} from its name, "
            "not a row letter and a column number (B02, AF48)"
        )
    well = well_name(*parts.groups())
    return {
        "plate": found.get("plate") or "",
        "well": well,
        "field": found.get("field") or "",
        "plane": found.get("plane") or "",
        "channel": found["channel"],
    }


def field_id(fields, with_plate):
    """The image id of a field: ``[<plate>_]<well>[_f<field>][_p<plane>]``."""
    parts = [fields["plate"]] if with_plate and fields["plate"] else []
    parts.append(fields["well"])
    if fields["field"]:
        parts.append(f"f{fields['field']}")
    if fields["plane"]:
        parts.append(f"p{fields['plane']}")
    return "_".join(parts)


def group_fields(paths, spec, segment_channel, origin):
    """The files of a screen grouped into fields.

    Parameters
    ----------
    paths : sequence of str
        Every file found (sorted).
    spec : str
        The file-name pattern (``screen.file_pattern``).
    segment_channel : str or int
        The channel to segment, as the file names write it (config
        ``channel``).
    origin : str
        Where the files came from, for messages.

    Returns
    -------
    list of (str, dict)
        ``(image id, {plate, well, field, plane, channels})`` per field,
        sorted by id; ``channels`` maps each channel (as written in the file
        names) to its file. The id leaves out the plate when all files are
        of one plate.

    Raises
    ------
    PatternError
        For files the pattern does not match, two files of one field and
        channel, or a field without the channel to segment.
    """
    pattern = compile_pattern(spec)
    parsed = [(path, file_fields(path, pattern)) for path in paths]
    unmatched = [path for path, fields in parsed if fields is None]
    if unmatched:
        examples = ", ".join(Path(path).name for path in unmatched[:3])
        raise PatternError(
            f"{origin}: {len(unmatched)} of {len(paths)} files do not match "
            f"screen.file_pattern {spec!r} (e.g. {examples}); select only the "
            "screen's images with the input glob, or fix the pattern"
        )
    plates = {fields["plate"] for _, fields in parsed}
    groups = {}
    for path, fields in parsed:
        key = field_id(fields, with_plate=len(plates) > 1)
        group = groups.setdefault(key, {**{k: fields[k] for k in ("plate", "well", "field", "plane")}, "channels": {}})
        if fields["channel"] in group["channels"]:
            raise PatternError(
                f"{origin}: two files of field {key}, channel {fields['channel']}: "
                f"{group['channels'][fields['channel']]} and {path}"
            )
        group["channels"][fields["channel"]] = path
    wanted = str(segment_channel) if segment_channel is not None else None
    for key, group in groups.items():
        if wanted not in group["channels"]:
            raise PatternError(
                f"{origin}: field {key} has no file of channel {wanted!r} (config key "
                f"'channel', the channel to segment); its channels: "
                f"{', '.join(sorted(group['channels']))}"
            )
    return sorted(groups.items())
