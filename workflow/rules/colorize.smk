rule colorize:
    input:
        labels="results/label/{image}.tif",
        image=colorize_raw_input,
    output:
        rgb="results/colorize/{image}.tif",
    log:
        "logs/colorize/{image}.log",
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("colorize"),
        runtime=RESOURCES.runtime_min(),
    params:
        **PARAMS["colorize"],
        reading=image_reading,
        source=source_image,
    run:
        from scripts.steps import colorize

        run_job(colorize.run, input, output, params, log)
