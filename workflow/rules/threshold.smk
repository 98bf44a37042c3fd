rule threshold:
    input:
        image=source_image,
    output:
        mask="results/threshold/{image}.tif",
        stats="results/threshold/{image}.json",
    log:
        "logs/threshold/{image}.log",
    group:
        "per_image"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("threshold"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["threshold"],
        preprocess=PREPROCESS,
        diameter=DIAMETER,
        reading=READING,
        source=source_image,
        image_id="{image}",
        compression=COMPRESSION,
    run:
        run_step("threshold", input, output, params, log)
