rule counts:
    input:
        stats=per_image("results/label/{image}.json"),
    output:
        csv="results/counts.csv",
    log:
        "logs/counts.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    run:
        from scripts.tables import counts

        counts.run(input, output, log)


# Every object of every image (measure.enabled), from the label step's
# per-image tables.
rule objects:
    input:
        tables=per_image("results/objects/{image}.csv"),
    output:
        csv="results/objects.csv",
    log:
        "logs/objects.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        from scripts.tables import objects

        objects.run(input, output, log)
