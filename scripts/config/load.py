"""The configuration of a run: one function from what the user gave to the
validated config every rule reads.

Order (each step's values override the ones before):

1. the schema's defaults (``workflow/schemas/config.schema.yaml``: the
   scikit-image tutorial);
2. the chosen preset's values (:mod:`scripts.config.presets`);
3. the user's values: ``config/config.yaml``, ``--configfile``, ``--config``
   (command-line values typed by the schema, :mod:`scripts.config.schema`).

Then the schema check and the checks it cannot express
(:mod:`scripts.config.checks`): every problem is reported at once, one line
each, before any job runs.
"""

from __future__ import annotations

from pathlib import Path

from scripts.config.checks import settings_errors
from scripts.config.presets import apply_preset, merge
from scripts.config.schema import fill_defaults, load_schema, schema_errors, typed_overrides


class ConfigError(ValueError):
    """The configuration is invalid; ``messages`` has one line per problem."""

    def __init__(self, messages):
        self.messages = list(messages)
        super().__init__("Invalid configuration:\n  " + "\n  ".join(self.messages))


def load_config(config, schema_path, overrides=None, working_folder=".", project=None):
    """The validated configuration, every default filled in.

    Parameters
    ----------
    config : dict
        The user's values as Snakemake merged them (config files, then
        ``--config``); not changed.
    schema_path : str or Path
        The config schema (YAML).
    overrides : dict or None
        The ``--config`` values alone, as Snakemake parsed them (strings
        inside braces and brackets): they are typed by the schema and put
        over `config` again.
    working_folder, project : str or Path
        The working directory and the project folder: relative paths that
        exist only in the project folder are made absolute
        (:func:`resolve_paths`); no change without `project`.

    Returns
    -------
    dict
        A new dict.

    Raises
    ------
    ConfigError
        With every problem found, each naming its key and what is allowed.
    """
    schema = load_schema(schema_path)
    given = merge(config, typed_overrides(overrides or {}, schema))
    try:
        loaded = apply_preset(given)
    except ValueError as error:
        raise ConfigError([str(error)]) from None
    errors = schema_errors(loaded, schema)
    if not errors:
        fill_defaults(loaded, schema)
        errors = settings_errors(loaded)
    if errors:
        raise ConfigError(errors)
    return resolve_paths(loaded, working_folder, project) if project else loaded


#: Config keys that name files or folders (``evaluation.labels`` is a pattern
#: with ``{image}``, ``input`` may be a glob).
PATH_KEYS = (("input",), ("samples",), ("evaluation", "counts"), ("evaluation", "labels"))


def _anchor(path):
    """The leading part of `path` without glob characters or ``{image}``:
    what must exist for the path to mean anything."""
    parts = []
    for part in Path(path).parts:
        if any(character in part for character in "*?[{"):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def resolve_paths(config, workdir, project):
    """`config` with its relative paths made to work from `workdir`.

    A relative path is relative to the working directory (Snakemake's
    ``--directory``) when it exists there; otherwise to the project folder
    when it exists there (so the project's own config, e.g. ``input:
    example/images``, works from any working directory), and is then made
    absolute. In the project folder itself nothing changes. Returns a new
    dict.
    """
    resolved = merge(config, {})
    if Path(workdir).resolve() == Path(project).resolve():
        return resolved
    for keys in PATH_KEYS:
        section = resolved
        for key in keys[:-1]:
            section = section.get(key) if isinstance(section, dict) else None
        value = section.get(keys[-1]) if isinstance(section, dict) else None
        if not isinstance(value, str) or not value or Path(value).is_absolute():
            continue
        anchor = _anchor(value)
        if not (Path(workdir) / anchor).exists() and (Path(project) / anchor).exists():
            section[keys[-1]] = str(Path(project).resolve() / value)
    return resolved
