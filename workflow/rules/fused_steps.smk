# fuse_steps: true (off by default; docs/performance.md). One job per image
# runs the five steps, exactly as their own rules declare them (the same
# inputs, outputs, params and logs, read from rules.<step>), and writes the
# same files; ruleorder makes Snakemake take this rule for them. A fifth of
# the jobs, so a fifth of Snakemake's own cost per image; but a change to one
# step's settings reruns all five steps of every image, and switching
# fuse_steps on or off reruns every image once (Snakemake records which rule
# wrote each file). The machinery: scripts/runtime/fused.py.
from scripts.runtime.fused import FusedSteps
from scripts.steps import step_entry_points

FUSED = FusedSteps({step: getattr(rules, step) for step in STEPS}, step_entry_points)


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
        run_jobs(FUSED.jobs(wildcards))


for _step in STEPS:
    workflow.ruleorder("fused_steps", _step)
