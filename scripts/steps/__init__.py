"""The five steps of the workflow, in order: one module and one rule each.

Each module holds the step's functions on arrays and, at its end, the entry
point ``run(input, output, params, log)`` that its rule in
``workflow/rules/<step>.smk`` calls (reads the inputs, computes, writes the
outputs atomically, logs).
"""

#: The steps in the order they run; it drives the rules' order, the fused
#: rule (config fuse_steps), the report's strip of steps and the benchmarks.
STEPS = ("threshold", "morphology", "label", "colorize", "rescale")


def step_entry_points():
    """The ``run`` function of each step module, by step (imports them)."""
    from scripts.steps import colorize, label, morphology, rescale, threshold

    return {
        "threshold": threshold.run,
        "morphology": morphology.run,
        "label": label.run,
        "colorize": colorize.run,
        "rescale": rescale.run,
    }
