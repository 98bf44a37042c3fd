"""The configuration users get, against a plain loop and Snakemake's floor.

    python benchmarks/default_run.py --n 1000
    python benchmarks/default_run.py --n 10000 --skip-rescale
    python benchmarks/default_run.py --n 10000 --rescale-only

On N seeded 512x512 images (benchmarks/out/n<N>/images, git-ignored), all
in one benchmark run so that the ratios compare like with like:

* ``loop``: one Python process doing the default run's work with the same
  code: every step's entry point per image (measurements on), the report's
  figures of the first 24 images, and the tables (counts, objects, the
  report's counts and parameters). It keeps the TIFFs it writes in memory
  for the next step, as the workflow's workers do. Its files are the
  workflow's, byte for byte (checked).
* ``workflow``: ``snakemake --cores 2`` in a copy of the project with only
  ``input`` set: the default profile and the default config (one job per
  image, incremental; 2 worker processes; measurements; 24 images' figures).
* ``floor``: benchmarks/floor/Snakefile with ``fuse_steps=True``: the same
  DAG shape (a job per image, the tables, 24 figure jobs), jobs that only
  create their files, the same profile, plain Snakemake (its dry and no-op
  runs also with Python's collector set as the workflow sets it,
  scripts/runtime/collector.py, to show what that alone gives).

Then, on the workflow's folder: a dry run and a no-op run (against the
floor's), touching one image (against the workflow's own no-op), changing
``rescale.percentiles`` (against a loop recomputing that step alone for
every image), and the lines ``-q`` prints. Prints a table; raw numbers in
benchmarks/out/default_n<N>.json. No assertion on any timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
FLOOR = ROOT / "benchmarks" / "floor" / "Snakefile"
sys.path.insert(0, str(ROOT))

#: The report's figures are drawn for this many images by default.
FIGURES = 24
#: The late-step change, appended to the workflow's config.
RESCALE_CHANGE = "\nrescale: {percentiles: [0.5, 99.5]}\n"


def images_for(count):
    """The seeded images of a run of `count`, written once."""
    from scripts.generate_examples import benchmark_specs, write_set

    folder = OUT / f"n{count}" / "images"
    if not folder.is_dir() or len(list(folder.iterdir())) != count:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_set(folder, benchmark_specs(count, 512, seed=0), seed=0)
    return folder


def timed(command, cwd, env=None):
    """(wall s, CPU s of the process tree, stdout) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{output[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, output


def snakemake(*args):
    return [sys.executable, "-m", "snakemake", *args]


def project_copy(folder, images):
    """A copy of the project whose config reads `images` and nothing else."""
    from tests.workflow_copy import copy_project

    shutil.rmtree(folder, ignore_errors=True)
    project = copy_project(folder, with_example=False)
    config = project.root / "config" / "config.yaml"
    config.write_text(config.read_text().replace("input: example/images", f"input: {images}"))
    return project


def hashes(folder):
    base = Path(folder) / "results"
    return {
        str(path.relative_to(base)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(base.rglob("*"))
        if path.is_file() and path.name not in ("config.yaml", "run.yaml")
    }


# --------------------------------------------------------------------------
# The loop (run as: python default_run.py --loop PROJECT)
# --------------------------------------------------------------------------


class Named(list):
    """A rule's named list: items in order, names as attributes."""

    def __init__(self, items=(), **names):
        super().__init__(items)
        self.__dict__.update(names)


def loop(project, rescale_alone=False):
    """The default run's work in this process, in `project`'s folder."""
    sys.path.insert(0, str(project))
    os.chdir(project)
    import yaml

    from scripts.config.discovery import discover_images
    from scripts.config.load import load_config
    from scripts.config.params import reading, rule_params
    from scripts.imaging import keep_written_tiffs
    from scripts.report import counts as report_counts
    from scripts.report import image as report_image
    from scripts.report import parameters as report_parameters
    from scripts.report.parameters import software_versions
    from scripts.runtime.workers import KEEP_WRITTEN_BYTES
    from scripts.steps import STEPS, colorize, label, morphology, rescale, threshold
    from scripts.tables import counts, objects

    config = load_config(
        yaml.safe_load(Path("config/config.yaml").read_text()), "workflow/schemas/config.schema.yaml"
    )
    images = discover_images(config)
    params = rule_params(config)
    base_reading = reading(config)
    keep_written_tiffs(KEEP_WRITTEN_BYTES)

    for image_id, image in images.items():
        source = image.path
        read = image.reading(base_reading)
        def r(step, ext="tif", image_id=image_id):
            return f"results/{step}/{image_id}.{ext}"

        def log(step, image_id=image_id):
            return Named([f"logs/{step}/{image_id}.log"])

        if rescale_alone:
            rescale.run(Named(rgb=r("colorize")), Named([r("rescale")], rgb=r("rescale")),
                        Named(**params["rescale"], source=source), log("rescale"))
            continue
        threshold.run(
            Named([source], image=source),
            Named([r("threshold"), r("threshold", "json")], mask=r("threshold"), stats=r("threshold", "json")),
            Named(**params["threshold"], reading=read, source=source, image_id=image_id),
            log("threshold"),
        )
        morphology.run(
            Named(mask=r("threshold"), threshold_stats=r("threshold", "json")),
            Named([r("morphology")], mask=r("morphology")),
            Named(**params["morphology"], source=source),
            log("morphology"),
        )
        label.run(
            Named(mask=r("morphology"), threshold_stats=r("threshold", "json"), image=[source]),
            Named(objects=r("objects", "csv"), labels=r("label"), stats=r("label", "json")),
            Named(**params["label"], reading=read, image_id=image_id, source=source),
            log("label"),
        )
        colorize.run(
            Named(labels=r("label"), image=[]),
            Named([r("colorize")], rgb=r("colorize")),
            Named(**params["colorize"], reading=read, source=source),
            log("colorize"),
        )
        rescale.run(
            Named(rgb=r("colorize")),
            Named([r("rescale")], rgb=r("rescale")),
            Named(**params["rescale"], source=source),
            log("rescale"),
        )
    if rescale_alone:
        return
    for image_id in sorted(images)[:FIGURES]:
        source = images[image_id].path
        report_image.run(
            Named(image=source, steps=[f"results/{s}/{image_id}.tif" for s in STEPS]),
            Named(**{kind: f"results/report/{kind if kind != 'histogram' else 'histograms'}/{image_id}.png"
                     for kind in ("steps", "outlines", "histogram")}),
            Named(**params["report_image"], reading=images[image_id].reading(base_reading),
                  source=source, image_id=image_id),
            Named([f"logs/report/{image_id}.log"]),
        )
    ids = list(images)
    counts.run(Named(stats=[f"results/label/{i}.json" for i in ids]), Named(csv="results/counts.csv"),
               Named(["logs/counts.log"]))
    objects.run(Named(tables=[f"results/objects/{i}.csv" for i in ids], intensities=[]),
                Named(csv="results/objects.csv"), Named(["logs/objects.log"]))
    report_counts.run(Named(counts="results/counts.csv"),
                      Named(plot="results/report/counts.png", table="results/report/counts.html"),
                      Named(["logs/report/counts.log"]))
    report_parameters.run(
        Named(yaml="results/report/parameters.yaml", yaml_html="results/report/parameters.html",
              tsv="results/report/software.tsv", tsv_html="results/report/software.html"),
        Named(**params["report_parameters"], software=software_versions()),
        Named(["logs/report/parameters.log"]),
    )


# --------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--skip-rescale", action="store_true", help="leave out the late-step change")
    parser.add_argument("--loop", help=argparse.SUPPRESS)
    parser.add_argument(
        "--rescale-only", action="store_true",
        help="only the late-step change, in the folders of an earlier run of --n images",
    )
    parser.add_argument("--rescale-alone", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.loop:
        loop(Path(args.loop), args.rescale_alone)
        return
    if args.rescale_only:
        rescale_only(args.n)
        return

    images = images_for(args.n)
    work = OUT / f"default_n{args.n}"
    figures = {}
    versions = timed(snakemake("--version"), ROOT)
    figures["snakemake start-up s"] = versions[0]

    loop_project = project_copy(work / "loop", images)
    figures["loop"] = timed([sys.executable, __file__, "--loop", str(loop_project.root)], ROOT)[:2]

    workflow = project_copy(work / "workflow", images)
    wall, cpu, _ = timed(snakemake("--cores", "2"), workflow.root)
    figures["workflow"] = (wall, cpu)
    identical = hashes(loop_project.root) == hashes(workflow.root)

    floor = work / "floor"
    shutil.rmtree(floor, ignore_errors=True)
    floor.mkdir(parents=True)
    shutil.copy(FLOOR, floor / "Snakefile")
    profile = ["--workflow-profile", str(ROOT / "workflow" / "profiles" / "default")]
    floor_args = [*profile, "--config", f"input={images}", "fuse_steps=True", f"figures={FIGURES}"]
    figures["floor"] = timed(snakemake("--cores", "2", *floor_args), floor)[:2]

    from scripts.runtime.collector import THRESHOLDS

    tuned = [*floor_args, f"gc_thresholds={list(THRESHOLDS)}"]
    figures["dry run"] = timed(snakemake("-n", "--forceall", "--quiet"), workflow.root)[:2]
    figures["floor dry run"] = timed(snakemake("-n", "--forceall", "--quiet", *floor_args), floor)[:2]
    figures["floor dry run, tuned gc"] = timed(snakemake("-n", "--forceall", "--quiet", *tuned), floor)[:2]
    figures["no-op"] = timed(snakemake("--cores", "2"), workflow.root)[:2]
    figures["floor no-op"] = timed(snakemake("--cores", "2", *floor_args), floor)[:2]
    figures["floor no-op, tuned gc"] = timed(snakemake("--cores", "2", *tuned), floor)[:2]

    touched = sorted(images.iterdir())[args.n // 2]
    os.utime(touched)
    figures["touch one"] = timed(snakemake("--cores", "2"), workflow.root)[:2]
    quiet_lines = len(timed(snakemake("--cores", "2", "-q"), workflow.root)[2].splitlines())

    if not args.skip_rescale:
        figures.update(rescale_change(workflow.root, loop_project.root))
    report(args.n, figures, identical, quiet_lines)


def rescale_change(workflow, loop_project):
    """Times of changing ``rescale.percentiles`` in an up-to-date `workflow`
    folder and of the loop recomputing rescale alone, and how many of the
    earlier steps' files came back from the step cache (the same inode)."""
    from scripts.steps import STEPS

    figures = {}
    figures["rescale alone (loop)"] = timed(
        [sys.executable, __file__, "--loop", str(loop_project), "--rescale-alone"], ROOT
    )[:2]
    config = workflow / "config" / "config.yaml"
    config.write_text(config.read_text() + RESCALE_CHANGE)
    earlier = [p for step in STEPS[:-1] for p in (workflow / "results" / step).iterdir()]
    before = {path: path.stat().st_ino for path in earlier}
    figures["rescale change"] = timed(snakemake("--cores", "2"), workflow)[:2]
    figures["earlier files kept"] = (
        sum(path.exists() and path.stat().st_ino == inode for path, inode in before.items()),
        len(before),
    )
    return figures


def rescale_only(count):
    """Only the late-step change, in the folders of an earlier full run of
    `count` images: the workflow is first brought up to date with the
    default settings (the step cache refilled), then the change is timed.
    The other figures are those of the earlier run."""
    work = OUT / f"default_n{count}"
    workflow, loop_project = work / "workflow", work / "loop"
    if not (workflow / "results").is_dir() or not (loop_project / "results").is_dir():
        raise SystemExit(f"no earlier run of {count} images in {work}: run without --rescale-only first")
    config = workflow / "config" / "config.yaml"
    config.write_text(config.read_text().replace(RESCALE_CHANGE, ""))
    timed(snakemake("--cores", "2", "-q"), workflow)
    figures = json.loads((OUT / f"default_n{count}.json").read_text())
    figures.update(rescale_change(workflow, loop_project))
    report(count, figures, None, None)


def report(count, figures, identical, quiet_lines):
    """Write the raw figures to benchmarks/out and print the table."""
    (OUT / f"default_n{count}.json").write_text(json.dumps(figures, indent=1))
    print(f"{count} images of 512x512, 2 cores, the default configuration "
          f"(Snakemake start-up {figures['snakemake start-up s']:.1f} s)")
    if identical is not None:
        print(f"files of the workflow and the loop byte-identical: {identical}")
    print("| run | wall s | CPU s | ratio | against |\n|---|---:|---:|---:|---|")
    rows = [
        ("loop, one process", "loop", None, ""),
        ("workflow (default)", "workflow", "loop", "the loop (goal ≤ 1.5)"),
        ("floor, a job per image", "floor", "loop", "the loop"),
        ("dry run", "dry run", "floor dry run", "the floor's dry run (goal ≤ 1.2)"),
        ("floor dry run", "floor dry run", None, ""),
        ("floor dry run, collector set as the workflow's", "floor dry run, tuned gc", "floor dry run", "the floor's dry run"),
        ("no-op run", "no-op", "floor no-op", "the floor's no-op (goal ≤ 1.2)"),
        ("floor no-op run", "floor no-op", None, ""),
        ("floor no-op, collector set as the workflow's", "floor no-op, tuned gc", "floor no-op", "the floor's no-op"),
        ("touch one image", "touch one", "no-op", "the workflow's no-op (goal ≤ 1.3)"),
        ("rescale alone, loop", "rescale alone (loop)", None, ""),
        ("rescale.percentiles changed", "rescale change", "rescale alone (loop)", "rescale alone (goal ≤ 1.3)"),
    ]
    for name, key, against, what in rows:
        if key not in figures:
            continue
        wall, cpu = figures[key]
        ratio = f"{wall / figures[against][0]:.2f}" if against else ""
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {ratio} | {what} |")
    if "earlier files kept" in figures:
        kept, total = figures["earlier files kept"]
        print(f"after the rescale change, earlier steps' files kept (same inode): {kept} of {total}")
    if quiet_lines is not None:
        print(f"`snakemake --cores 2 -q` (no-op) printed {quiet_lines} lines")


if __name__ == "__main__":
    main()
