"""Snakemake 9's cost of preparing an aggregating job grows with the square
of its inputs (the minimal reproduction of benchmarks/snakemake_prepare/).

    python benchmarks/snakemake_prepare.py --n 1000 2000 4000 8000

For each N: N jobs each make one file from one input, and rule all asks for
the N files. With every file up to date, one input is changed and the rerun (one job,
then rule all) runs under cProfile. Prints the rerun's wall time and the
time spent in ``Job.is_pipe_or_service_input`` (called once per input of
each job Snakemake prepares, and looping over every job the prepared job
depends on). No assertion on any timing.
"""

from __future__ import annotations

import argparse
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "benchmarks" / "snakemake_prepare" / "Snakefile"
OUT = ROOT / "benchmarks" / "out" / "snakemake_prepare"
FLAGS = ["--cores", "1", "--force-use-threads", "--quiet", "--max-jobs-per-timespan", "100000/1s"]


def prepared_folder(count):
    """A folder with `count` inputs and their outputs, written newer, so that
    everything is up to date without a first run (Snakemake takes files
    without metadata by their times)."""
    folder = OUT / f"n{count}"
    shutil.rmtree(folder, ignore_errors=True)
    for kind in ("in", "out"):
        (folder / kind).mkdir(parents=True)
        for index in range(count):
            (folder / kind / f"{index}.txt").touch()
        time.sleep(0.05)
    shutil.copy(SNAKEFILE, folder / "Snakefile")
    command = [sys.executable, "-m", "snakemake", *FLAGS, "--config", f"count={count}"]
    return folder, command


def profiled_rerun(folder, command):
    """(wall s, s in is_pipe_or_service_input, its calls) of a rerun after
    changing one input, under cProfile."""
    # New contents: Snakemake 9 skips a touched small file whose checksum is unchanged.
    (folder / "in" / "0.txt").write_text(str(time.time()))
    profile = folder / "rerun.prof"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), *command[1:]],
        cwd=folder, check=True, capture_output=True,
    )
    wall = time.perf_counter() - started
    stats = pstats.Stats(str(profile)).stats
    lookup = [value for key, value in stats.items() if key[2] == "is_pipe_or_service_input"]
    calls = sum(value[1] for value in lookup)
    seconds = sum(value[3] for value in lookup)
    return wall, seconds, calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    args = parser.parse_args(argv)
    print("| N | rerun wall s (profiled) | s in is_pipe_or_service_input | calls |\n|---:|---:|---:|---:|")
    for count in args.n:
        wall, seconds, calls = profiled_rerun(*prepared_folder(count))
        print(f"| {count} | {wall:.1f} | {seconds:.2f} | {calls} |")


if __name__ == "__main__":
    main()
