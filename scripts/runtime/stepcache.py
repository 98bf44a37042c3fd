"""Incremental jobs: an image's job recomputes only from its first changed step.

With one job per image (rule ``fused_steps``, the default) Snakemake reruns
the whole job when any step's params change, and deletes the job's outputs
before it runs. Each step's outputs are therefore also kept as hard links in
a cache folder (``.snakemake/step-cache/<step>/<image>/<key>/``) that
Snakemake does not touch: a step whose key is unchanged gets its outputs
back from there, linked into place (the same files, no copy, no second
copy on disk), and only the steps from the first changed one are computed.

A step's key is a hash of what decides its outputs: the step, its params
(settings, reading, compression, source, ...), the identity of the raw
files it reads (path, size, modification time), the key of the step before
it, the code of the ``scripts`` package and the versions of the libraries
it computes with. Touching an image, changing a setting, the code or a
library changes the key of that step and of every later one. Only the last
key of each step and image is kept, so old versions take no space. Where
hard links are impossible (another file system) nothing is cached and every
step is computed, as without the cache. Deleting the cache folder makes the
next run compute every step again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import cache
from importlib import metadata
from pathlib import Path

from scripts import COMPUTING_LIBRARIES
from scripts.runtime.workers import step_name

#: Cache folder, in Snakemake's state folder of the working directory.
CACHE_FOLDER = Path(".snakemake") / "step-cache"
#: Name of a kept log inside a cache entry.
LOG_NAME = "log"
#: Name of the sizes and contents' sha256 of the kept outputs.
IDENTITY_NAME = "identity.json"


@cache
def code_fingerprint(package_root=None):
    """sha256 of every Python file of the ``scripts`` package (paths and
    contents) and of the versions of :data:`scripts.COMPUTING_LIBRARIES`:
    new code or a new library gives every step a new key."""
    root = Path(package_root or Path(__file__).resolve().parents[1])
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    for library in COMPUTING_LIBRARIES:
        try:
            digest.update(f"{library}=={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} absent".encode())
    return digest.hexdigest()


def file_identity(path):
    """What tells a raw file has changed: ``[path, size, mtime in ns]``
    (``None`` for a path that does not exist)."""
    try:
        status = os.stat(path)
    except OSError:
        return [str(path), None, None]
    return [str(path), status.st_size, status.st_mtime_ns]


def step_key(step, params, raw_inputs, previous_key, fingerprint):
    """The key of one step's outputs (hex, 32 characters).

    Parameters
    ----------
    step : str
    params : dict
        The step's params as its rule gives them (JSON-able).
    raw_inputs : sequence of str
        The files the step reads that no earlier step of the chain writes.
    previous_key : str or None
        The key of the step before it in the chain.
    fingerprint : str
        :func:`code_fingerprint`.
    """
    record = {
        "step": step,
        "params": params,
        "raw": [file_identity(path) for path in sorted(raw_inputs)],
        "previous": previous_key,
        "code": fingerprint,
    }
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def entry_folder(cache_root, step, image_id, key):
    return Path(cache_root) / step / image_id / key


def identities(paths):
    """``[size in bytes, sha256 of the contents]`` of each file: a kept file
    changed in place (the cache holds hard links to the results) no longer
    matches. Not the modification time: Snakemake touches every output
    after its job, so the kept links' times always change."""
    identity = []
    for path in paths:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        identity.append([os.path.getsize(path), digest])
    return identity


def restore(entry, outputs, log):
    """Link a cache `entry`'s files to `outputs` and `log` (each atomically:
    a hidden link renamed into place). Returns False, restoring nothing,
    when the entry is incomplete or a kept file was changed since it was
    kept (a result edited in place changes the cache's link too)."""
    files = [entry / str(index) for index in range(len(outputs))]
    try:
        kept_as = json.loads((entry / IDENTITY_NAME).read_text(encoding="utf-8"))
        if identities(files) != kept_as:
            return False
    except (OSError, ValueError):
        return False
    for kept, target in zip([*files, entry / LOG_NAME], [*outputs, log]):
        if not kept.is_file():
            continue
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        # a hidden .part file: what a killed run leaves is removed by runlock
        temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
        temporary.unlink(missing_ok=True)
        os.link(kept, temporary)
        os.replace(temporary, target)
    return True


def store(entry, outputs, log):
    """Keep `outputs` (and the `log`) as hard links in `entry`, with their
    sizes and contents' hashes, replacing every other entry of the same
    step and image. Returns False, keeping nothing, when the files cannot
    be linked (another file system)."""
    parent = entry.parent
    temporary = parent / f".{entry.name}.{os.getpid()}.part"
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        temporary.mkdir(parents=True)
        for index, path in enumerate(outputs):
            os.link(path, temporary / str(index))
        if log and Path(log).is_file():
            os.link(log, temporary / LOG_NAME)
        (temporary / IDENTITY_NAME).write_text(json.dumps(identities(outputs)), encoding="utf-8")
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        return False
    for other in parent.iterdir():
        if other != temporary:
            shutil.rmtree(other, ignore_errors=True) if other.is_dir() else other.unlink()
    os.replace(temporary, entry)
    return True


def run_chain(jobs, cache_root, image_id, fingerprint=None):
    """Run an image's step jobs in order, each only when its key changed.

    Parameters
    ----------
    jobs : sequence of (callable, input, output, params, log)
        As :func:`scripts.runtime.workers.run_jobs` gets them, in step order;
        the callable's module names the step.
    cache_root : str or Path
        :data:`CACHE_FOLDER` of the working directory.
    image_id : str

    Returns
    -------
    list of str
        The steps computed (the others were restored).
    """
    fingerprint = fingerprint or code_fingerprint()
    written = set()
    previous = None
    computed = []
    for function, input, output, params, log in jobs:
        step = step_name(function)
        raw = [path for path in input if str(path) not in written]
        key = step_key(step, dict(params.items()), raw, previous, fingerprint)
        entry = entry_folder(cache_root, step, image_id, key)
        log_path = log[0] if len(log) else None
        if not restore(entry, list(output), log_path):
            if log_path:
                # the log may be a link into the last entry: write a new file
                Path(log_path).unlink(missing_ok=True)
            function(input, output, params, log)
            store(entry, list(output), log_path)
            computed.append(step)
        written.update(str(path) for path in output)
        previous = key
    return computed
