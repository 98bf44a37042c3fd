rule rescale:
    input:
        rgb="results/colorize/{image}.tif",
    output:
        rgb="results/rescale/{image}.tif",
    log:
        "logs/rescale/{image}.log",
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("rescale"),
        runtime=RESOURCES.runtime_min(),
    params:
        **PARAMS["rescale"],
        source=source_image,
    run:
        from scripts.steps import rescale

        run_job(rescale.run, input, output, params, log)
