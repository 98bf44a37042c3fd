"""Dependencies are pinned in one place (requirements.txt); the conda
environment to run the workflow in (envs/workflow.yaml) must ask for exactly
the same versions, no more and no fewer packages."""

from __future__ import annotations

import re
from importlib import metadata

import yaml

from tests.workflow_copy import ROOT

# PyPI names whose conda-forge package has another name.
CONDA_NAMES = {"matplotlib": "matplotlib-base"}


def pinned_requirements(path):
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
        pins[name.lower()] = version
    return pins


def conda_pins(path):
    environment = yaml.safe_load(path.read_text())
    pins = {}
    for dependency in environment["dependencies"]:
        name, _, version = dependency.partition("=")
        pins[name.lower()] = version
    return pins


def test_every_requirement_is_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==\S+", line), line


def test_the_optional_readers_are_pinned_and_tested():
    """requirements-formats.txt (vendor formats, OME-Zarr) is pinned like
    requirements.txt, repeats none of its packages, and the test tools
    include it so that the tests cover the readers."""
    formats = ROOT / "requirements-formats.txt"
    for line in formats.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==\S+", line), line
    assert not set(pinned_requirements(formats)) & set(pinned_requirements(ROOT / "requirements.txt"))
    assert "-r requirements-formats.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    for name, version in pinned_requirements(formats).items():
        assert metadata.version(name) == version, name


def test_conda_environment_agrees_with_requirements():
    required = pinned_requirements(ROOT / "requirements.txt")
    conda = conda_pins(ROOT / "envs" / "workflow.yaml")
    for name, version in required.items():
        assert conda.get(CONDA_NAMES.get(name, name)) == version, name
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n in required} - {"python"}
    assert not extra, f"envs/workflow.yaml has packages requirements.txt lacks: {extra}"


def test_no_rule_claims_an_environment_it_does_not_run_in():
    """Every rule runs its code in Snakemake's own Python (run: blocks), so a
    conda: directive would promise an isolation --sdm conda cannot give."""
    for path in (ROOT / "workflow" / "rules").glob("*.smk"):
        assert "conda:" not in path.read_text(), path.name


def test_installed_versions_are_the_pinned_ones():
    for name, version in pinned_requirements(ROOT / "requirements.txt").items():
        assert metadata.version(name) == version, name
