"""The layout the README's "Design" section describes stays true: every
output maps to an existing rule, function and config key, and the package's
imports point one way."""

from __future__ import annotations

import ast
import importlib
import re

import pytest
import yaml

from tests.workflow_copy import ROOT

RULES_TEXT = "\n".join(path.read_text() for path in (ROOT / "workflow" / "rules").glob("*.smk"))
SCHEMA_KEYS = set(yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())["properties"])


def output_table():
    """Rows of the README table that maps outputs to rules, code and keys."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| output | rule | made by | config keys | what |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


ROWS = output_table()


def ticked(cell):
    return re.findall(r"`([^`]+)`", cell)


@pytest.mark.parametrize("row", ROWS, ids=[row[1] for row in ROWS])
def test_every_output_maps_to_its_rule_function_and_keys(row):
    outputs, rule, made_by, keys, _ = row
    if rule.startswith("("):  # written by the run's handlers in common.smk
        for handler in ticked(rule):
            assert re.search(rf"^{handler}:", RULES_TEXT, re.M), handler
    else:
        (rule_name,) = ticked(rule)
        assert re.search(rf"^(rule|checkpoint) {rule_name}:", RULES_TEXT, re.M), rule_name
        first = ticked(outputs)[0].replace("<id>", "{image}").split(",")[0]
        if "{" not in first or "{image}" in first:
            assert f'"{first}"' in RULES_TEXT or first.split("/{")[0] in RULES_TEXT, first
    (dotted,) = ticked(made_by)
    module, function = dotted.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), function)), dotted
    for key in ticked(keys):
        assert key in SCHEMA_KEYS, key


def test_the_table_covers_every_rule_that_writes_files():
    named = {ticked(row[1])[0] for row in ROWS if not row[1].startswith("(")}
    rules = set(re.findall(r"^(?:rule|checkpoint) (\w+):", RULES_TEXT, re.M))
    assert rules - named == {"fused_steps"}  # it writes the five steps' files


# --------------------------------------------------------------------------
# Imports point one way
# --------------------------------------------------------------------------

#: Packages a package of scripts/ must not import. The step list
#: (``scripts.steps.STEPS``) is not a step: any package may read it.
STEP_LIST = "steps.STEPS"
FORBIDDEN = {
    "algorithms": {"steps", "tables", "report", "config", "runtime"},
    "tables": {"steps", "report", "runtime.workers"},
    "report": {"steps", "tables"},
    "config": {"steps", "algorithms", "tables", "report", "runtime"},
    "runtime": {"steps", "algorithms", "tables", "report"},
    "formats": {"steps", "algorithms", "tables", "report", "config", "runtime"},
}


def imported(path):
    """The scripts.* modules a file imports (at any level of the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name.removeprefix("scripts.") for name in names if name.startswith("scripts.")}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    for path in (ROOT / "scripts" / package).glob("*.py"):
        for name in imported(path) - {STEP_LIST}:
            if name == "steps" and STEP_LIST in imported(path):
                continue  # from scripts.steps import STEPS
            for forbidden in FORBIDDEN[package]:
                assert not (name == forbidden or name.startswith(forbidden + ".")), (
                    f"{path.relative_to(ROOT)} imports scripts.{name}"
                )
