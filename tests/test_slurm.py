"""The workflow on a real SLURM cluster, driven by the user-facing profile.

Needs a cluster where the current user may submit to account ``ci``
(SLURM_TEST_ACCOUNT) and partition ``debug`` (SLURM_TEST_PARTITION), and
whose ``sacct`` works: ``bash .ci/slurm/start.sh`` makes one on Debian.
Skipped when ``sinfo`` does not answer, unless CI_REQUIRE_SLURM=1 (as in CI),
which turns the skip into failures.

Each run works in a private copy of the project. The example runs with
workflow/profiles/slurm as shipped (the cluster's default account and
partition); the bad-image runs with its two EDIT lines set, as a user would.
Only CI-speed options are added on the command line: first status check
after 8 s instead of 40 s, and SLURM logs kept for diagnosis.

On any failure the daemons' state and logs and the runs' SLURM job logs and
rule logs are printed (.ci/slurm/logs.sh).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.workflow_copy import ROOT, copy_project, parse_job_stats

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

ACCOUNT = os.environ.get("SLURM_TEST_ACCOUNT", "ci")
PARTITION = os.environ.get("SLURM_TEST_PARTITION", "debug")
PER_IMAGE = ("threshold", "morphology", "label", "colorize", "rescale")
PROFILE = "profiles/slurm"
# Each snakemake call is killed after this many seconds (and its jobs cancelled).
RUN_TIMEOUT = 900
FAST = (
    "--slurm-init-seconds-before-status-checks",
    "8",
    "--slurm-keep-successful-logs",
)
LOGS_SCRIPT = ROOT / ".ci" / "slurm" / "logs.sh"


def cluster_answers():
    if shutil.which("sinfo") is None:
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


CLUSTER_UP = cluster_answers()
REQUIRED = os.environ.get("CI_REQUIRE_SLURM") == "1"
if not CLUSTER_UP and not REQUIRED:
    pytest.skip("no SLURM cluster (sinfo does not answer)", allow_module_level=True)


# ---------------------------------------------------------------- helpers


_diagnosed = set()
_pytest_config = None


def emit(text):
    """Print to the terminal now, past pytest's output capture (timings, logs)."""
    capture = _pytest_config and _pytest_config.pluginmanager.getplugin("capturemanager")
    if capture:
        with capture.global_and_fixture_disabled():
            print(text, flush=True)
    else:
        print(text, flush=True)


def diagnose(project=None):
    """Print, once per project, what shows why a SLURM run failed (bypassing capture):
    the daemons' state and logs on the first call, then the project's job and rule logs."""
    key = project.root if project else None
    if key in _diagnosed:
        return
    env = dict(os.environ)
    if _diagnosed:
        env["SLURM_LOGS_JOBS_ONLY"] = "1"
    _diagnosed.add(key)
    args = ["bash", str(LOGS_SCRIPT)] + ([str(project.root)] if project else [])
    report = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120).stdout
    emit(report)


class Run:
    """One `snakemake` call: exit code, output, and the SLURM jobs it submitted."""

    def __init__(self, returncode, output, seconds):
        self.returncode = returncode
        self.output = output
        self.seconds = seconds
        self.jobids = re.findall(r"submitted with SLURM jobid (\d+)", output)
        found = re.search(r"SLURM run ID: (\S+)", output)
        self.run_id = found.group(1) if found else None

    def tail(self, lines=120):
        return "\n".join(self.output.splitlines()[-lines:])


def snakemake(project, *args, name):
    """Run snakemake in `project` under `timeout`; keep its output in NAME.log."""
    started = time.monotonic()
    result = subprocess.run(
        ["timeout", "-k", "30", str(RUN_TIMEOUT), sys.executable, "-m", "snakemake", *args],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    run = Run(result.returncode, result.stdout, time.monotonic() - started)
    (project.root / f"{name}.log").write_text(result.stdout)
    emit(
        f"[slurm test] {name}: exit {run.returncode} after {run.seconds:.0f} s, "
        f"SLURM jobs {run.jobids}"
    )
    if run.returncode in (124, 137) and run.run_id:
        # Killed by timeout: its jobs would otherwise keep the node busy.
        subprocess.run(["scancel", "--name", run.run_id], check=False)
    return run


def slurm_project(destination, edit_profile):
    """A copy of the project; with `edit_profile`, its SLURM profile names this
    cluster's account and partition (else: the cluster's defaults, as shipped)."""
    project = copy_project(destination)
    if not edit_profile:
        return project
    profile = project.root / "workflow" / "profiles" / "slurm" / "config.yaml"
    text = profile.read_text()
    for key, value in (("slurm_account", ACCOUNT), ("slurm_partition", PARTITION)):
        # The lines a user edits: `  slurm_account: ""`.
        text, count = re.subn(rf"(?m)^(\s+{key}:).*$", rf"\g<1> {value}", text)
        assert count == 1, f"{profile} should have exactly one `{key}:` line, has {count}"
    profile.write_text(text)
    return project


def run_slurm(project, *args, name):
    return snakemake(project, "--workflow-profile", PROFILE, *FAST, *args, name=name)


def sacct(jobids, steps=False):
    """Accounting rows {field: value} of these SLURM jobs (and their steps)."""
    fields = ["JobID", "JobName", "Account", "Partition", "State", "ExitCode", "ReqMem", "Comment"]
    command = ["sacct", "-n", "-P", "-j", ",".join(jobids), "-o", ",".join(fields)]
    if not steps:
        command.insert(1, "-X")
    # Accounting reaches slurmdbd a moment after the job ended.
    for _ in range(20):
        lines = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows = [dict(zip(fields, line.split("|"))) for line in lines.splitlines() if line]
        if {row["JobID"] for row in rows} >= set(jobids) and all(
            row["State"] not in ("PENDING", "RUNNING") for row in rows
        ):
            return rows
        time.sleep(1)
    return rows


def profile_number(project, pattern, default):
    """An integer setting of the SLURM profile, e.g. N of `per_image=N`."""
    profile = (project.root / "workflow" / "profiles" / "slurm" / "config.yaml").read_text()
    found = re.search(pattern, profile)
    return int(found.group(1)) if found else default


def planned(project):
    output = snakemake(
        project, "--workflow-profile", PROFILE, "--dry-run", "--quiet", "rules", name="dry-run"
    ).output
    return parse_job_stats(output)


def image_ids(project):
    return sorted(path.stem for path in (project.root / "example" / "images").iterdir())


def hashes_of(project, ids):
    """sha256 of every results/ file of these images."""
    wanted = set(ids)
    return {path: digest for path, digest in project.hashes().items() if Path(path).stem in wanted}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def cluster(pytestconfig):
    """With CI_REQUIRE_SLURM=1, no cluster fails every test here (the others run)."""
    global _pytest_config
    _pytest_config = pytestconfig
    if not CLUSTER_UP:
        pytest.fail("CI_REQUIRE_SLURM=1 but `sinfo` does not answer: run .ci/slurm/start.sh")


@pytest.fixture(autouse=True)
def diagnostics_on_failure(request):
    """After a failed test, print the cluster's and the runs' logs."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        projects = [value for value in request.node.funcargs.values() if hasattr(value, "run")]
        for project in projects or [None]:
            diagnose(project)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("local"))
    run = snakemake(project, "--cores", "2", name="local")
    assert run.returncode == 0, run.tail()
    return project


@pytest.fixture(scope="module")
def example_on_slurm(tmp_path_factory):
    """The example, with the SLURM profile exactly as shipped."""
    project = slurm_project(tmp_path_factory.mktemp("slurm"), edit_profile=False)
    project.plan = planned(project)
    project.run = run_slurm(project, name="slurm")
    return project


@pytest.fixture(scope="module")
def bad_image_on_slurm(tmp_path_factory):
    """The example plus a text file named bad.tif, run with --keep-going and the
    profile's account and partition lines edited."""
    project = slurm_project(tmp_path_factory.mktemp("slurm-bad"), edit_profile=True)
    (project.root / "example" / "images" / "bad.tif").write_text("not an image\n")
    project.run = run_slurm(project, "--keep-going", name="slurm-bad")
    return project


# ---------------------------------------------------------------- the example


def local_jobs(run):
    """Jobs that ran in the main snakemake process (`localrules`)."""
    return len(re.findall(r"(?m)^\s*localrule \w+:", run.output))


def test_example_runs_on_slurm(example_on_slurm):
    run = example_on_slurm.run
    assert run.returncode == 0, run.tail()
    assert (example_on_slurm.root / "results" / "counts.csv").is_file()


def test_every_rule_job_ran_inside_a_completed_slurm_job(example_on_slurm):
    run = example_on_slurm.run
    assert run.jobids, f"no SLURM job was submitted:\n{run.tail()}"
    rows = sacct(run.jobids)
    assert sorted(row["JobID"] for row in rows) == sorted(run.jobids)
    for row in rows:
        assert row["State"] == "COMPLETED", row
        assert row["JobName"] == run.run_id, row
    # Every job of a rule that is not local ran in a SLURM job: the snakemake
    # inside it logged the job (as a "localrule") to the SLURM job's log.
    slurm_logs = sorted((example_on_slurm.root / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(slurm_logs) == len(run.jobids), slurm_logs
    ran_in_slurm = [
        match.group(1)
        for log in slurm_logs
        for match in re.finditer(r"(?m)^localrule (\w+):$", log.read_text())
    ]
    remote_jobs = sum(example_on_slurm.plan.values()) - local_jobs(run)
    assert len(ran_in_slurm) == remote_jobs, sorted(ran_in_slurm)
    steps = [row for row in sacct(run.jobids, steps=True) if "." in row["JobID"]]
    assert steps and all(row["State"] == "COMPLETED" for row in steps), steps


def test_the_steps_of_an_image_are_bundled_into_one_slurm_job(example_on_slurm):
    run = example_on_slurm.run
    plan = example_on_slurm.plan
    images = image_ids(example_on_slurm)
    assert plan["fused_steps"] == len(images)  # an image's five steps, one job
    rule_jobs = sum(plan.values())
    emit(
        f"[slurm test] {rule_jobs} rule jobs: {len(run.jobids)} SLURM jobs "
        f"and {local_jobs(run)} local jobs"
    )
    # snakemake's --comment: rule_<group>_<rules of the group>, or rule_<rule>_wildcards_...
    comments = [row["Comment"] for row in sacct(run.jobids)]
    ungrouped = [comment for comment in comments if not comment.startswith("rule_per_image_")]
    assert not ungrouped, (
        'jobs outside group per_image, one SLURM job each (add `group: "per_image"` '
        f"to their rule, or make it a local rule): {ungrouped}"
    )
    per_job = profile_number(example_on_slurm, r"per_image=(\d+)", 1)
    assert len(run.jobids) == math.ceil(len(images) / per_job)
    assert len(run.jobids) < rule_jobs
    assert "localrule counts:" in run.output


def test_slurm_outputs_are_byte_identical_to_a_local_run(example_on_slurm, local_run):
    assert example_on_slurm.run.returncode == 0, example_on_slurm.run.tail()
    assert example_on_slurm.hashes() == local_run.hashes()


def test_a_job_per_step_runs_one_slurm_job_per_image_with_the_same_files(tmp_path, local_run):
    """fuse_steps: false (a job per step) needs no change to the SLURM
    profile: an image's five step jobs and its figures are bundled into one
    SLURM job (group per_image), each runs its step in place."""
    project = slurm_project(tmp_path / "slurm-per-step", edit_profile=False)
    run = run_slurm(project, "--config", "fuse_steps=false", name="slurm-per-step")
    assert run.returncode == 0, run.tail()
    images = image_ids(project)
    assert len(run.jobids) == len(images)
    assert all(row["State"] == "COMPLETED" for row in sacct(run.jobids))
    slurm_logs = [log.read_text() for log in (project.root / ".snakemake" / "slurm_logs").rglob("*.log")]
    for step in PER_IMAGE:
        assert sum(text.count(f"localrule {step}:") for text in slurm_logs) == len(images)
    assert not any("worker process" in text for text in slurm_logs)
    assert project.hashes() == local_run.hashes()


# ---------------------------------------------------------------- a bad image


def test_a_bad_image_fails_with_its_reason_and_the_others_finish(bad_image_on_slurm, local_run):
    project = bad_image_on_slurm
    run = project.run
    assert run.returncode not in (0, 124, 137), run.tail()
    # The reason, as the failed step wrote it to its log, is in snakemake's output
    # (show-failed-logs), next to the path of the job's SLURM log.
    errors = [
        line
        for log in sorted(project.root.glob("logs/*/bad.log"))
        for line in log.read_text().splitlines()
        if line.startswith("ERROR")
    ]
    assert errors and "bad.tif" in errors[0], run.tail()
    assert errors[0] in run.output, run.tail()
    assert "Error in group per_image" in run.output, run.tail()
    assert ".snakemake/slurm_logs/" in run.output
    # The bad image's SLURM job failed, was resubmitted `retries` times with more
    # memory each attempt, and failed again; the other images' jobs completed.
    attempts = 1 + profile_number(project, r"(?m)^retries:\s*(\d+)", 0)
    rows = sacct(run.jobids)
    assert {(row["Account"], row["Partition"]) for row in rows} == {(ACCOUNT, PARTITION)}, rows
    failed = [row for row in rows if row["State"] != "COMPLETED"]
    assert [row["State"] for row in failed] == ["FAILED"] * attempts, rows
    memory = [int(re.match(r"\d+", row["ReqMem"]).group()) for row in failed]
    assert memory == [memory[0] * attempt for attempt in range(1, attempts + 1)], failed
    assert len(rows) == len(failed) + len(image_ids(project)) - 1, rows
    # Every other image is complete, and as a local run makes it.
    good = [image for image in image_ids(project) if image != "bad"]
    assert hashes_of(project, good) == hashes_of(local_run, good)
    assert not (project.root / "results" / "counts.csv").exists()


def test_after_fixing_the_bad_image_only_its_jobs_rerun(bad_image_on_slurm):
    project = bad_image_on_slurm
    assert project.run.returncode != 0, "the bad-image run must fail first"
    images = project.root / "example" / "images"
    shutil.copyfile(images / "four_cells.tif", images / "bad.tif")
    good = [image for image in image_ids(project) if image != "bad"]
    before = project.mtimes()

    plan = planned(project)
    assert set(plan) >= {"fused_steps", "counts", "all"}, plan
    assert set(plan.values()) == {1}, f"one image's jobs and the tables only: {plan}"

    run = run_slurm(project, name="slurm-fixed")
    assert run.returncode == 0, run.tail()
    assert len(run.jobids) == 1, run.jobids
    assert [row["State"] for row in sacct(run.jobids)] == ["COMPLETED"]
    after = project.mtimes()
    rewritten = {path for path in after if before.get(path) != after[path]}
    assert not {path for path in rewritten if Path(path).stem in good}, rewritten
    assert {f"{step}/bad.tif" for step in PER_IMAGE} <= rewritten
    assert (project.root / "results" / "counts.csv").is_file()
    assert planned(project) == {}
