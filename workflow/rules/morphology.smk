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
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("morphology"),
        runtime=RESOURCES.runtime_min(),
    params:
        **PARAMS["morphology"],
        source=source_image,
    run:
        from scripts.steps import morphology

        run_job(morphology.run, input, output, params, log)
