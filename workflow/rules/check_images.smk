# With `on_unreadable: skip` (off by default): a checkpoint reads every image
# first; the ones that cannot be read get no jobs and are listed in
# results/skipped.csv instead of failing the run. With the default `fail` the
# checkpoint is never requested and the DAG is built as without this file.


checkpoint check_images:
    input:
        images=[image.path for image in IMAGES.values()],
    output:
        skipped=report(
            "results/skipped.csv",
            caption="../report/skipped.rst",
            category="Counts",
        ),
    log:
        "logs/check_images.log",
    threads: 2
    resources:
        mem_mb=RESOURCES.check_images_mem_mb,
        runtime=RESOURCES.check_images_runtime_min,
    params:
        readings=image_readings(),
        ids=list(IMAGES),
    run:
        from scripts.tables import check_images

        check_images.run(input, output, params, log, threads)
