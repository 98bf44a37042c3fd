# QC figures and tables for `snakemake --report report.html` (the captions
# are in workflow/report/). rule all asks for the per-image figures of the
# first report.max_images ids in sorted order only (report_outputs() in
# common.smk); any other image's can be asked for by name.

from scripts.report.parameters import software_versions


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
            labels=report_label,
        ),
        outlines=report(
            "results/report/outlines/{image}.png",
            caption="../report/outlines.rst",
            category="Images",
            subcategory="2. Outlines",
            labels=report_label,
        ),
        histogram=report(
            "results/report/histograms/{image}.png",
            caption="../report/histograms.rst",
            category="Images",
            subcategory="3. Histograms",
            labels=report_label,
        ),
    log:
        "logs/report/{image}.log",
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("report_image"),
        runtime=RESOURCES.runtime_min(),
    params:
        **PARAMS["report_image"],
        reading=image_reading,
        source=source_image,
        image_id="{image}",
    run:
        from scripts.report import image

        run_job(image.run, input, output, params, log)


rule report_counts:
    input:
        counts="results/counts.csv",
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
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        from scripts.report import counts

        counts.run(input, output, log)


rule report_parameters:
    output:
        yaml="results/report/parameters.yaml",
        yaml_html=report(
            "results/report/parameters.html",
            caption="../report/parameters.rst",
            category="Run",
        ),
        tsv="results/report/software.tsv",
        tsv_html=report(
            "results/report/software.html",
            caption="../report/software.rst",
            category="Run",
        ),
    log:
        "logs/report/parameters.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        **PARAMS["report_parameters"],
        # an upgrade of a package rewrites the file
        software=software_versions(),
    run:
        from scripts.report import parameters

        parameters.run(output, params, log)


# Only with ground truth configured (evaluate.smk).
rule report_evaluation:
    input:
        csv="results/evaluation.csv",
        summary="results/evaluation_summary.csv",
    output:
        plot=report(
            "results/report/evaluation.png",
            caption="../report/evaluation_plot.rst",
            category="Evaluation",
        ),
        table=report(
            "results/report/evaluation.html",
            caption="../report/evaluation_table.rst",
            category="Evaluation",
        ),
    log:
        "logs/report/evaluation.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        from scripts.report import evaluation

        evaluation.run(input, output, log)


# Only when the images have wells (rule wells).
rule report_wells:
    input:
        csv="results/wells.csv",
    output:
        plot=report(
            "results/report/plate.png",
            caption="../report/plate.rst",
            category="Wells",
        ),
        table=report(
            "results/report/wells.html",
            caption="../report/wells_table.rst",
            category="Wells",
        ),
    log:
        "logs/report/wells.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        heatmaps=config["screen"]["heatmaps"],
        plate_format=config["screen"]["plate_format"],
    run:
        from scripts.report import wells

        wells.run(input, output, params, log)
