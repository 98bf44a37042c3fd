"""Invalid configuration is refused before any job runs, naming the key."""

from __future__ import annotations

import pytest
import yaml

from tests.workflow_copy import copy_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("config"))


def run_with(project, config):
    path = project.root / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return project.snakemake("--configfile", "bad.yaml", "--cores", "1", check=False)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"threshold": {"method": "magic"}}, ["magic", "otsu", "method"]),
        ({"threshold": {"method": "manual"}}, ["threshold.value", "manual"]),
        ({"morphology": {"steps": [{"operation": "erosion", "iterations": -1}]}},
         ["morphology.steps.0.iterations", "-1", "minimum of 0"]),
        ({"morphology": {"steps": [{"operation": "melt", "iterations": 1}]}},
         ["melt", "erosion"]),
        ({"rescale": {"percentiles": [99.5, 0.5]}}, ["rescale.percentiles", "low < high"]),
        ({"colorize": {"colors": ["green", "notacolour"]}},
         ["colorize.colors", "notacolour", "color_dict", "'green'"]),
        ({"label": {"connectivity": "two"}}, ["label.connectivity", "two", "1, 2, 3"]),
        ({"max_pixels": "many"}, ["max_pixels", "'many'", "integer"]),
        ({"unknown_key": 1},
         ["unknown_key: unknown key; allowed at the top level:", "tiff_compression"]),
        ({"threshold": {"metod": "li"}}, ["threshold.metod", "grow_dim, method, noise_floor, object_fraction, value"]),
        ({"on_unreadable": "ignore"}, ["on_unreadable", "'ignore'", "['fail', 'skip']"]),
        ({"input": "no/such/folder"}, ["no/such/folder", "input"]),
        ({"preset": "cells"}, ["preset: unknown preset 'cells'", "tutorial, nuclei"]),
        ({"diameter": -3}, ["diameter: -3", "auto or a number > 0"]),
        ({"cleanup": {"area_unit": "mm2"}}, ["cleanup.area_unit", "'mm2'", "'object'"]),
        ({"cleanup": {"min_area": 50, "max_area": 10}},
         ["cleanup.min_area", "max_area"]),
        ({"label": {"declump": {"neck_ratio": 1.5}}},
         ["label.declump.neck_ratio", "1.5", "maximum of 1"]),
        ({"job_processes": -1}, ["job_processes: -1", "auto or a whole number >= 0"]),
        ({"job_processes": "many"}, ["job_processes: 'many'", "auto or a whole number >= 0"]),
        ({"fuse_steps": "yes"}, ["fuse_steps: 'yes' is not of type 'boolean'"]),
    ],
    ids=["method", "manual-value", "negative-iterations", "operation",
         "percentile-order", "colour", "wrong-type", "wrong-type-number", "unknown-key",
         "unknown-nested-key", "on-unreadable", "missing-input", "preset", "diameter",
         "area-unit", "area-range", "neck-ratio", "job-processes-negative",
         "job-processes-word", "fuse-steps"],
)
def test_invalid_value_is_rejected_before_any_job(project, config, expected):
    result = run_with(project, config)
    assert result.returncode != 0
    for fragment in expected:
        assert fragment in result.stdout, (fragment, result.stdout[-3000:])
    assert not (project.root / "results").exists()
