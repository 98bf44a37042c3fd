"""The JSON schema of the config (``workflow/schemas/config.schema.yaml``):
messages that name the key, defaults, and command-line values typed by it.

Snakemake reads ``--config key=value`` values nested in braces or brackets
as strings (``threshold={method: manual, value: 30}`` gives the string
``"30"``) and a plain ``true`` as a string too; :func:`typed_overrides` gives
them the type the schema expects at their place.
"""

from __future__ import annotations

import copy
import difflib
import re

import jsonschema
import yaml

#: Words read as YAML reads them (null and booleans), where the schema allows.
WORDS = {
    "null": None, "Null": None, "NULL": None, "~": None, "None": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
}  # fmt: skip
_INTEGER = re.compile(r"[-+]?[0-9]+")
# Finite numbers only: no setting takes .inf or .nan (left as text, the
# schema check names the key).
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def load_schema(path):
    """The schema in the YAML file `path`, as a dict."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _is_valid(value, schema):
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def _typed_candidates(text):
    """What a command-line word may stand for, most specific first."""
    if text in WORDS:
        yield WORDS[text]
    if _INTEGER.fullmatch(text):
        yield int(text)
    if _FLOAT.fullmatch(text):
        yield float(text)


def _alternatives(schema):
    """The schema itself, or each branch of its oneOf/anyOf."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    return branches if branches else [schema]


def typed_value(value, schema):
    """`value` (as Snakemake parsed it from the command line) with strings
    typed as `schema` expects them: numbers, booleans and null, inside
    mappings and lists too. A value no typing makes valid is returned as it
    is, for the schema check to report.

    YAML's reading wins where the schema allows both: ``null`` is None and
    ``"12"`` is 12 where a number is allowed, a string otherwise.
    """
    for branch in _alternatives(schema):
        candidate = _typed_in(value, branch)
        if _is_valid(candidate, branch):
            return candidate
    return value


def _typed_in(value, schema):
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {key: typed_value(item, properties.get(key, {})) for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items", {})
        return [typed_value(item, items) for item in value]
    if isinstance(value, str):
        for candidate in _typed_candidates(value):
            if _is_valid(candidate, schema):
                return candidate
        return value
    if isinstance(value, int) and not isinstance(value, bool) and not _is_valid(value, schema):
        text = str(value)  # e.g. input=2024: a folder name, not a number
        if _is_valid(text, schema):
            return text
    return value


def typed_overrides(overrides, schema):
    """The ``--config`` values `overrides` (a dict of top-level keys) typed
    by `schema` (:func:`typed_value`); unknown keys are kept as they are."""
    properties = schema.get("properties", {})
    return {key: typed_value(value, properties.get(key, {})) for key, value in overrides.items()}


def fill_defaults(config, schema):
    """Set the schema's ``default`` of every missing key, at every level of
    the objects present (``default: {}`` creates a section whose keys then get
    their defaults). Changes `config` in place."""
    for key, subschema in schema.get("properties", {}).items():
        if key not in config and "default" in subschema:
            config[key] = copy.deepcopy(subschema["default"])
        if isinstance(config.get(key), dict):
            fill_defaults(config[key], subschema)


def _did_you_mean(name, allowed):
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def schema_errors(config, schema):
    """One message per place where `config` breaks `schema`.

    Each message starts with the dotted config key (``threshold.method``)
    and says what is allowed, e.g. ``threshold.method: 'magic' is not one of
    ['otsu', 'li', ...]``; an unknown key gets the closest known one.
    """
    validator = jsonschema.Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        key = ".".join(str(part) for part in error.path)
        if error.validator == "additionalProperties":  # name the unknown key
            known = sorted(error.schema.get("properties", {}))
            for unknown in sorted(set(error.instance) - set(known)):
                messages.append(
                    f"{key + '.' if key else ''}{unknown}: unknown key"
                    f"{_did_you_mean(unknown, known)}; allowed "
                    f"{'in ' + key if key else 'at the top level'}: {', '.join(known)}"
                )
            continue
        message = error.message
        if error.validator in ("oneOf", "anyOf") and "description" in error.schema:
            message += f"; allowed: {' '.join(error.schema['description'].split())}"
        messages.append(f"{key or '(top level)'}: {message}")
    return messages
