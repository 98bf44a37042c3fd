rule morphology:
    input:
        mask="results/threshold/{image}.tif",
        threshold_stats="results/threshold/{image}.json",
    output:
        mask="results/morphology/{image}.tif",
    log:
        "logs/morphology/{image}.log",
    group:
        "per_image"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("morphology"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["morphology"],
        cleanup=CLEANUP,
        source=source_image,
        compression=COMPRESSION,
    run:
        run_step("morphology", input, output, params, log)
