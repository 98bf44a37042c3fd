"""Run the real workflow with Snakemake on a private copy of the project.

Integration tests use :func:`copy_project` to get a folder of their own and
:meth:`Project.snakemake` to run ``python -m snakemake`` in it, so that they
never touch the working tree's ``results/``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PROJECT_ITEMS = ("Snakefile", "workflow", "scripts", "config", "envs", "profiles", "example")


@dataclass
class Project:
    root: Path

    def snakemake(self, *args, check=True, timeout=600):
        """Run Snakemake here; return the CompletedProcess (stdout+stderr in .stdout)."""
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"snakemake {' '.join(args)} exited {result.returncode}:\n{result.stdout[-6000:]}"
            )
        return result

    def planned_jobs(self, *args):
        """{rule: number of jobs} that a dry run would execute."""
        output = self.snakemake("--dry-run", "--quiet", "rules", *args).stdout
        return parse_job_stats(output)

    def hashes(self, folder="results"):
        """sha256 of every file below `folder`, by relative path."""
        base = self.root / folder
        return {
            str(path.relative_to(base)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(base.rglob("*"))
            if path.is_file()
        }

    def inodes(self, folder="results"):
        """Inode of every file below `folder`: a file kept as it was keeps
        its inode, a file written anew gets another. Each file also gets a
        hard link beside the project, which keeps its inode number taken:
        ext4 gives a deleted file's number to the next new file, and a file
        written anew would look kept."""
        base = self.root / folder
        pins = self.root.parent / "inode-pins"
        pins.mkdir(exist_ok=True)
        inodes = {}
        for path in base.rglob("*"):
            if path.is_file():
                inodes[str(path.relative_to(base))] = inode = path.stat().st_ino
                if not (pins / str(inode)).exists():
                    os.link(path, pins / str(inode))
        return inodes

    def mtimes(self, folder="results"):
        base = self.root / folder
        return {
            str(path.relative_to(base)): path.stat().st_mtime_ns
            for path in base.rglob("*")
            if path.is_file()
        }


def parse_job_stats(output):
    """Parse Snakemake's "Job stats" table into {rule: count} (without total)."""
    counts = {}
    lines = output.splitlines()
    for start, line in enumerate(lines):
        if line.strip().startswith("job") and "count" in line:
            for row in lines[start + 2 :]:
                parts = row.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    break
                if parts[0] != "total":
                    counts[parts[0]] = int(parts[1])
            break
    return counts


def copy_project(destination, with_example=True):
    """Copy the workflow (and the bundled example images) into `destination`."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for item in PROJECT_ITEMS:
        if item == "example" and not with_example:
            continue
        source = ROOT / item
        target = destination / item
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, target)
    return Project(destination)
