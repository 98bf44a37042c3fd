"""scripts.runtime.runs and the run registry of scripts.runtime.runlock: what a
command is about to do, the record of the last run, and which run a report shows."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from scripts.config.load import load_config
from scripts.runtime import runlock, runs
from tests.workflow_copy import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def config(**values):
    return load_config({"input": "example/images", **values}, SCHEMA)


# --------------------------------------------------------------------------
# What a command is about to do
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "executes", "reports", "partial"),
    [
        (["--cores", "4"], True, False, False),
        (["-c4", "--config", "input=/data"], True, False, False),
        (["-np"], False, False, False),
        (["--cores", "2", "--dry-run"], False, False, False),
        (["--report", "report.html"], False, True, False),
        (["--cores", "2", "--report", "r.html", "--report-after-run"], True, False, False),
        (["--lint"], False, False, False),
        (["--unlock"], False, False, False),
        (["--summary"], False, False, False),
        (["--cores", "1", "results/counts.csv"], True, False, True),
        (["--cores", "1", "all"], True, False, False),
        (["--cores", "1", "--until", "label"], True, False, True),
    ],
)
def test_the_command_line_says_what_a_command_does(argv, executes, reports, partial):
    what = runs.invocation(argv)
    assert (what.executes, what.reports, what.partial) == (executes, reports, partial)
    assert what.command.startswith("snakemake")


def test_the_directory_and_unlock_are_known():
    what = runs.invocation(["--unlock", "--directory", "out/plate 1"])
    assert what.unlocks and what.directory == "out/plate 1"
    assert runs.invocation(["--cores", "1"]).directory is None


# --------------------------------------------------------------------------
# The records of the last run
# --------------------------------------------------------------------------


def test_records_hold_the_whole_configuration_and_the_images(tmp_path):
    settings = config(fuse_steps=True, threshold={"method": "li"})
    images = {"b": "/data/b.tif", "a": "/data/a.tif"}
    runs.write_records(settings, images, "running", tmp_path)
    recorded, run = runs.read_records(tmp_path)
    assert recorded["threshold"] == {
        "method": "li", "value": None, "noise_floor": None, "object_fraction": None,
        "grow_dim": False,
    }
    assert "fuse_steps" not in recorded and "job_processes" not in recorded
    assert load_config(recorded, SCHEMA)["threshold"]["method"] == "li"  # a config file
    assert run == {"status": "running", "images": {"a": "/data/a.tif", "b": "/data/b.tif"}}
    first = (tmp_path / runs.RUN_RECORD).read_bytes(), (tmp_path / runs.CONFIG_RECORD).read_bytes()
    runs.write_records(settings, dict(reversed(images.items())), "running", tmp_path)
    assert ((tmp_path / runs.RUN_RECORD).read_bytes(), (tmp_path / runs.CONFIG_RECORD).read_bytes()) == first
    with pytest.raises(ValueError, match="status"):
        runs.write_records(settings, images, "done", tmp_path)


def test_no_records_is_none(tmp_path):
    assert runs.read_records(tmp_path) is None


def test_images_of_another_run_are_found(tmp_path):
    folder = tmp_path / "results" / "threshold"
    folder.mkdir(parents=True)
    for name in ("a.tif", "b.tif", "old.tif", "old.json"):
        (folder / name).write_bytes(b"")
    assert runs.other_images({"a": "x", "b": "y"}, tmp_path) == ["old"]
    assert runs.other_images({"a": "x"}, tmp_path / "nothing") == []


# --------------------------------------------------------------------------
# Which run a report shows
# --------------------------------------------------------------------------


def records(status="finished", **values):
    return runs.recorded_config(config(**values)), {"status": status, "images": {"a": "a.tif"}}


def test_a_finished_run_is_reported_as_recorded():
    recorded, images = runs.reported_run(records(threshold={"method": "li"}))
    assert recorded["threshold"]["method"] == "li" and images == {"a": "a.tif"}


def test_options_that_describe_the_same_run_are_accepted():
    recorded, _ = runs.reported_run(records(preset="nuclei"), config(preset="nuclei", fuse_steps=True))
    assert recorded["preset"] == "nuclei"


def test_options_that_describe_another_run_are_refused_naming_the_keys():
    with pytest.raises(runs.RunRefused) as refused:
        runs.reported_run(records(), config(input="plateB", threshold={"method": "li"}))
    message = str(refused.value)
    assert "differ in: input, threshold" in message and "\n" not in message


def test_no_run_yet_is_refused_with_the_command_to_run():
    with pytest.raises(runs.RunRefused, match=r"No run of this workflow in out yet .*"
                       r"`snakemake --cores all --config input=/path/to/images --directory out`"):
        runs.reported_run(None, directory="out")


def test_the_commands_suggested_quote_a_folder_with_spaces():
    with pytest.raises(runs.RunRefused) as refused:
        runs.reported_run(None, directory="plate 1")
    assert "--directory 'plate 1'`, then `snakemake --report report.html --directory 'plate 1'`" in str(
        refused.value
    )


@pytest.mark.parametrize(
    ("status", "said"),
    [("running", "was interrupted"), ("failed", "failed"), ("partial", "made only some")],
)
def test_an_unfinished_run_is_refused_with_the_command_that_finishes_it(status, said):
    with pytest.raises(runs.RunRefused) as refused:
        runs.reported_run(records(status))
    message = str(refused.value)
    assert said in message
    assert "`snakemake --cores all --configfile results/config.yaml`" in message
    assert "\n" not in message


def test_a_live_run_is_waited_for():
    live = [{"pid": 4242, "started": "2026-12-04 10:00:00 UTC", "command": "snakemake -c2"}]
    with pytest.raises(runs.RunRefused, match="still working in this folder .pid 4242, started 2026-12-04"):
        runs.reported_run(records("running"), live=live)


def test_the_busy_message_names_the_run_and_warns_against_unlock():
    run = {"pid": 77, "started": "2026-12-04 09:00:00 UTC", "command": "snakemake --cores 2"}
    message = runs.busy_message(run)
    assert "pid 77, started 2026-12-04 09:00:00 UTC (snakemake --cores 2)" in message
    assert "do not run `snakemake --unlock`" in message and "\n" not in message


# --------------------------------------------------------------------------
# The registry of live runs
# --------------------------------------------------------------------------


def test_a_live_run_is_listed_until_it_ends(tmp_path):
    folder = tmp_path / ".snakemake"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from scripts.runtime import runlock
        runlock.register({str(folder)!r}, {{"pid": 1, "started": "then", "executes": True}})
        print("registered", flush=True)
        time.sleep(600)
        """
    )
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "registered"
        assert runlock.live_runs(folder) == [{"pid": 1, "started": "then", "executes": True}]
    finally:
        other.kill()
        other.wait()
    assert runlock.live_runs(folder) == []
    assert list((folder / runlock.RUNS_NAME).glob("*.json")) == []  # the dead run's file went


def test_a_process_does_not_see_itself(tmp_path):
    folder = tmp_path / ".snakemake"
    runlock.register(folder, {"pid": 2})
    try:
        assert runlock.live_runs(folder) == []
        assert yaml.safe_load((folder / runlock.RUNS_NAME / f"{os.getpid()}.json").read_text()) == {"pid": 2}
    finally:
        runlock.unregister(folder)
