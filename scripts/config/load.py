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

from scripts.config.checks import settings_errors
from scripts.config.presets import apply_preset, merge
from scripts.config.schema import fill_defaults, load_schema, schema_errors, typed_overrides


class ConfigError(ValueError):
    """The configuration is invalid; ``messages`` has one line per problem."""

    def __init__(self, messages):
        self.messages = list(messages)
        super().__init__("Invalid configuration:\n  " + "\n  ".join(self.messages))


def load_config(config, schema_path, overrides=None):
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
    return loaded
