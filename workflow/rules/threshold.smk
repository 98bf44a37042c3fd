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
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("threshold"),
        runtime=RESOURCES.runtime_min(),
    params:
        **PARAMS["threshold"],
        reading=image_reading,
        source=source_image,
        image_id="{image}",
    run:
        from scripts.steps import threshold

        run_job(threshold.run, input, output, params, log)
