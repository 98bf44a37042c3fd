# QC figures and tables for `snakemake --report report.html` (the captions
# are in workflow/report/). rule all asks for the per-image figures of the
# first report.max_images ids in sorted order only (report_outputs() in
# common.smk); any other image's can be asked for by name.

# Recorded in results/report/software.tsv; a params of the rule, so an
# upgrade rewrites the file.
SOFTWARE = step_module("report_parameters").software_versions()


rule report_image:
    input:
        image=source_image,
        steps=expand("results/{step}/{{image}}.tif", step=STEPS),
    output:
        steps=report(
            "results/report/steps/{image}.png",
            caption="../report/steps.rst",
            category="Images",
            subcategory="1. Steps",
            labels={"image": "{image}"},
        ),
        outlines=report(
            "results/report/outlines/{image}.png",
            caption="../report/outlines.rst",
            category="Images",
            subcategory="2. Outlines",
            labels={"image": "{image}"},
        ),
        histogram=report(
            "results/report/histograms/{image}.png",
            caption="../report/histograms.rst",
            category="Images",
            subcategory="3. Histograms",
            labels={"image": "{image}"},
        ),
    log:
        "logs/report/{image}.log",
    group:
        "per_image"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb("report_image"),
        runtime=runtime_min,
    params:
        steps=STEPS,
        colors=SETTINGS["colorize"]["colors"],
        percentiles=SETTINGS["rescale"]["percentiles"],
        reading=READING,
        source=source_image,
    run:
        run_step("report_image", input, output, params, log)


rule report_counts:
    input:
        counts=report(
            "results/counts.csv",
            caption="../report/counts_csv.rst",
            category="Counts",
        ),
    output:
        plot=report(
            "results/report/counts.png",
            caption="../report/counts_plot.rst",
            category="Counts",
        ),
        table=report(
            "results/report/counts.html",
            caption="../report/counts_table.rst",
            category="Counts",
        ),
    log:
        "logs/report/counts.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        step_module("report_counts").run(input, output, log)


rule report_parameters:
    output:
        yaml=report(
            "results/report/parameters.yaml",
            caption="../report/parameters.rst",
            category="Run",
        ),
        yaml_html=report(
            "results/report/parameters.html",
            caption="../report/parameters.rst",
            category="Run",
        ),
        tsv=report(
            "results/report/software.tsv",
            caption="../report/software.rst",
            category="Run",
        ),
        tsv_html=report(
            "results/report/software.html",
            caption="../report/software.rst",
            category="Run",
        ),
    log:
        "logs/report/parameters.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        config=canonical(
            {key: value for key, value in config.items() if key not in EXECUTION_KEYS}
        ),
        software=SOFTWARE,
    run:
        step_module("report_parameters").run(output, params, log)
