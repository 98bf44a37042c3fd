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
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("label"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["label"],
        measure=MEASURE,
        reading=READING,
        image_id="{image}",
        source=source_image,
        compression=COMPRESSION,
    run:
        run_step("label", input, output, params, log)
