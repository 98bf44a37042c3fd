"""snakemake -q prints a screenful: no line per scheduling round."""

from __future__ import annotations

import logging

import pytest

from scripts.runtime import quiet
from tests.workflow_copy import copy_project


def record(message, level=logging.INFO):
    return logging.LogRecord("snakemake.logging", level, __file__, 1, message, None, None)


def test_the_filter_drops_only_the_scheduling_rounds():
    rounds = quiet.SchedulingRounds()
    assert not rounds.filter(record("Select jobs to execute..."))
    assert not rounds.filter(record("Execute 12 jobs..."))
    assert rounds.filter(record("Execute 12 jobs...", logging.WARNING))
    assert rounds.filter(record("Complete log(s): x"))
    assert rounds.filter(record("Execute the jobs of rule threshold"))


def test_it_is_installed_only_when_progress_is_quiet():
    logger = logging.getLogger("test-quiet")
    assert not quiet.quiet_rounds(logger, set())
    assert quiet.quiet_rounds(logger, {"progress", "rules"})
    assert len(logger.filters) == 1


@pytest.mark.slow
def test_a_quiet_run_prints_a_screenful(tmp_path):
    project = copy_project(tmp_path / "project")
    output = project.snakemake("--cores", "2", "-q").stdout
    assert "Select jobs to execute" not in output and "Execute 1 jobs" not in output
    assert len(output.splitlines()) <= 30, output
