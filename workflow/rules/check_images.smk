# With `on_unreadable: skip` (off by default): a checkpoint reads every image
# first; the ones that cannot be read get no jobs and are listed in
# results/skipped.csv instead of failing the run. With the default `fail` the
# checkpoint is never requested and the DAG is built as without this file.


checkpoint check_images:
    input:
        images=list(IMAGES.values()),
    output:
        skipped=report(
            "results/skipped.csv",
            caption="../report/skipped.rst",
            category="Counts",
        ),
    log:
        "logs/check_images.log",
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=check_images_mem_mb,
        runtime=check_images_runtime_min,
    params:
        ids=list(IMAGES),
        reading=READING,
    run:
        step_module("check_images").run(input, output, params, log, threads)
