rule label:
    input:
        mask="results/morphology/{image}.tif",
        threshold_stats="results/threshold/{image}.json",
    output:
        labels="results/label/{image}.tif",
        stats="results/label/{image}.json",
    log:
        "logs/label/{image}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("label"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["label"],
        source=source_image,
        compression=COMPRESSION,
    run:
        scripts.label.run(input, output, params, log)
