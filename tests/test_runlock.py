"""Stale Snakemake locks and temporary files are removed only when no run is alive."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time

import pytest

from scripts.runtime import runlock


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A working folder with what a killed run leaves: two Snakemake lock
    files and a hidden temporary file of scripts.imaging.atomic_path."""
    monkeypatch.chdir(tmp_path)
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("images/a.tif\n")
    (locks / "0.output.lock").write_text("results/threshold/a.tif\n")
    (tmp_path / "results" / "threshold").mkdir(parents=True)
    (tmp_path / "results" / "threshold" / ".a.tif.x1y2.part").write_bytes(b"II*\x00")
    (tmp_path / "results" / "threshold" / "b.tif").write_bytes(b"done")
    yield tmp_path
    runlock.release(tmp_path / ".snakemake")


def leftovers(folder):
    return sorted(
        str(path.relative_to(folder))
        for pattern in (".snakemake/locks/*", "results/**/.*.part")
        for path in folder.glob(pattern)
    )


def test_stale_locks_and_part_files_are_removed_when_no_run_is_alive(folder):
    removed = runlock.claim(folder / ".snakemake", folder / "results")
    assert sorted(str(path.relative_to(folder)) for path in removed) == [
        ".snakemake/locks/0.input.lock",
        ".snakemake/locks/0.output.lock",
        "results/threshold/.a.tif.x1y2.part",
    ]
    assert leftovers(folder) == []
    assert (folder / "results" / "threshold" / "b.tif").read_bytes() == b"done"


def test_a_live_run_keeps_its_lock(folder):
    # Another Snakemake of this workflow holds the shared lock (a second
    # open file description counts as another process for flock).
    other = open(folder / ".snakemake" / runlock.GUARD_NAME, "a")
    fcntl.flock(other, fcntl.LOCK_SH)
    try:
        before = leftovers(folder)
        assert runlock.claim(folder / ".snakemake", folder / "results") == []
        assert leftovers(folder) == before
    finally:
        other.close()


def test_a_claiming_process_is_seen_as_alive_until_it_ends(folder):
    claimer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from scripts.runtime import runlock; "
            "runlock.claim('.snakemake', 'results'); print('claimed', flush=True); "
            "time.sleep(60)",
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(runlock.Path(runlock.__file__).parents[2])},
    )
    try:
        assert claimer.stdout.readline().strip() == "claimed"
        # The claimer removed the leftovers; a new lock file now is "its" lock.
        (folder / ".snakemake" / "locks" / "0.input.lock").write_text("x\n")
        assert runlock.claim(folder / ".snakemake", folder / "results") == []
        assert (folder / ".snakemake" / "locks" / "0.input.lock").exists()
        runlock.release(folder / ".snakemake")
    finally:
        claimer.kill()  # as kill -9: the kernel drops its flock
        claimer.wait()
    time.sleep(0.05)
    removed = runlock.claim(folder / ".snakemake", folder / "results")
    assert [path.name for path in removed] == ["0.input.lock"]


def test_claiming_twice_in_one_process_changes_nothing(folder):
    runlock.claim(folder / ".snakemake", folder / "results")
    (folder / ".snakemake" / "locks" / "0.input.lock").write_text("ours\n")
    assert runlock.claim(folder / ".snakemake", folder / "results") == []
    assert (folder / ".snakemake" / "locks" / "0.input.lock").exists()


def test_missing_folders_are_created_or_ignored(tmp_path):
    try:
        assert runlock.claim(tmp_path / "new" / ".snakemake", tmp_path / "none") == []
        assert (tmp_path / "new" / ".snakemake" / runlock.GUARD_NAME).exists()
    finally:
        runlock.release(tmp_path / "new" / ".snakemake")


def test_a_folder_that_cannot_be_written_is_left_alone(tmp_path):
    # (A path below a regular file: unwritable even for root.)
    (tmp_path / "file").write_text("")
    assert runlock.claim(tmp_path / "file" / ".snakemake", tmp_path / "results") == []


def test_only_hidden_part_files_count_as_leftovers(tmp_path):
    (tmp_path / "a").mkdir()
    for name in (".x.tif.1.part", "x.part", ".hidden.tif", "y.tif"):
        (tmp_path / "a" / name).write_text("")
    assert [path.name for path in runlock.stale_part_files(tmp_path)] == [
        ".x.tif.1.part"
    ]


def test_a_half_written_folder_is_a_leftover_too(tmp_path):
    """The OME-Zarr writers stage whole folders (.<name>.<random>.part)."""
    staged = tmp_path / "results" / "ome-zarr" / ".a.zarr.123.part"
    (staged / "0").mkdir(parents=True)
    (staged / "0" / ".zarray").write_text("{}")
    (tmp_path / "results" / "ome-zarr" / "b.zarr").mkdir()
    removed = runlock.remove_leftovers(tmp_path / ".snakemake", tmp_path / "results")
    assert removed == [staged]
    assert not staged.exists() and (tmp_path / "results" / "ome-zarr" / "b.zarr").is_dir()
