"""Throughput benchmark: the workflow vs a plain Python loop vs Snakemake's floor.

Run from the project root with the project's virtual environment:

    python benchmarks/throughput.py --n 1000 --repeats 2 --variants profile threads fused --reruns
    python benchmarks/throughput.py --n 200 --variants base greedy fast --reruns
    python benchmarks/throughput.py --n 10000 --repeats 1 --variants fused --loops loop-mem --reruns

For every N it generates N seeded 512x512 images once (cached in
benchmarks/out/n<N>/images, git-ignored), then, in the same run and
interleaved (repeat 1 of every variant, then repeat 2, ...):

* loops (one process, no Snakemake) writing the same files with the same code:
  ``loop-run``  calls each step module's ``run()`` entry point per image, as the
                rules do (reads every intermediate TIFF back, writes job logs);
  ``loop-mem``  calls the pure functions and the same writers, keeping each
                image's arrays in memory between steps (the best plain loop);
  ``loop-mem2`` the same split over 2 worker processes.
* ``wf``    the real workflow (a private copy, tests/workflow_copy.py),
* ``floor`` benchmarks/floor/Snakefile: same DAG shape, rule names and outputs,
            jobs only create their (empty) files,
* ``decl``  the real workflow's rules (input functions, params, resource
            functions, unpack...) with every step's ``run()`` replaced by a stub
            that only creates the files: isolates the cost of the declarations,
each with every requested variant (``--variants``; ``--list`` shows them): a
Snakemake flag set, or the default profile's flags with a config change
(VARIANT_CONFIG: job_processes, fuse_steps). Every Snakemake run gets
``--workflow-profile none`` plus the variant's explicit flags, so the workflow
and the floor get exactly the same flags (variant ``profile`` is what the
default profile gives on 2 cores).

Measured per run: wall time, CPU (user+sys of the process and its children,
from wait4), peak RSS (sum over the process tree, psutil polling every 0.1 s).
With ``--reruns`` also: dry run on a fresh copy, no-op rerun, and rerun after
touching one image (the number of rewritten result files is counted: 10).
Results of every ``wf`` run are compared file by file (sha256) with the loops'.

Prints a markdown table per N with medians and the ratios vs the best loop in
one process and vs the floor of the same flags and shape; raw numbers go to
benchmarks/out/*.json.
No assertion on any timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
FLOOR_SNAKEFILE = ROOT / "benchmarks" / "floor" / "Snakefile"
#: The project as it was when the benchmark started: the loops import their
#: code from it and every workflow run copies it, so edits made to the working
#: tree during a long benchmark never mix two versions of the code.
SNAP = OUT / "snapshot"
sys.path.insert(0, str(ROOT))

from scripts.steps import STEPS  # noqa: E402

#: Snakemake flag sets. "base": Snakemake's default scheduling with the
#: default profile's execution and rerun settings; "profile": exactly the
#: default profile (workflow/profiles/default/config.yaml) on 2 cores.
BASE = ["--cores", "2", "--force-use-threads", "--max-checksum-file-size", "0", "--rerun-incomplete"]
PROFILE = BASE + [
    "--max-jobs-per-timespan", "100000/1s",
    "--scheduler", "greedy",
    "--scheduler-subsample", "16",
]
FAST = [
    "--scheduler", "greedy",
    "--max-jobs-per-timespan", "100000/1s",
    "--scheduler-subsample", "16",
    "--quiet",
    "--nolock",
]
VARIANTS = {
    "base": BASE,
    "profile": PROFILE,
    "threads": PROFILE,
    "workers2": PROFILE,
    "fused": PROFILE,
    "fused+workers1": PROFILE,
    "processes": [f for f in BASE if f != "--force-use-threads"],
    "checksums": [f for f in BASE if f not in ("--max-checksum-file-size", "0")],
    "greedy": BASE + ["--scheduler", "greedy"],
    "mjpt": BASE + ["--max-jobs-per-timespan", "100000/1s"],
    "subsample": BASE + ["--scheduler-subsample", "16"],
    "quiet": BASE + ["--quiet"],
    "nolock": BASE + ["--nolock"],
    "dropmeta": BASE + ["--drop-metadata"],
    "keepinc": BASE + ["--keep-incomplete"],
    "mtime": BASE + ["--rerun-triggers", "mtime"],
    "latency0": BASE + ["--latency-wait", "0"],
    "greedy+mjpt": BASE + ["--scheduler", "greedy", "--max-jobs-per-timespan", "100000/1s"],
    "fast": BASE + FAST,
    "fast+dropmeta": BASE + FAST + ["--drop-metadata"],
    "fast+mtime": BASE + FAST + ["--rerun-triggers", "mtime"],
    "fast+noprio": BASE + FAST + ["--scheduler-greedy-omit-prioritize-by-temp-and-input"],
    "fast-subsample": BASE + [f for f in FAST if f not in ("--scheduler-subsample", "16")],
    "fast-quiet": BASE + [f for f in FAST if f != "--quiet"],
    "fast-nolock": BASE + [f for f in FAST if f != "--nolock"],
    "fast-mjpt": BASE + [f for f in FAST if f not in ("--max-jobs-per-timespan", "100000/1s")],
    "fast-greedy": BASE + [f for f in FAST if f not in ("--scheduler", "greedy")],
    "fast+cores1": [f if f != "2" else "1" for f in BASE[:2]] + BASE[2:] + FAST,
    "fast+cores3": [f if f != "2" else "3" for f in BASE[:2]] + BASE[2:] + FAST,
}
#: Variants that change the workflow's config, not Snakemake's flags: a job
#: per step (fuse_steps: false; job_processes auto is then 1 worker on 2
#: cores), its jobs as threads of Snakemake itself or in 2 worker processes;
#: an image's five steps as one job (fuse_steps: true, the default; auto is
#: then 2 workers), with 1 worker. Every other variant runs the default
#: config. The floor reads fuse_steps only; FLOOR_VARIANT names the variant
#: whose floor is the same.
VARIANT_CONFIG = {
    "profile": {"fuse_steps": False},
    "threads": {"fuse_steps": False, "job_processes": 0},
    "workers2": {"fuse_steps": False, "job_processes": 2},
    "fused": {"fuse_steps": True},
    "fused+workers1": {"fuse_steps": True, "job_processes": 1},
}
FLOOR_VARIANT = {"threads": "profile", "workers2": "profile", "fused+workers1": "fused"}
LOOPS = ("loop-run", "loop-mem", "loop-mem2")


# --------------------------------------------------------------------------
# The plain loops (run in a child process: python throughput.py --loop MODE)
# --------------------------------------------------------------------------


def make_plan(images_dir):
    """What the workflow's common.smk computes: images, settings, reading."""
    import yaml

    from scripts.config.discovery import discover_images
    from scripts.config.load import load_config
    from scripts.config.params import step_settings

    with open(SNAP / "config" / "config.yaml", encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config["input"] = str(images_dir)
    config["report"] = {"max_images": 0}
    config = load_config(config, SNAP / "workflow" / "schemas" / "config.schema.yaml")
    return {
        "images": discover_images(config),
        "settings": step_settings(config),
        "reading": {k: config[k] for k in ("channel", "volume", "max_pixels") if k in config},
        "compression": config["tiff_compression"],
    }


class NS(dict):
    """Attribute and index access, like Snakemake's input/output/params."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def loop_run(plan):
    """Each step's run() entry point per image, exactly what the rules call."""
    import scripts.steps.colorize
    import scripts.tables.counts
    import scripts.steps.label
    import scripts.steps.morphology
    import scripts.steps.rescale
    import scripts.steps.threshold

    modules = {
        "threshold": scripts.steps.threshold,
        "morphology": scripts.steps.morphology,
        "label": scripts.steps.label,
        "colorize": scripts.steps.colorize,
        "rescale": scripts.steps.rescale,
    }
    settings, compression = plan["settings"], plan["compression"]
    for image_id, source in plan["images"].items():
        r = lambda step, ext="tif": f"results/{step}/{image_id}.{ext}"  # noqa: E731
        inputs = {
            "threshold": NS(image=source),
            "morphology": NS(mask=r("threshold"), threshold_stats=r("threshold", "json")),
            "label": NS(mask=r("morphology"), threshold_stats=r("threshold", "json"), image=[]),
            "colorize": NS(labels=r("label"), **({"image": source} if settings["colorize"]["overlay"] else {})),
            "rescale": NS(rgb=r("colorize")),
        }
        outputs = {
            "threshold": NS(mask=r("threshold"), stats=r("threshold", "json")),
            "morphology": NS(mask=r("morphology")),
            "label": NS(labels=r("label"), stats=r("label", "json")),
            "colorize": NS(rgb=r("colorize")),
            "rescale": NS(rgb=r("rescale")),
        }
        for step in STEPS:
            params = NS(settings=settings[step], source=source, compression=compression)
            if step in ("threshold", "colorize"):
                params["reading"] = plan["reading"]
            if step == "threshold":
                params.update(image_id=image_id, preprocess=None, diameter=None)
            if step == "morphology":
                params["cleanup"] = None
            if step == "label":  # the tutorial's steps only: no measurements
                params.update(image_id=image_id, measure=False, reading=plan["reading"])
            modules[step].run(inputs[step], outputs[step], params, [f"logs/{step}/{image_id}.log"])
    stats = [f"results/label/{image_id}.json" for image_id in plan["images"]]
    scripts.tables.counts.run(NS(stats=stats), NS(csv="results/counts.csv"), ["logs/counts.log"])


def process_image(image_id, source, plan):
    """The chain for one image on in-memory arrays, with the same writers.

    Mirrors the step modules' run() (read once, no intermediate reads, no
    logs); returns the image's counts row (what label writes as its JSON)."""
    from scripts.steps.colorize import colorize_labels
    from scripts.imaging import open_image, write_json, write_tiff
    from scripts.imaging import mask_to_uint8
    from scripts.runtime.jobs import provenance
    from scripts.steps.label import foreground_fraction, label_objects
    from scripts.steps.morphology import apply_sequence
    from scripts.algorithms.contrast import rescale
    from scripts.steps.threshold import apply_threshold, compute_threshold, missing_threshold_reason

    s, compression = plan["settings"], plan["compression"]
    r = lambda step, ext="tif": f"results/{step}/{image_id}.{ext}"  # noqa: E731

    def tiff(step, pixels):
        write_tiff(r(step), pixels, provenance(step, s[step], source),
                   calibration=calibration, compression=compression)

    loaded = open_image(source, **plan["reading"])
    image, calibration = loaded.pixels, loaded.calibration
    method = s["threshold"]["method"]
    threshold = compute_threshold(image, method, s["threshold"]["value"])
    mask = apply_threshold(image, threshold)
    tiff("threshold", mask_to_uint8(mask))
    row = {
        "image": image_id, "source": source, "threshold": threshold,
        "threshold_method": method,
        "threshold_note": missing_threshold_reason(image, method, threshold),
        "shape": list(image.shape), "dtype": str(image.dtype),
        "pixel_size_um": calibration.pixel_size_um, "z_spacing_um": calibration.z_spacing_um,
        "diameter_px": None, "diameter_source": None,
    }
    write_json(r("threshold", "json"), row)
    m = s["morphology"]
    steps = [(step["operation"], step["iterations"]) for step in m["steps"]]
    cleaned = apply_sequence(mask, steps, m["footprint_connectivity"])
    tiff("morphology", mask_to_uint8(cleaned))
    labels, count = label_objects(cleaned, s["label"]["connectivity"])
    tiff("label", labels)
    row = dict(row, objects=count, foreground_fraction=foreground_fraction(labels))
    write_json(r("label", "json"), row)
    c = s["colorize"]
    rgb = colorize_labels(labels, c["colors"], image=image if c["overlay"] else None,
                          alpha=c["alpha"], bg_color=c["bg_color"])
    tiff("colorize", rgb)
    tiff("rescale", rescale(rgb, s["rescale"]["percentiles"]))
    return row


def _process_star(args):
    return process_image(*args)


def loop_mem(plan, processes=1):
    from scripts.tables.counts import counts_table
    from scripts.imaging import write_text

    for step in STEPS:
        Path("results", step).mkdir(parents=True, exist_ok=True)
    work = [(image_id, source, plan) for image_id, source in plan["images"].items()]
    if processes == 1:
        rows = [process_image(*args) for args in work]
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            rows = pool.map(_process_star, work, chunksize=max(1, len(work) // (processes * 8)))
    write_text("results/counts.csv", counts_table(rows))


def loop_main(mode, plan_path):
    sys.path.insert(0, str(SNAP))
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    if mode == "loop-run":
        loop_run(plan)
    elif mode == "loop-mem":
        loop_mem(plan, 1)
    elif mode == "loop-mem2":
        loop_mem(plan, 2)
    else:
        raise SystemExit(f"unknown loop {mode}")


# --------------------------------------------------------------------------
# Per-image compute: the workflow's functions vs the tutorial's own code
# --------------------------------------------------------------------------


def tutorial_steps(image):
    """The scikit-image tutorial's code per step (as tests/test_workflow.py)."""
    import warnings

    from skimage import color, exposure, filters, morphology, util

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        mask = image > filters.threshold_otsu(image)
        t1 = time.perf_counter()
        cleaned = mask
        for _ in range(2):
            cleaned = morphology.binary_erosion(cleaned)
        for _ in range(14):
            cleaned = morphology.binary_dilation(cleaned)
        for _ in range(4):
            cleaned = morphology.binary_erosion(cleaned)
        t2 = time.perf_counter()
        labels = morphology.label(cleaned)
        t3 = time.perf_counter()
        rgb = util.img_as_ubyte(color.label2rgb(labels, colors=["greenyellow", "green", "yellow", "yellowgreen"]))
        t4 = time.perf_counter()
        out = exposure.rescale_intensity(rgb)
        t5 = time.perf_counter()
    times = dict(zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)))
    return times, (mask, cleaned, labels, rgb, out)


def workflow_steps(image, plan):
    from scripts.steps.colorize import colorize_labels
    from scripts.steps.label import label_objects
    from scripts.steps.morphology import apply_sequence
    from scripts.algorithms.contrast import rescale
    from scripts.steps.threshold import apply_threshold, compute_threshold

    s = plan["settings"]
    steps = [(x["operation"], x["iterations"]) for x in s["morphology"]["steps"]]
    t0 = time.perf_counter()
    mask = apply_threshold(image, compute_threshold(image, "otsu"))
    t1 = time.perf_counter()
    cleaned = apply_sequence(mask, steps, s["morphology"]["footprint_connectivity"])
    t2 = time.perf_counter()
    labels, _ = label_objects(cleaned, s["label"]["connectivity"])
    t3 = time.perf_counter()
    rgb = colorize_labels(labels, s["colorize"]["colors"])
    t4 = time.perf_counter()
    out = rescale(rgb, s["rescale"]["percentiles"])
    t5 = time.perf_counter()
    times = dict(zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)))
    return times, (mask, cleaned, labels, rgb, out)


def io_steps(image_path, plan, tmpdir):
    """Time the file I/O one image costs in the workflow (read + 5 TIFF writes)."""
    from scripts.imaging import read_image, read_tiff, write_tiff

    t0 = time.perf_counter()
    image, _ = read_image(image_path)
    t1 = time.perf_counter()
    write_tiff(Path(tmpdir) / "x.tif", image, {"step": "x"})
    t2 = time.perf_counter()
    read_tiff(Path(tmpdir) / "x.tif")
    t3 = time.perf_counter()
    return {"read raw": t1 - t0, "write tiff": t2 - t1, "read tiff": t3 - t2}


def compute_main(n_images):
    import tempfile

    import numpy as np

    from scripts.imaging import read_image

    images_dir = ensure_images(max(n_images, 100))
    plan = make_plan(images_dir)
    paths = sorted(images_dir.iterdir())[:n_images]
    tut, wf, io = {s: [] for s in STEPS}, {s: [] for s in STEPS}, {}
    identical = True
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            image, _ = read_image(path)
            # Interleave: tutorial then workflow on the same image.
            t_times, t_out = tutorial_steps(image)
            w_times, w_out = workflow_steps(image, plan)
            for step in STEPS:
                tut[step].append(t_times[step])
                wf[step].append(w_times[step])
            identical &= all(np.array_equal(a, b) for a, b in zip(t_out, w_out))
            for key, value in io_steps(path, plan, tmp).items():
                io.setdefault(key, []).append(value)
    print(f"\n### Per-image compute, {n_images} images 512x512 (median ms; outputs identical: "
          f"{'yes' if identical else 'NO'})\n")
    print("| step | tutorial ms | workflow ms | speed-up |\n|---|---:|---:|---:|")
    for step in STEPS:
        a, b = statistics.median(tut[step]) * 1e3, statistics.median(wf[step]) * 1e3
        print(f"| {step} | {a:.2f} | {b:.2f} | {a / b:.1f}× |")
    a = statistics.median([sum(tut[s][i] for s in STEPS) for i in range(len(paths))]) * 1e3
    b = statistics.median([sum(wf[s][i] for s in STEPS) for i in range(len(paths))]) * 1e3
    print(f"| **chain** | {a:.2f} | {b:.2f} | {a / b:.1f}× |")
    print("\nI/O per call (median ms): " + ", ".join(
        f"{k} {statistics.median(v) * 1e3:.2f}" for k, v in io.items()))


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def startup_note():
    """How long `snakemake --version` takes here: a constant in every
    Snakemake run below. The SLURM plugin asks sacct and squeue about the
    cluster when Snakemake starts: with SLURM's tools installed but no
    controller answering, that alone takes ~9 s (start the cluster, e.g.
    .ci/slurm/start.sh, or measure on a machine without SLURM)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--version"], capture_output=True, check=True)
    seconds = time.perf_counter() - started
    note = f"snakemake --version takes {seconds:.1f} s here (in every Snakemake run below)"
    if seconds > 3:
        note += "; WARNING: slow start, see startup_note() in benchmarks/throughput.py"
    return note


def measure(cmd, cwd, env=None):
    """Run `cmd`; return wall s, CPU s (user+sys incl. children), peak tree RSS MB."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
    # Drain output in a thread so a chatty Snakemake never blocks on the pipe.
    import threading

    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    ps = psutil.Process(proc.pid)
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            rss = ps.memory_info().rss + sum(
                c.memory_info().rss for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    output = (chunks[0] if chunks else b"").decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} in {cwd} exited {proc.returncode}:\n{output[-4000:]}")
    peak = max(peak, usage.ru_maxrss * 1024)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": peak / 1e6}


def tree_hashes(base):
    """sha256 of each step's files and counts.csv (not the report's)."""
    base = Path(base)
    files = [base / "counts.csv"] + [p for step in STEPS for p in sorted((base / step).glob("*"))]
    return {
        str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files if p.is_file()
    }


def ensure_images(n):
    folder = OUT / f"n{n}" / "images"
    done = OUT / f"n{n}" / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {n} images in {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "scripts.generate_examples", "--count", str(n),
                        "--size", "512", "--seed", "0", "--out", str(folder)], cwd=ROOT, check=True)
        done.touch()
    return folder


def take_snapshot():
    from tests.workflow_copy import copy_project

    shutil.rmtree(SNAP, ignore_errors=True)
    copy_project(SNAP, with_example=False)
    sys.path.insert(0, str(SNAP))


STUB = '''"""Benchmark stub: create the job's files, do nothing else."""
def run(input, output, *rest):
    for path in list(output) + list(rest[-1]):
        open(path, "w").close()
'''
STUB_OUTPUT_FIRST = STUB.replace("run(input, output, *rest)", "run(output, *rest)")


def prepare(kind, rundir, images, variant):
    """A fresh run directory for a workflow of `kind`; returns extra args."""
    shutil.rmtree(rundir, ignore_errors=True)
    if kind == "floor":
        rundir.mkdir(parents=True)
        shutil.copy2(FLOOR_SNAKEFILE, rundir / "Snakefile")
        fused = VARIANT_CONFIG.get(variant, {}).get("fuse_steps", True)
        return ["--config", f"input={images}", f"fuse_steps={fused}"]
    import yaml

    shutil.copytree(SNAP, rundir, symlinks=True)
    config_path = rundir / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["input"] = str(images)
    # the loops and the floor do the five tutorial steps only: no per-object tables
    config["measure"] = {"enabled": False}
    config["report"] = {"max_images": 0}  # no QC figures: the loop draws none
    config.update(VARIANT_CONFIG.get(variant, {}))
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    if kind == "decl":
        # Override run() at the end of each module (other names stay importable).
        for module, stub in [*((m, STUB) for m in (*STEPS, "counts", "report_counts")),
                             ("report_parameters", STUB_OUTPUT_FIRST)]:
            with open(rundir / "scripts" / f"{module}.py", "a", encoding="utf-8") as handle:
                handle.write("\n\n" + stub)
    return []


def run_workflow(kind, variant, n, images, reruns, repeat):
    rundir = OUT / f"n{n}" / "runs" / f"{kind}-{variant}"
    extra = prepare(kind, rundir, images, variant)
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", "none", *VARIANTS[variant], *extra]
    result = {}
    if reruns:
        result["dry"] = measure([*cmd, "--dry-run"], rundir)["wall"]
    result.update(measure(cmd, rundir))
    if reruns:
        result["noop"] = measure(cmd, rundir)["wall"]
        first = sorted(images.iterdir())[repeat % n]
        mark = time.time()
        os.utime(first, (mark, mark))
        time.sleep(0.01)
        result["touch"] = measure(cmd, rundir)["wall"]
        result["touch_files"] = sum(
            1 for p in (rundir / "results").rglob("*") if p.is_file() and p.stat().st_mtime >= mark)
    return result, rundir


def run_loop(mode, n, plan_path):
    rundir = OUT / f"n{n}" / "runs" / mode
    shutil.rmtree(rundir, ignore_errors=True)
    rundir.mkdir(parents=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--loop", mode, "--plan", str(plan_path)]
    return measure(cmd, rundir), rundir


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    return "" if value is None else f"{value:.{digits}f}"


def report(n, records, loops):
    """Markdown table of medians, ratios vs best loop and vs floor."""
    groups = {}
    for rec in records:
        groups.setdefault((rec["kind"], rec["variant"]), []).append(rec)
    med = {key: {f: median([r.get(f) for r in recs]) for f in
                 ("wall", "cpu", "rss_mb", "dry", "noop", "touch", "touch_files")}
           for key, recs in groups.items()}
    # The goal's yardstick: the best plain loop in one process (loop-mem2,
    # two processes, is shown for what 2 cores can do).
    loop_walls = [med[(k, "-")]["wall"] for k in loops if (k, "-") in med and k != "loop-mem2"]
    best = min(loop_walls) if loop_walls else None
    lines = [
        f"\n### N = {n} images ({len(records)} runs; medians of {max(len(v) for v in groups.values())} repeats)\n",
        "| run | flags | wall s | CPU s | peak RSS MB | × loop (1 process) | × floor | identical | dry-run s | no-op s | touch-1 s (files) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for (kind, variant), m in med.items():
        floor_variant = FLOOR_VARIANT.get(variant, variant)
        floor = med.get(("floor", floor_variant), {}).get("wall") if kind != "floor" else None
        ident = {r.get("identical") for r in groups[(kind, variant)]} - {None}
        ident_s = "" if not ident else ("yes" if ident == {True} else "NO")
        touch = "" if m["touch"] is None else f"{m['touch']:.1f} ({m['touch_files']:.0f})"
        lines.append(
            f"| {kind} | {variant} | {fmt(m['wall'])} | {fmt(m['cpu'])} | {fmt(m['rss_mb'], 0)} | "
            f"{fmt(m['wall'] / best, 2) if best else ''} | {fmt(m['wall'] / floor, 2) if floor else ''} | "
            f"{ident_s} | {fmt(m['dry'])} | {fmt(m['noop'])} | {touch} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=["profile", "fused"])
    parser.add_argument("--kinds", nargs="*", default=["wf", "floor"], choices=["wf", "floor", "decl"])
    parser.add_argument("--loops", nargs="*", default=["loop-run", "loop-mem", "loop-mem2"])
    parser.add_argument("--reruns", action="store_true", help="also time dry run, no-op and touch-one reruns")
    parser.add_argument("--list", action="store_true", help="list the flag variants")
    parser.add_argument("--compute", type=int, metavar="K",
                        help="only time per-image compute, workflow vs tutorial, on K images")
    parser.add_argument("--loop", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.loop:
        return loop_main(args.loop, args.plan)
    if args.compute:
        take_snapshot()
        return compute_main(args.compute)
    if args.list:
        for name, flags in VARIANTS.items():
            config = " ".join(f"{k}: {v}" for k, v in VARIANT_CONFIG.get(name, {}).items())
            print(f"{name:16s} {' '.join(flags)}" + (f"   (config {config})" if config else ""))
        return
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; see --list")
    take_snapshot()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    print(startup_note(), flush=True)
    tables = []
    for n in args.n:
        images = ensure_images(n)
        plan_path = OUT / f"n{n}" / "plan.json"
        plan_path.write_text(json.dumps(make_plan(images)), encoding="utf-8")
        records, reference = [], None
        runs = [(loop, "-") for loop in args.loops] + [
            (kind, variant) for variant in args.variants for kind in args.kinds
            if not (kind == "floor" and variant in FLOOR_VARIANT)]
        for repeat in range(args.repeats):
            # Rotate the order each repeat so no variant always runs first.
            order = runs[repeat % len(runs):] + runs[: repeat % len(runs)]
            for kind, variant in order:
                if kind in LOOPS:
                    result, rundir = run_loop(kind, n, plan_path)
                else:
                    result, rundir = run_workflow(kind, variant, n, images, args.reruns, repeat)
                if kind in LOOPS or kind == "wf":
                    hashes = tree_hashes(rundir / "results")
                    if reference is None:
                        reference = hashes
                    result["identical"] = hashes == reference and len(hashes) == 7 * n + 1
                result.update(kind=kind, variant=variant, n=n, repeat=repeat)
                records.append(result)
                print(json.dumps(result), flush=True)
        (OUT / f"results-{stamp}-n{n}.json").write_text(json.dumps(records, indent=1), encoding="utf-8")
        tables.append(report(n, records, args.loops))
        print(tables[-1], flush=True)
    if len(tables) > 1:
        print("\n".join(tables))


if __name__ == "__main__":
    main()
