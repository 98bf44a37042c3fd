"""scripts.runtime.workers: the per-image jobs of a local run, run in worker processes."""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from snakemake.io import IOFile
from snakemake.iocontainers import InputFiles, OutputFiles, Params

from scripts.imaging import read_tiff, write_tiff
from scripts.runtime.jobs import StepError
from scripts.steps import threshold
from scripts.runtime.workers import (
    Arguments,
    WorkerError,
    WorkerPool,
    plain_arguments,
    run_jobs,
    worker_count,
)
from tests.workflow_copy import ROOT

def run_step(function, input, output, params, log, pool=None):
    """One job of a step (its entry point `function`), as a step rule runs it."""
    run_jobs([(function, input, output, params, log)], pool=pool)


THRESHOLD_SETTINGS = {"method": "otsu", "value": None}


def threshold_job(folder, source, image_id="cells"):
    """The threshold step's (input, output, params, log) for `source`."""
    folder = Path(folder)
    return (
        Arguments([str(source)], {"image": str(source)}),
        Arguments(
            [str(folder / f"{image_id}.tif"), str(folder / f"{image_id}.json")],
            {"mask": str(folder / f"{image_id}.tif"), "stats": str(folder / f"{image_id}.json")},
        ),
        Arguments(
            [],
            {
                "settings": THRESHOLD_SETTINGS,
                "preprocess": None,
                "diameter": None,
                "reading": {"channel": None, "volume": "refuse", "max_pixels": 10**9},
                "source": str(source),
                "image_id": image_id,
                "compression": "zlib",
            },
        ),
        Arguments([str(folder / f"{image_id}.log")]),
    )


def bright_discs(shape=(96, 128), seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    image = rng.normal(30, 5, shape)
    for r, c, radius in [(30, 30, 12), (60, 90, 16)]:
        image[np.hypot(rows - r, cols - c) <= radius] += 150
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "cells.tif"
    write_tiff(path, bright_discs(), {"made_by": "test"})
    return path


@pytest.fixture
def pool():
    pool = WorkerPool(1, ROOT)
    yield pool
    pool.close()


def test_auto_leaves_one_core_to_snakemake():
    assert worker_count("auto", 2) == 1
    assert worker_count("auto", 8) == 7
    assert worker_count("auto", 1) == 1
    assert worker_count("auto", None) == 1
    assert worker_count(0, 8) == 0
    assert worker_count(3, 2) == 3


def test_auto_with_fused_steps_uses_every_core():
    assert worker_count("auto", 2, fused=True) == 2
    assert worker_count("auto", 1, fused=True) == 1
    assert worker_count(1, 8, fused=True) == 1


def test_snakemake_named_lists_become_plain_picklable_arguments():
    # As Snakemake passes them: file names are str subclasses (_IOFile).
    inputs = InputFiles([IOFile("a.tif"), IOFile("b.json"), IOFile("raw.tif")])
    inputs._set_name("mask", 0)
    inputs._set_name("stats", 1)
    inputs._set_name("image", 2, end=3)
    params = Params([{"method": "otsu"}, "src.tif"])
    params._set_name("settings", 0)
    params._set_name("source", 1)
    outputs = OutputFiles([IOFile("out.tif")])
    outputs._set_name("mask", 0)

    plain_input = plain_arguments(inputs)
    assert list(plain_input) == ["a.tif", "b.json", "raw.tif"]
    assert plain_input.mask == "a.tif" and type(plain_input.mask) is str
    assert plain_input.image == ["raw.tif"]
    plain_params = plain_arguments(params)
    assert plain_params.settings == {"method": "otsu"} and plain_params.source == "src.tif"
    copy = pickle.loads(pickle.dumps((plain_input, plain_arguments(outputs), plain_params)))
    assert copy[0].stats == "b.json" and copy[1].mask == "out.tif" and copy[1][0] == "out.tif"


def test_a_job_in_a_worker_writes_the_same_files_as_in_place(tmp_path, source, pool):
    run_step(threshold.run, *threshold_job(tmp_path / "here", source))
    run_step(threshold.run, *threshold_job(tmp_path / "worker", source), pool=pool)
    for name in ("cells.tif", "cells.json"):
        assert (tmp_path / "worker" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()
    mask, _ = read_tiff(tmp_path / "worker" / "cells.tif")
    assert set(np.unique(mask)) == {0, 255}
    assert "done in" in (tmp_path / "worker" / "cells.log").read_text()


def test_the_worker_is_reused_by_the_next_jobs(tmp_path, source, pool):
    for index in range(3):
        run_step(threshold.run, *threshold_job(tmp_path / str(index), source), pool=pool)
    assert len(pool._workers) == 1


def test_a_failed_job_raises_the_steps_own_message(tmp_path, pool):
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"not a tiff at all")
    with pytest.raises(StepError) as in_place:
        run_step(threshold.run, *threshold_job(tmp_path / "here", broken))
    with pytest.raises(StepError) as in_worker:
        run_step(threshold.run, *threshold_job(tmp_path / "worker", broken), pool=pool)
    assert str(in_worker.value) == str(in_place.value)
    assert str(broken) in str(in_worker.value)
    assert not (tmp_path / "worker" / "broken.tif").exists()
    # the worker survives a failed job
    assert pool._workers[0].alive()


def test_jobs_sent_together_run_in_order_and_stop_at_the_first_failure(tmp_path, source, pool):
    # What rule fused_steps (fuse_steps) sends: an image's steps in one request.
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"not a tiff at all")
    jobs = [
        (threshold.run, *threshold_job(tmp_path / "first", source)),
        (threshold.run, *threshold_job(tmp_path / "second", broken, image_id="broken")),
        (threshold.run, *threshold_job(tmp_path / "third", source)),
    ]
    with pytest.raises(StepError, match="broken.tif"):
        run_jobs(jobs, pool=pool)
    assert (tmp_path / "first" / "cells.tif").is_file()
    assert not (tmp_path / "third").exists()


def test_a_worker_killed_during_a_job_fails_that_job_by_name_and_is_replaced(
    tmp_path, source, pool
):
    # A job that cannot end before the worker is killed: its log is a named
    # pipe that nobody reads, so opening it waits.
    job = threshold_job(tmp_path / "killed", source)
    Path(job[3][0]).parent.mkdir()
    os.mkfifo(job[3][0])
    errors = []

    def run_and_keep_error():
        try:
            run_step(threshold.run, *job, pool=pool)
        except Exception as error:  # noqa: BLE001 - checked below
            errors.append(error)

    thread = threading.Thread(target=run_and_keep_error)
    thread.start()
    deadline = time.monotonic() + 30
    while not pool._workers and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.5)
    pool._workers[0].process.send_signal(signal.SIGKILL)
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], WorkerError)
    assert re.search(
        r"running the threshold step for .*cells\.tif was killed by signal 9 \(SIGKILL\)", str(errors[0])
    )
    assert not (tmp_path / "killed" / "cells.tif").exists()
    # the next job gets a new worker
    run_step(threshold.run, *threshold_job(tmp_path / "after", source), pool=pool)
    run_step(threshold.run, *threshold_job(tmp_path / "here", source))
    assert (tmp_path / "after" / "cells.tif").read_bytes() == (
        tmp_path / "here" / "cells.tif"
    ).read_bytes()
    assert len(pool._workers) == 2 and pool._workers[1].alive()


def test_a_worker_that_died_between_jobs_is_replaced_before_the_next(tmp_path, source, pool):
    run_step(threshold.run, *threshold_job(tmp_path / "first", source), pool=pool)
    pool._workers[0].process.kill()
    pool._workers[0].process.wait()
    run_step(threshold.run, *threshold_job(tmp_path / "second", source), pool=pool)
    assert (tmp_path / "second" / "cells.tif").read_bytes() == (
        tmp_path / "first" / "cells.tif"
    ).read_bytes()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to watch processes")
def test_workers_exit_when_the_process_that_started_them_is_killed(tmp_path, source):
    # A parent that starts a worker, runs one job, prints the worker's pid
    # and then waits to be killed (as Snakemake is by kill -9).
    job_folder = tmp_path / "job"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from scripts.runtime.workers import WorkerPool
        from scripts.steps import threshold
        from tests.test_workers import run_step, threshold_job
        pool = WorkerPool(1, {str(ROOT)!r})
        run_step(threshold.run, *threshold_job({str(job_folder)!r}, {str(source)!r}), pool=pool)
        print(pool._workers[0].process.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    worker_pid = int(parent.stdout.readline())
    assert _running(worker_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _running(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(worker_pid)


def test_workers_finish_and_exit_when_the_pool_closes(tmp_path, source):
    pool = WorkerPool(1, ROOT)
    run_step(threshold.run, *threshold_job(tmp_path, source), pool=pool)
    process = pool._workers[0].process
    pool.close()
    assert process.poll() == 0


def test_when_no_worker_can_start_the_jobs_run_in_place(tmp_path, source, monkeypatch, capsys):
    # As for a user who may not run the Python executable itself (the test
    # suite's chmod 000 case: Snakemake started as 'nobody' by root).
    pool = WorkerPool(1, ROOT)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    run_step(threshold.run, *threshold_job(tmp_path / "first", source), pool=pool)
    run_step(threshold.run, *threshold_job(tmp_path / "second", source), pool=pool)
    assert pool._workers == []
    assert (tmp_path / "second" / "cells.tif").read_bytes() == (
        tmp_path / "first" / "cells.tif"
    ).read_bytes()
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 1
    assert "cannot start a worker process" in warnings[0] and "no-such-python" in warnings[0]


def test_a_pool_needs_a_process():
    with pytest.raises(ValueError, match="at least 1 process"):
        WorkerPool(0, ROOT)


def _running(pid):
    """True while `pid` is a live process (not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_errors_cross_from_a_worker_intact():
    from scripts.imaging import ImageReadError
    from scripts.runtime.workers import _answer_for

    error = ImageReadError("images/a.tif", "not a readable image")
    copy = pickle.loads(pickle.dumps(_answer_for(error)))
    assert isinstance(copy, ImageReadError) and str(copy) == "images/a.tif: not a readable image"

    class Unmakeable(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a} and {b}")

    answer = pickle.loads(pickle.dumps(_answer_for(Unmakeable(1, 2))))
    assert "Unmakeable: 1 and 2" in str(answer)
