# fuse_steps: true (the default; docs/performance.md). One job per image
# runs the five steps, exactly as their own rules declare them (the same
# inputs, outputs, params and logs, read from rules.<step>), and writes the
# same files; ruleorder makes Snakemake take this rule for them. A fifth of
# the jobs, so a fifth of Snakemake's own cost per image. A change to one
# step's settings reruns the job of every image, but each job recomputes only
# from the first step whose settings or input changed: the earlier steps'
# files come back from the step cache. Switching fuse_steps on or off reruns
# every image's job once (Snakemake records which rule wrote each file). The
# machinery: scripts/runtime/fused.py, scripts/runtime/stepcache.py.
from scripts.runtime.fused import FusedSteps
from scripts.runtime.stepcache import CACHE_FOLDER
from scripts.steps import step_entry_points

FUSED = FusedSteps({step: getattr(rules, step) for step in STEPS}, step_entry_points)
# Each step's outputs are kept as hard links: a job recomputes only from its
# first changed step (scripts/runtime/stepcache.py).
STEP_CACHE = str(CACHE_FOLDER)


rule fused_steps:
    input:
        FUSED.inputs,
    output:
        **FUSED.outputs(),
    log:
        FUSED.logs(),
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb(*STEPS),
        runtime=RESOURCES.runtime_min(steps=len(STEPS)),
    params:
        steps=FUSED.params,
    run:
        run_jobs(FUSED.jobs(wildcards), cache=(STEP_CACHE, wildcards.image))


for _step in STEPS:
    workflow.ruleorder("fused_steps", _step)
