"""Python's collector set for large DAGs (scripts/runtime/collector.py): the
thresholds it sets, and the Snakefile setting them before any rule."""

from __future__ import annotations

import gc
from pathlib import Path

from scripts.runtime import collector

ROOT = Path(__file__).resolve().parents[1]


def test_tune_for_large_dags_sets_the_thresholds_and_freezes():
    before = gc.get_threshold()
    try:
        collector.tune_for_large_dags()
        assert gc.get_threshold() == collector.THRESHOLDS == (100_000, 50, 1000)
        assert gc.get_freeze_count() > 0
        collector.tune_for_large_dags()  # a second call changes nothing
        assert gc.get_threshold() == collector.THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_snakefile_tunes_the_collector_before_any_rule():
    text = (ROOT / "Snakefile").read_text()
    call = text.index("\ntune_for_large_dags()")
    assert call < text.index("include:") and call < text.index("configfile:")
