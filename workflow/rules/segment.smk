# fuse_steps: true (off by default; README, "Performance"). One job per image
# runs the five steps, exactly as their own rules declare them (the same
# inputs, outputs, params and logs, read from rules.<step>), and writes
# the same files; ruleorder makes Snakemake take this rule for them. A
# fifth of the jobs, so a fifth of Snakemake's own cost per image; but a
# change to one step's settings reruns all five steps of every image, and
# switching fuse_steps on or off reruns every image once (Snakemake records
# which rule wrote each file). Its functions are in common.smk.


rule segment:
    input:
        fused_inputs,
    output:
        **fused_outputs(),
    log:
        [pattern for step in STEPS for pattern in getattr(rules, step).log],
    group:
        "per_image"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(max(STEPS, key=MEM_PER_INPUT_MB.get)),
        runtime=lambda wildcards, attempt: len(STEPS) * runtime_min(wildcards, attempt),
    params:
        steps=fused_params,
    run:
        run_chain(chain_jobs(wildcards))


ruleorder: segment > threshold
ruleorder: segment > morphology
ruleorder: segment > label
ruleorder: segment > colorize
ruleorder: segment > rescale
