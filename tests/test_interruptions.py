"""kill -9 at any moment, then a plain rerun: the run completes, byte-identical.

Snakemake runs on 60 generated images in its own process group and the whole
group is killed with SIGKILL at several points (after some jobs, in the
middle of writing an output file, at seeded random times, near the end);
then a plain ``snakemake --cores 2`` must start (the killed run's lock is
recognised as stale, scripts/runtime/runlock.py), finish, and leave every file under
results/ byte-identical to a clean run, with no temporary file, no lock and
no incomplete marker left. Jobs run in worker processes of the Snakemake
process (scripts/runtime/workers.py), in its process group: killing the group kills
its running jobs, mid-write. Killing one worker fails only its job. A second
Snakemake started while one runs is refused, told which run works there (pid,
start) and not to --unlock, and corrupts nothing.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from scripts.generate_examples import benchmark_specs, write_set
from tests.workflow_copy import copy_project

pytestmark = pytest.mark.slow

COUNT, SIZE = 60, 320
STEPS = ("threshold", "morphology", "label", "colorize", "rescale")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interrupt_images") / "images"
    write_set(folder, benchmark_specs(COUNT, SIZE), seed=0)
    return folder


@pytest.fixture(scope="module")
def new_project(tmp_path_factory, images):
    """Factory: a fresh copy of the workflow whose config/config.yaml reads
    the 60 images (and draws report figures for two), so that the plain
    command ``snakemake --cores 2`` runs it."""

    def make(name):
        project = copy_project(tmp_path_factory.mktemp(name), with_example=False)
        shutil.copytree(images, project.root / "images")
        config_path = project.root / "config" / "config.yaml"
        config = yaml.safe_load(config_path.read_text())
        config.update(input="images", report={"max_images": 2})
        config_path.write_text(yaml.safe_dump(config))
        return project

    return make


@pytest.fixture(scope="module")
def reference(new_project):
    """sha256 of every file under results/ after one clean run."""
    project = new_project("interrupt_reference")
    project.snakemake("--cores", "2")
    hashes = project.hashes()
    assert sum(name.startswith("rescale/") for name in hashes) == COUNT
    return hashes


def start(project, name, *options):
    """Start `snakemake --cores 2` in its own process group; its output
    goes to `name`.out."""
    log = open(project.root / f"{name}.out", "w")
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", *options],
        cwd=project.root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def wait_for(process, condition, timeout=300, may_end=False):
    """Return True as soon as `condition()` is true while `process` runs;
    False if it ends first and `may_end`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            assert may_end, "the run ended before the kill point"
            return False
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(0.002)
    return True


def kill_when(process, condition, timeout=300, may_end=False):
    """SIGKILL `process`'s whole group as soon as `condition()` is true;
    return whether it was killed (False: it ended first, if `may_end`)."""
    if not wait_for(process, condition, timeout, may_end):
        return False
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return True


def executing(project, name):
    """Whether the run started by start(project, name) has begun its jobs."""
    return "Select jobs to execute" in (project.root / f"{name}.out").read_text()


def seconds_into_jobs(project, name, delay):
    """A kill point: `delay` seconds after run `name` began its jobs."""
    began = []

    def due():
        if not began:
            if not executing(project, name):
                return False
            began.append(time.monotonic())
        return time.monotonic() - began[0] >= delay

    return due


def count_files(folder, pattern="*"):
    return sum(1 for _ in folder.glob(pattern)) if folder.is_dir() else 0


def part_files(project):
    """The hidden temporary files of atomic writes under results/."""
    found = []
    for step in STEPS:
        try:
            with os.scandir(project.root / "results" / step) as entries:
                found += [entry.name for entry in entries if entry.name.endswith(".part")]
        except FileNotFoundError:
            pass
    return found


def logs_of(project, step):
    return count_files(project.root / "logs" / step)


def locks_of(project):
    return count_files(project.root / ".snakemake" / "locks", "*.lock")


def assert_complete_and_identical(project, reference):
    """A plain rerun completes; its results equal the clean run's, byte for byte."""
    stale_lock = locks_of(project) > 0
    result = project.snakemake("--cores", "2")
    if stale_lock:
        assert "Removed what a killed Snakemake run left behind" in result.stdout
    assert project.hashes() == reference
    assert list((project.root / "results").rglob(".*.part")) == []
    assert locks_of(project) == 0
    incomplete = project.root / ".snakemake" / "incomplete"
    assert [p for p in incomplete.rglob("*") if p.is_file()] == []
    assert "Nothing to be done" in project.snakemake("--dry-run").stdout


def test_kill_after_the_first_jobs(new_project, reference):
    project = new_project("kill_early")
    kill_when(start(project, "killed"), lambda: logs_of(project, "threshold") >= 5)
    assert locks_of(project) == 2
    assert_complete_and_identical(project, reference)


def test_kill_while_a_job_writes_an_output(new_project, reference):
    project = new_project("kill_mid_write")
    for attempt in range(5):  # the write may end between seeing and killing
        kill_when(start(project, f"killed_{attempt}"), lambda: bool(part_files(project)))
        left = part_files(project)
        if left:
            break
    # The half-written file keeps its hidden temporary name: no final name
    # under results/ ever holds a partial file.
    assert left
    assert all(name.startswith(".") for name in left)
    assert_complete_and_identical(project, reference)


def test_kill_near_the_end(new_project, reference):
    project = new_project("kill_late")
    kill_when(start(project, "killed"), lambda: logs_of(project, "rescale") >= COUNT - 5)
    assert_complete_and_identical(project, reference)


def test_repeated_kills_at_random_times(new_project, reference):
    """Kill up to three runs in a row at seeded random moments after they
    begin their jobs; each restart is a plain rerun that goes on from where
    the last one stopped (one that finishes first ends the series)."""
    project = new_project("kill_random")
    rng = random.Random(20260101)
    killed = []
    for attempt in range(3):
        name = f"killed_{attempt}"
        process = start(project, name)
        due = seconds_into_jobs(project, name, rng.uniform(0.0, 2.0))
        killed.append(kill_when(process, due, may_end=True))
        output = (project.root / f"{name}.out").read_text()
        assert "cannot be locked" not in output, output[-3000:]
        if attempt and killed[attempt - 1]:
            assert "Removed what a killed Snakemake run left behind" in output
        if not killed[-1]:
            assert process.returncode == 0, output[-3000:]
            break
    assert killed[0], "the first run finished before its kill point"
    assert_complete_and_identical(project, reference)


def test_a_second_run_is_refused_while_one_runs(new_project, reference):
    project = new_project("concurrent")
    # At most 3 jobs a second (about 25 s for the 67 jobs): still running
    # while the others start.
    first = start(project, "first", "--max-jobs-per-timespan", "3/1s")
    wait_for(first, lambda: locks_of(project) == 2)
    second = project.snakemake("--cores", "2", check=False)
    assert second.returncode != 0
    said = [line for line in second.stdout.splitlines() if f"pid {first.pid}, started " in line]
    assert len(said) == 1, second.stdout
    assert "Another run of this workflow is working in this folder" in said[0]
    assert "do not run `snakemake --unlock` while it is alive" in said[0]
    assert "Traceback" not in second.stdout and "Removed what a killed" not in second.stdout
    unlock = project.snakemake("--unlock", check=False)
    assert unlock.returncode != 0 and f"pid {first.pid}" in unlock.stdout
    report = project.snakemake("--report", "report.html", check=False)
    assert report.returncode != 0
    assert f"A run is still working in this folder (pid {first.pid}" in report.stdout
    # A dry run beside it works and takes nothing away from it.
    assert "Removed what a killed" not in project.snakemake("--dry-run").stdout
    locks = locks_of(project)
    # Snakemake releases its locks once its jobs are done, a moment before
    # it exits: the count says something only if the jobs were still going.
    if "(100%) done" not in (project.root / "first.out").read_text():
        assert locks == 2
    assert first.wait(timeout=300) == 0
    assert project.hashes() == reference
    assert locks_of(project) == 0


def worker_pids(process):
    """Pids of the worker processes (scripts/runtime/workers.py) of a running Snakemake."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read()
        except (OSError, ValueError):
            continue
        if parent == process.pid and b"scripts.runtime.workers" in command:
            pids.append(int(entry))
    return pids


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
def test_a_killed_worker_fails_its_job_the_others_finish_and_a_rerun_completes(
    new_project, reference
):
    """kill -9 of one job while Snakemake lives on: a job runs in a worker
    process, so that job fails with a message naming its image, the other
    images finish (--keep-going), and a plain rerun completes the results."""
    project = new_project("kill_worker")
    process = start(project, "killed", "--keep-going")
    output = project.root / "killed.out"
    wait_for(process, lambda: logs_of(project, "threshold") >= 5 and worker_pids(process))
    # A worker between two jobs is replaced without a failure: kill one
    # worker at a time until one dies in the middle of a job.
    for _ in range(50):
        for pid in worker_pids(process)[:1]:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        if "was killed by signal 9 (SIGKILL)" in output.read_text() or process.poll() is not None:
            break
    assert process.wait(timeout=300) != 0
    text = output.read_text()
    # The default run fuses the five steps of an image into one job; the
    # report's figure strips run in the workers too, so the killed job may
    # be one of those. Either way the message names the job's image.
    failed = re.findall(r"running the (\S+(?: to \S+)?) steps? for (\S+) was killed by signal 9", text)
    assert failed, "\n".join(line for line in text.splitlines() if "worker" in line) or text[-3000:]
    assert all(source.startswith("images/img") for _, source in failed), failed
    fused = [source for steps, source in failed if steps == "threshold to rescale"]
    # the others finished: every image but the failed ones has its last TIFF
    assert count_files(project.root / "results" / "rescale") >= COUNT - len(fused)
    assert_complete_and_identical(project, reference)
