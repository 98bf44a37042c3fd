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
    threads: 1
    resources:
        mem_mb=RESOURCES.evaluate_mem_mb,
        runtime=30,
    params:
        **PARAMS["evaluate"],
    run:
        from scripts.tables import evaluate

        evaluate.run(input, output, params, log)
