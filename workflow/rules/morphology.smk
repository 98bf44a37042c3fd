rule morphology:
    input:
        mask="results/threshold/{image}.tif",
    output:
        mask="results/morphology/{image}.tif",
    log:
        "logs/morphology/{image}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("morphology"),
        runtime=runtime_min,
    params:
        settings=SETTINGS["morphology"],
        source=source_image,
        compression=COMPRESSION,
    run:
        scripts.morphology.run(input, output, params, log)
