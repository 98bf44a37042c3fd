"""Let a plain rerun start after a killed run, while a live run keeps its lock.

Snakemake locks the working folder by writing ``.snakemake/locks/*.lock``
when it starts executing and deleting them when it ends. A run killed with
``kill -9`` (or by a lost SSH session, the OOM killer, a node failure) never
deletes them, and every later run then stops with "Directory cannot be
locked" until someone runs ``snakemake --unlock``, a command that cannot tell
a dead run from a live one.

This module tells them apart with a lock the kernel keeps: every Snakemake
main process of this workflow holds a shared ``flock`` on
``.snakemake/running.flock`` for as long as it lives (the kernel drops it
when the process dies, however it dies). A process that can take the lock
exclusively knows that no other Snakemake on this folder is alive, so any
Snakemake lock file left is stale: it removes them, and the hidden
``.*.part`` files that a killed job left half-written under ``results/``
(see :func:`scripts.imaging.atomic_path`). A live run is never touched: a
second run started beside it sees its shared lock, leaves everything as it
is, and Snakemake refuses it as usual.

Called from ``workflow/rules/common.smk`` by the main Snakemake process only
(``workflow.is_main_process``): never by a job running on a cluster node or
in a subprocess, which must not judge the locks of the process that started
them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

#: The file every live Snakemake main process holds a shared flock on.
GUARD_NAME = "running.flock"
#: Suffix of the temporary files of :func:`scripts.imaging.atomic_path`.
PART_SUFFIX = ".part"

# Open guard files by resolved path, kept open (and so locked) for the life
# of the process.
_held = {}


def stale_part_files(results):
    """Hidden temporary files and folders (``.<name>.<random>.part``; the
    OME-Zarr writers stage whole folders) below `results`."""
    found = []
    for folder, folders, files in os.walk(results):
        parts = [name for name in folders + files if name.startswith(".") and name.endswith(PART_SUFFIX)]
        found.extend(Path(folder) / name for name in parts)
        folders[:] = [name for name in folders if name not in parts]
    return sorted(found)


def remove_leftovers(snakemake_dir, results):
    """Remove Snakemake's lock files and the temporary files below `results`.

    Only safe when no Snakemake is running on the folder; see :func:`claim`.
    Returns the removed paths.
    """
    removed = sorted(Path(snakemake_dir, "locks").glob("*.lock"))
    removed += stale_part_files(results)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def claim(snakemake_dir=".snakemake", results="results"):
    """Mark this process as a live Snakemake run on this folder; if it is the
    only one, first remove what killed runs left behind.

    Parameters
    ----------
    snakemake_dir : str or Path
        Snakemake's state folder (``.snakemake`` in the working directory).
    results : str or Path
        The folder whose leftover ``.*.part`` files are removed.

    Returns
    -------
    removed : list of Path
        The stale lock and temporary files removed (empty when another run
        is alive, when there was nothing to remove, or when the file system
        does not support ``flock``: then Snakemake behaves as without this
        module).
    """
    guard = Path(snakemake_dir) / GUARD_NAME
    key = str(guard.resolve())
    if key in _held:  # already claimed by this process
        return []
    try:
        guard.parent.mkdir(parents=True, exist_ok=True)
        handle = open(guard, "a")
    except OSError:  # read-only folder: nothing to clean, nothing to claim
        return []
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # another run is alive: leave its files alone
        removed = []
    except OSError:  # no flock on this file system
        handle.close()
        return []
    else:
        removed = remove_leftovers(snakemake_dir, results)
    # Downgrade (or wait for a process cleaning up) to the shared lock that
    # tells later runs this one is alive; held until the process ends.
    fcntl.flock(handle, fcntl.LOCK_SH)
    _held[key] = handle
    return removed


def release(snakemake_dir=".snakemake"):
    """Drop the claim of :func:`claim` (for tests; a run keeps it to the end)."""
    handle = _held.pop(str((Path(snakemake_dir) / GUARD_NAME).resolve()), None)
    if handle is not None:
        handle.close()


# --------------------------------------------------------------------------
# Which runs are alive: pid, start and command of each
# --------------------------------------------------------------------------

#: Folder (in Snakemake's state folder) of one file per live run.
RUNS_NAME = "runs"
# This process's open, locked run file (kept open for its life).
_registered = {}


def register(snakemake_dir, info):
    """Record this process as a live run with `info` (a JSON-able dict: what
    :func:`live_runs` shows to others) until it ends.

    The file ``<snakemake_dir>/runs/<pid>.json`` is locked by this process
    for as long as it lives (the kernel drops the lock when it dies, however
    it dies); it is written under a temporary name and renamed once locked,
    so another process never sees it unlocked while this one lives.
    """
    folder = Path(snakemake_dir) / RUNS_NAME
    key = str(folder.resolve())
    if key in _registered:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{os.getpid()}.json"
        temporary = folder / f".{os.getpid()}.json.part"
        handle = open(temporary, "w", encoding="utf-8")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        json.dump(info, handle)
        handle.flush()
        os.replace(temporary, path)
    except OSError:  # read-only folder or no flock: nothing to tell others
        return
    _registered[key] = handle


def live_runs(snakemake_dir):
    """The `info` of every other live run of this folder (:func:`register`),
    oldest first; the files of dead runs are removed."""
    folder = Path(snakemake_dir) / RUNS_NAME
    own = f"{os.getpid()}.json"
    alive = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name == own:
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:  # its process holds it: alive
                    alive.append(json.load(handle))
                    continue
            path.unlink(missing_ok=True)  # nobody holds it: a dead run's
        except (OSError, ValueError):
            continue
    return sorted(alive, key=lambda info: info.get("started", ""))


def unregister(snakemake_dir=".snakemake"):
    """Drop this process's record of :func:`register` (for tests)."""
    folder = Path(snakemake_dir) / RUNS_NAME
    handle = _registered.pop(str(folder.resolve()), None)
    if handle is not None:
        Path(folder, f"{os.getpid()}.json").unlink(missing_ok=True)
        handle.close()
