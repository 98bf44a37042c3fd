"""Which images the workflow processes, and under which id.

Used by ``workflow/rules/common.smk`` when the workflow starts. An image's id
is its file name without the last suffix (``plate 1.well.tif`` ->
``plate 1.well``); it names every output (``results/<step>/<id>.tif``).
"""

from __future__ import annotations

import csv
import glob
import os
from collections import Counter
from pathlib import Path

GLOB_CHARACTERS = set("*?[")


class DiscoveryError(ValueError):
    """The configured input cannot give an unambiguous list of images."""


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
        and Path(path).is_file()
    )


def read_sample_sheet(sheet_path):
    """Rows of a TSV sample sheet with columns ``id`` and ``path``.

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
        pairs.append((row["id"], str(path)))
    return pairs


def index_images(pairs, origin):
    """Dict id -> path, refusing ids that collide or are unusable as file names.

    `origin` names where the pairs came from, for the error message.
    """
    images = {}
    for identifier, path in pairs:
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
    """Dict id -> path of every image the configuration selects, sorted by id."""
    if config.get("samples"):
        return index_images(
            read_sample_sheet(config["samples"]), f"sample sheet {config['samples']}"
        )
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
    return index_images(((image_id(path), path) for path in candidates), origin)
