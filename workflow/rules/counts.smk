rule counts:
    input:
        stats=per_image("results/label/{image}.json"),
    output:
        csv="results/counts.csv",
    log:
        "logs/counts.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    run:
        from scripts.tables import counts

        counts.run(input, output, log)


# Every object of every image (measure.enabled), from the label step's
# per-image tables, with the intensities in other channels (measure.channels)
# joined by label.
rule objects:
    input:
        tables=per_image("results/objects/{image}.csv") if MEASURE else [],
        intensities=per_image("results/intensities/{image}.csv") if CHANNELS else [],
    output:
        csv="results/objects.csv",
    log:
        "logs/objects.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        from scripts.tables import objects

        objects.run(input, output, log)


# Per-well answers, when the images have wells (screen.file_pattern, an
# OME-Zarr plate, a sample sheet's well column).
rule wells:
    input:
        stats=per_image("results/label/{image}.json"),
        intensities=per_image("results/intensities/{image}.csv") if CHANNELS else [],
    output:
        csv="results/wells.csv",
    log:
        "logs/wells.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        images=processed_ids,
        places=image_places(),
        positive=positive_thresholds(),
    run:
        from scripts.tables import wells

        wells.run(input, output, params, log)
