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
        scripts.counts.run(input, output, log)
