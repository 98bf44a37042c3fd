# Accuracy against ground truth (config key evaluation; only when counts or
# labels is set): one row per image with truth, and a summary.


rule evaluate:
    input:
        stats=per_image("results/label/{image}.json"),
        labels=evaluated_labels,
        truth_labels=truth_label_files,
        counts=truth_counts_file,
    output:
        csv="results/evaluation.csv",
        summary="results/evaluation_summary.csv",
    log:
        "logs/evaluate.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=evaluate_mem_mb,
        runtime=30,
    params:
        # a dict: Snakemake would read {image} in a plain string as a wildcard
        evaluation=EVALUATION,
        max_pixels=config["max_pixels"],
    run:
        step_module("evaluate").run(input, output, params, log)
