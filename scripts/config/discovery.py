"""Which images the workflow processes, and under which id.

Used by ``workflow/rules/common.smk`` when the workflow starts. An image's id
is its file name without the last suffix (``plate 1.well.tif`` ->
``plate 1.well``); it names every output (``results/<step>/<id>.tif``). In a
screen with one file per channel (config ``screen.file_pattern``) an image
is a field, its files grouped by :mod:`scripts.config.screens`, and its id
names the well and field (``D03_f00``).
"""

from __future__ import annotations

import csv
import glob
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts.config.screens import WELL_NAME, PatternError, group_fields, well_name
from scripts.formats import is_zarr_group, omezarr, reader_for
from scripts.imaging import ImageReadError

GLOB_CHARACTERS = set("*?[")
#: Optional columns of a sample sheet: where an image was taken.
PLACE_COLUMNS = ("plate", "well", "field")


class DiscoveryError(ValueError):
    """The configured input cannot give an unambiguous list of images."""


@dataclass(frozen=True)
class Image:
    """One image of a run: where its pixels are and where it was taken.

    Attributes
    ----------
    path : str
        The file with the channel to segment: every rule that reads the raw
        image depends on it.
    scene : int or None
        Scene, series or position in a file holding several images.
    channels : tuple of (str, str)
        A screen's field: every channel's file, ``(channel, path)``, the
        channel as the file names write it (empty for other images).
    plate, well, field : str
        Where it was taken ("" when unknown): the per-well table groups by them.
    """

    path: str
    scene: int | None = None
    channels: tuple = ()
    plate: str = ""
    well: str = ""
    field: str = ""

    def reading(self, reading):
        """The arguments of :func:`scripts.imaging.open_image` for this image:
        the config's `reading` (channel, volume, max_pixels) with its scene,
        and no channel for a field's file (one channel per file)."""
        changed = dict(reading)
        if self.channels:
            changed["channel"] = None
        if self.scene is not None:
            changed["scene"] = self.scene
        return changed

    def record(self):
        """This image as ``results/run.yaml`` records it: its path alone for
        a plain file, else every field that is set."""
        fields = {k: v for k, v in asdict(self).items() if v not in (None, "", ())}
        if set(fields) == {"path"}:
            return self.path
        if "channels" in fields:
            fields["channels"] = dict(self.channels)
        return fields

    @classmethod
    def from_record(cls, value):
        """The image :meth:`record` wrote."""
        if isinstance(value, str):
            return cls(value)
        value = dict(value)
        value["channels"] = tuple(sorted(value.get("channels", {}).items()))
        return cls(**value)


def image_id(path):
    """The id of an image file: its name without the last suffix."""
    return Path(path).stem


def list_candidates(input_spec, extensions):
    """Files named by `input_spec` (a folder or a glob) with an allowed suffix.

    An existing folder is always taken as a folder, even when its name has
    glob characters (``data [2024]``). Suffixes compare case-insensitively
    (``.TIF`` counts as ``.tif``). Hidden files (``._a.tif``, left by macOS
    on shared drives) are not images and are passed over. Returns paths as
    strings, sorted, so the result never depends on the order in which the
    file system lists a folder.
    """
    allowed = {ext.lower() for ext in extensions}
    folder = Path(input_spec)
    if folder.is_dir() and folder.suffix.lower() in allowed and is_zarr_group(folder):
        return [str(folder)]  # an OME-Zarr image or plate given itself
    if folder.is_dir():
        paths = [str(path) for path in folder.iterdir()]
    elif GLOB_CHARACTERS & set(input_spec):
        paths = glob.glob(input_spec, recursive=True)
    else:
        raise DiscoveryError(
            f"input {input_spec!r} is neither a folder nor a glob pattern "
            "(config key 'input')"
        )
    return sorted(
        path
        for path in paths
        if Path(path).suffix.lower() in allowed
        and not Path(path).name.startswith(".")
        and (Path(path).is_file() or is_zarr_group(path))
    )


def read_sample_sheet(sheet_path):
    """Rows of a TSV sample sheet with columns ``id`` and ``path``:
    ``(id, path)`` pairs, or with any of the optional columns ``plate``,
    ``well``, ``field``, ``(id, path, {column: value})``.

    Relative paths are taken relative to the sheet's folder.
    """
    sheet = Path(sheet_path)
    if not sheet.is_file():
        raise DiscoveryError(f"sample sheet {sheet_path} not found (config key 'samples')")
    with open(sheet, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        # (file line number, row): DictReader skips blank lines.
        rows = [(reader.line_num, row) for row in reader]
        columns = reader.fieldnames or []
    if not {"id", "path"} <= set(columns):
        raise DiscoveryError(
            f"sample sheet {sheet_path} must have the tab-separated columns "
            f"'id' and 'path'; found {sorted(columns)}"
        )
    pairs = []
    for line, row in rows:
        if not row["id"] or not row["path"]:
            raise DiscoveryError(
                f"sample sheet {sheet_path}, line {line}: needs both an id and "
                f"a path, separated by a tab; found {row['id']!r} and {row['path']!r}"
            )
        path = Path(row["path"])
        if not path.is_absolute():
            path = sheet.parent / path
        if not path.is_file():
            raise DiscoveryError(
                f"sample sheet {sheet_path}, line {line}: image {row['path']!r} "
                f"of id {row['id']!r} not found"
            )
        place = {column: row[column] or "" for column in PLACE_COLUMNS if column in columns}
        if "well" in place:
            place["well"] = sheet_well(sheet_path, line, place["well"])
        pairs.append((row["id"], str(path), place) if place else (row["id"], str(path)))
    if len({bool(pair[2]["well"]) for pair in pairs if len(pair) > 2 and "well" in pair[2]}) > 1:
        raise DiscoveryError(
            f"sample sheet {sheet_path}: some rows have a well and others none; "
            "give every image its well, or leave the column out"
        )
    return pairs


def sheet_well(sheet_path, line, well):
    """The well of a sample sheet's row as plates print it (``b2`` -> ``B02``);
    "" for none."""
    if not well:
        return ""
    parts = WELL_NAME.fullmatch(well.strip())
    if not parts:
        raise DiscoveryError(
            f"sample sheet {sheet_path}, line {line}: well {well!r} is not a row "
            "letter and a column number (B02, AF48)"
        )
    return well_name(*parts.groups())


def index_images(pairs, origin):
    """Dict id -> path, refusing ids that collide or are unusable as file names.

    `origin` names where the pairs came from, for the error message.
    """
    images = {}
    for identifier, path, *_ in pairs:
        if (
            not identifier
            or identifier.startswith(".")
            or any(character in identifier for character in "/{}")
        ):
            raise DiscoveryError(
                f"{origin}: image id {identifier!r} (from {path}) is not usable "
                "as a file name: it must be non-empty, without '/', '{' or '}' "
                "(Snakemake reads braces as wildcards), and not start with '.'; "
                "rename the file or give it an id in a sample sheet"
            )
        if identifier in images:
            raise DiscoveryError(
                f"{origin}: two images have the id {identifier!r}: "
                f"{images[identifier]} and {path}. Ids are file names without "
                "their suffix and must be unique; rename one or use a sample sheet."
            )
        images[identifier] = path
    if not images:
        raise DiscoveryError(f"{origin}: no images found")
    return dict(sorted(images.items()))


def images_in_subfolders(folder, extensions):
    """Files with an allowed suffix in the subfolders of `folder` (not in the
    folder itself), sorted: what a recursive glob would take."""
    allowed = {ext.lower() for ext in extensions}
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        if Path(root) == Path(folder):
            continue
        found.extend(
            str(Path(root, name))
            for name in sorted(files)
            if Path(name).suffix.lower() in allowed and not name.startswith(".")
        )
    return found


def discover_images(config):
    """Dict id -> :class:`Image` of every image the configuration selects,
    sorted by id."""
    if config.get("samples"):
        origin = f"sample sheet {config['samples']}"
        rows = read_sample_sheet(config["samples"])
        paths = index_images(rows, origin)
        places = {row[0]: row[2] for row in rows if len(row) > 2}
        return {
            identifier: Image(path, **places.get(identifier, {}))
            for identifier, path in paths.items()
        }
    candidates = list_candidates(config["input"], config["extensions"])
    origin = (
        f"input {config['input']!r} (extensions {', '.join(config['extensions'])})"
    )
    if not candidates and Path(config["input"]).is_dir():
        nested = images_in_subfolders(config["input"], config["extensions"])
        if nested:
            suffix = Counter(Path(path).suffix for path in nested).most_common(1)[0][0]
            pattern = str(Path(config["input"]) / "**" / f"*{suffix}")
            raise DiscoveryError(
                f"{origin}: no images in the folder itself, but {len(nested)} in its "
                f"subfolders (e.g. {nested[0]}): to take them, set input to a "
                f"glob, e.g. --config 'input={pattern}'"
            )
    screen = config.get("screen") or {}
    if screen.get("file_pattern") and candidates:
        return screen_images(candidates, screen, config.get("channel"), origin)
    found = list(contained_images(candidates))
    ids = index_images(((identifier, image.path) for identifier, image in found), origin)
    images = dict(found)
    return {identifier: images[identifier] for identifier in ids}


def contained_images(paths):
    """``(id, Image)`` of every image in the files `paths`: a file holding
    several (the scenes of a CZI, the positions of an ND2, the series of a
    LIF, the fields of an OME-Zarr plate) gives one per scene, with the id
    ``<file>_s<k>`` (``<well>_f<field>`` in a plate, with the plate's name
    first when there are several plates); any other file is one image.

    Only the headers of those formats are read. A file whose header cannot
    be read (corrupt, or its reader not installed) is one image: its job
    says what is wrong, and with --keep-going the others finish.
    """
    plates = []
    for path in paths:
        reader = reader_for(path)
        if reader is None:
            yield image_id(path), Image(path)
            continue
        try:
            listed = reader.scenes(path)
            plate = reader is omezarr and omezarr.is_plate(path)
            fields = omezarr.plate_fields(path) if plate else None
        except ImageReadError:
            yield image_id(path), Image(path)
            continue
        if fields is not None:
            plates.append((path, fields))
        elif len(listed) > 1:
            for index, _ in listed:
                yield f"{image_id(path)}_s{index}", Image(path, scene=index)
        else:
            yield image_id(path), Image(path)
    for path, fields in plates:
        prefix = f"{image_id(path)}_" if len(plates) > 1 else ""
        for index, (well, field, _) in enumerate(fields):
            yield (
                f"{prefix}{well}_f{field}",
                Image(path, scene=index, plate=image_id(path), well=well, field=str(field)),
            )


def screen_images(paths, screen, channel, origin):
    """The fields of a screen (one file per channel) as images, by id."""
    names = screen.get("channel_names") or {}
    wanted = str(channel) if channel is not None else None
    # The channel to segment may be given by its name in the tables.
    by_name = {name: written for written, name in names.items()}
    wanted = by_name.get(wanted, wanted)
    try:
        fields = group_fields(paths, screen["file_pattern"], wanted, origin)
    except PatternError as error:
        raise DiscoveryError(str(error)) from None
    index_images(((key, group["channels"][wanted]) for key, group in fields), origin)
    return {
        key: Image(
            group["channels"][wanted],
            channels=tuple(sorted(group["channels"].items())),
            plate=group["plate"],
            well=group["well"],
            field=group["field"] + (f"p{group['plane']}" if group["plane"] else ""),
        )
        for key, group in fields
    }
