# Intensities of every object in other channels (config measure.channels;
# only when set): its own rule, so that measuring one more channel reruns
# this and the tables, not the segmentation.


rule intensities:
    input:
        labels="results/label/{image}.tif",
        channels=channel_files,
    output:
        csv="results/intensities/{image}.csv",
    log:
        "logs/intensities/{image}.log",
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("intensities"),
        runtime=RESOURCES.runtime_min(),
    params:
        channels=channel_specs,
        segmented=config["channel"],
        source=source_image,
    run:
        from scripts.tables import intensities

        run_job(intensities.run, input, output, params, log)
