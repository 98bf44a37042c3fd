rule label:
    input:
        mask="results/morphology/{image}.tif",
        threshold_stats="results/threshold/{image}.json",
        image=label_raw_input,
    output:
        **LABEL_OBJECTS,
        labels="results/label/{image}.tif",
        stats="results/label/{image}.json",
    log:
        "logs/label/{image}.log",
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("label"),
        runtime=RESOURCES.runtime_min(),
    params:
        **PARAMS["label"],
        reading=image_reading,
        image_id="{image}",
        source=source_image,
    run:
        from scripts.steps import label

        run_job(label.run, input, output, params, log)
