rule counts:
    input:
        stats=per_image("results/label/{image}.json"),
    output:
        csv="results/counts.csv",
    log:
        "logs/counts.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    run:
        step_module("counts").run(input, output, log)


# Every object of every image (measure.enabled), from the label step's
# per-image tables.
rule objects:
    input:
        tables=per_image("results/objects/{image}.csv"),
    output:
        csv="results/objects.csv",
    log:
        "logs/objects.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        step_module("objects").run(input, output, log)
