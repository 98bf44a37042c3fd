rule rescale:
    input:
        rgb="results/colorize/{image}.tif",
    output:
        rgb="results/rescale/{image}.tif",
    log:
        "logs/rescale/{image}.log",
    group:
        "per_image"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("rescale"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["rescale"],
        source=source_image,
        compression=COMPRESSION,
    run:
        run_step("rescale", input, output, params, log)
