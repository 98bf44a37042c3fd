"""The runs of a results folder: what a Snakemake command is about to do, the
record of the last run, and which run ``snakemake --report`` describes.

Every run that executes jobs records, before its first job and again when it
ends (``onstart``, ``onsuccess``, ``onerror`` in the Snakefile):

* ``results/config.yaml``: the full configuration it was started with
  (every default filled in; usable as it is with ``--configfile``);
* ``results/run.yaml``: its status (``running``, ``finished``, ``failed``,
  ``partial`` when it made only some targets) and its images (id -> path).

``snakemake --report`` without options reports exactly that run: its
configuration and its images, not what the config file or the input folder
say today; it refuses with one line when that run has not finished, and
when options given with it describe another run. Files other image sets
left in ``results/`` are not part of the run's jobs, so they are never shown.
Neither file holds a time or a command line: the same run writes the same
bytes.
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from scripts.config.params import recorded_config
from scripts.imaging import write_text

CONFIG_RECORD = "results/config.yaml"
RUN_RECORD = "results/run.yaml"
#: Statuses a run record can have; only ``finished`` can be reported.
STATUSES = ("running", "finished", "failed", "partial")


class RunRefused(Exception):
    """A command this folder's state does not allow; the message, one line,
    says why and which command to run instead."""


@dataclass(frozen=True)
class Invocation:
    """What the Snakemake command of this process is about to do."""

    #: Runs jobs (not a dry run, a report, a listing, lint, --unlock ...).
    executes: bool
    #: ``--report`` alone: build the report of the results there are.
    reports: bool
    #: ``--unlock``.
    unlocks: bool
    #: Makes only some of the workflow's files (targets, --until, --omit-from, ...).
    partial: bool
    #: The command line, for other runs to see.
    command: str
    #: Its ``--directory``, or None.
    directory: str | None = None


#: Options of Snakemake after which it runs no job.
_NOT_EXECUTING = (
    "dryrun", "lint", "list_rules", "list_target_rules", "summary", "detailed_summary",
    "unlock", "dag", "rulegraph", "filegraph", "d3dag", "containerize",
    "cleanup_metadata", "list_changes", "list_input_changes", "list_params_changes",
    "list_code_changes", "list_untracked", "delete_all_output", "delete_temp_output",
    "generate_unit_tests", "archive", "export_cwl", "print_compilation",
    "list_conda_envs", "conda_create_envs_only", "conda_cleanup_envs", "cleanup_shadow",
)  # fmt: skip


def invocation(argv):
    """The :class:`Invocation` of Snakemake's command-line arguments `argv`
    (``sys.argv[1:]``), read with Snakemake's own parser."""
    from snakemake.cli import get_argument_parser

    args, _ = get_argument_parser().parse_known_args(list(argv))
    reports = bool(args.report) and not args.report_after_run
    idle = any(getattr(args, name, None) for name in _NOT_EXECUTING)
    targets = [target for target in (args.targets or []) if target != "all"]
    partial = bool(targets or args.until or args.omit_from or args.batch)
    return Invocation(
        executes=not (idle or reports),
        reports=reports,
        unlocks=bool(args.unlock),
        partial=partial,
        command=shlex.join(["snakemake", *argv]),
        directory=str(args.directory) if args.directory else None,
    )


def named_rules(argv):
    """The rule names Snakemake's arguments `argv` give to ``--until``,
    ``--omit-from``, ``--forcerun`` and ``--allowed-rules`` (a cluster job's
    command names its rule so), as a list of str (file names too)."""
    from snakemake.cli import get_argument_parser

    args, _ = get_argument_parser().parse_known_args(list(argv))
    options = (args.until, args.omit_from, args.forcerun, args.allowed_rules)
    return [name for values in options for name in values or ()]


def run_info(command, executes):
    """What :func:`scripts.runtime.runlock.register` records of this process."""
    return {
        "pid": os.getpid(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": command,
        "executes": executes,
    }


def busy_message(run, unlocking=False):
    """One line for a command refused because `run` (a :func:`run_info`) is
    working in this folder."""
    doing = "--unlock would" if unlocking else "a second run would"
    return (
        f"Another run of this workflow is working in this folder: pid {run['pid']}, "
        f"started {run['started']} ({run['command']}). Wait for it to end or stop it "
        f"(kill {run['pid']}); do not run `snakemake --unlock` while it is alive: "
        f"{doing} let two runs write the same files."
    )


def write_records(config, images, status, folder="."):
    """Write ``results/config.yaml`` (the configuration, without the keys that
    only change how jobs run) and ``results/run.yaml`` (`status`, `images`:
    id -> path, or a mapping for an image that is not a whole file) under
    `folder`, each atomically."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    header = "# The configuration of the last run in this folder (snakemake --configfile accepts it).\n"
    write_text(
        Path(folder, CONFIG_RECORD),
        header + yaml.safe_dump(recorded_config(config), sort_keys=True, allow_unicode=True),
    )
    run = {"status": status, "images": dict(sorted(images.items()))}
    write_text(
        Path(folder, RUN_RECORD),
        "# The last run in this folder: `snakemake --report` reports it.\n"
        + yaml.safe_dump(run, sort_keys=False, allow_unicode=True),
    )


def other_images(images, folder="."):
    """Ids of images whose step outputs are in ``results/`` but that are not
    among `images` (left by a run on another image set), sorted."""
    first_step = Path(folder, "results", "threshold")
    found = {path.stem for path in first_step.glob("*.tif")} if first_step.is_dir() else set()
    return sorted(found - set(images))


def read_records(folder="."):
    """``(config, run)`` as :func:`write_records` wrote them, or None when
    either is missing."""
    paths = Path(folder, CONFIG_RECORD), Path(folder, RUN_RECORD)
    if not all(path.is_file() for path in paths):
        return None
    config, run = (yaml.safe_load(path.read_text(encoding="utf-8")) for path in paths)
    return config, run


def finishing_command(directory=None):
    """The command that finishes the last run of the folder (its recorded
    configuration), as a user types it."""
    where = f" --directory {shlex.quote(str(directory))}" if directory else ""
    config = f"{directory}/{CONFIG_RECORD}" if directory else CONFIG_RECORD
    return f"snakemake --cores all{where} --configfile {shlex.quote(config)}"


def reported_run(records, given_config=None, live=(), directory=None):
    """The configuration and images ``snakemake --report`` describes.

    Parameters
    ----------
    records : tuple or None
        :func:`read_records` of the folder.
    given_config : dict or None
        The validated configuration of the options typed with ``--report``
        (``--config``, ``--configfile``); None when none were typed.
    live : sequence of dict
        :func:`scripts.runtime.runlock.live_runs` that execute jobs.
    directory : str or None
        The ``--directory`` of the command, for the commands suggested.

    Returns
    -------
    config : dict
        The recorded configuration (validate it as any other).
    images : dict
        Image id -> path of the recorded run.

    Raises
    ------
    RunRefused
        When the folder holds no run, its last run has not finished, or the
        options describe another run.
    """
    where = f" --directory {shlex.quote(str(directory))}" if directory else ""
    report = f"snakemake --report report.html{where}"
    if live:
        raise RunRefused(
            f"A run is still working in this folder (pid {live[0]['pid']}, started "
            f"{live[0]['started']}): `{report}` once it has finished."
        )
    if records is None:
        raise RunRefused(
            f"No run of this workflow in {directory or 'this folder'} yet (no {RUN_RECORD}): "
            f"run it first, e.g. `snakemake --cores all --config input=/path/to/images{where}`, "
            f"then `{report}`."
        )
    config, run = records
    if run["status"] != "finished":
        what = {
            "running": "was interrupted",
            "failed": "failed",
            "partial": "made only some of its files",
        }[run["status"]]
        raise RunRefused(
            f"The last run in this folder {what}; the report shows only finished runs: "
            f"finish it with `{finishing_command(directory)}`, then `{report}`."
        )
    if given_config is not None:
        given = recorded_config(given_config)
        changed = sorted(key for key in set(given) | set(config) if given.get(key) != config.get(key))
        if changed:
            raise RunRefused(
                "The options given with --report describe another run than the last one "
                f"in this folder (they differ in: {', '.join(changed)}): `{report}` without "
                "them reports the last run; to report these settings, run the workflow "
                "with them first."
            )
    return config, run["images"]
