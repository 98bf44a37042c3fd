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
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("colorize"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["colorize"],
        reading=READING,
        source=source_image,
        compression=COMPRESSION,
    run:
        run_step("colorize", input, output, params, log)
