"""``fuse_steps: true``: the five step jobs of an image as one job.

Rule ``fused_steps`` (``workflow/rules/fused_steps.smk``) declares every
output and log of the five step rules and, when it runs, calls each step's
entry point with exactly the arguments the step's own rule would give it:
read from the rules' declarations (``rules.<step>``), so there is no second
copy of any input, output, param or log. The same files, byte for byte.
"""

from __future__ import annotations

import functools

from snakemake.io import apply_wildcards

from scripts.runtime.workers import Arguments


def fuses_this_run(fuse_steps, named_rules, steps):
    """Whether this command runs the steps fused, and the note that says why
    not when a step rule it names turns fusing off.

    Parameters
    ----------
    fuse_steps : bool
        The config's ``fuse_steps``.
    named_rules : iterable of str
        The rules the command names (``--until``, ``--omit-from``,
        ``--forcerun``, ``--allowed-rules``); file names among them are ignored.
    steps : sequence of str
        The step rules' names, in step order.

    Returns
    -------
    (bool, str or None)
        With fusing on, Snakemake would never schedule a step rule, so
        ``--until threshold`` would do nothing: a command that names one runs
        the steps as their own rules instead. Snakemake records which rule
        wrote each file, so switching recomputes each image's steps once
        (to the same bytes).
    """
    named = [step for step in steps if step in set(named_rules)]
    if not fuse_steps or not named:
        return fuse_steps, None
    return False, (
        f"This run names the step rule{'s' if len(named) > 1 else ''} "
        f"{', '.join(named)}: it runs each step as its own job (fuse_steps: false). "
        "Snakemake counts the files of the fused jobs as another rule's: this run "
        "computes them again, and the next run without it does so once more."
    )


class FusedSteps:
    """The step rules' declarations, resolved per image.

    Parameters
    ----------
    declarations : dict of str -> rule
        Each step's rule by step name, in step order: anything with the
        named lists ``input``, ``output``, ``params`` and ``log`` of
        Snakemake's ``rules.<name>`` (patterns, or functions of the
        wildcards).
    entry_points : callable
        Returns each step's ``run(input, output, params, log)`` by step
        (:func:`scripts.steps.step_entry_points`); called when the first job
        runs, so that a dry run does not import the steps.
    """

    def __init__(self, declarations, entry_points):
        self.declarations = dict(declarations)
        self.entry_points = entry_points

    def outputs(self):
        """Every output of the step rules as patterns, named ``<step>_<name>``."""
        return {
            f"{step}_{name}": pattern
            for step, rule in self.declarations.items()
            for name, pattern in rule.output.items()
        }

    def logs(self):
        """Every log pattern of the step rules, in step order."""
        return [pattern for rule in self.declarations.values() for pattern in rule.log]

    def inputs(self, wildcards):
        """What the steps read that none of them writes (the raw image)."""
        arguments = self.arguments(wildcards).values()
        written = {path for _, output, _, _ in arguments for path in output}
        return sorted({path for inputs, _, _, _ in arguments for path in inputs} - written)

    def params(self, wildcards):
        """Each step's params by step: what reruns the fused job when a step's
        settings change."""
        return {
            step: dict(params.items())
            for step, (_, _, params, _) in self.arguments(wildcards).items()
        }

    def jobs(self, wildcards):
        """``(entry point, input, output, params, log)`` of each step for
        these wildcards, in step order: what :func:`scripts.runtime.workers.run_jobs`
        runs."""
        entry_points = self.entry_points()
        return [
            (entry_points[step], *arguments)
            for step, arguments in self.arguments(wildcards).items()
        ]

    def arguments(self, wildcards):
        """``{step: (input, output, params, log)}`` for these wildcards, as
        the step's own rule gives them to its job."""
        return self._arguments(tuple(wildcards.items()))

    @functools.cache
    def _arguments(self, wildcard_items):
        # Worked out once per image, though Snakemake asks for the inputs,
        # the params and the run.
        wildcards = Arguments([], dict(wildcard_items))
        return {
            step: tuple(
                resolve(named, wildcards)
                for named in (rule.input, rule.output, rule.params, rule.log)
            )
            for step, rule in self.declarations.items()
        }


def resolve(named, wildcards):
    """A rule's named list for `wildcards` as Snakemake gives it to a job:
    functions called, patterns filled in; lists (a function's value) spread."""
    items = []
    for value in named:
        resolved = resolve_value(value, wildcards)
        items.extend(resolved if isinstance(resolved, list) else [resolved])
    names = {name: resolve_value(value, wildcards) for name, value in named.items()}
    return Arguments(items, names)


def resolve_value(value, wildcards):
    """One item: a function's value for `wildcards` as it is (a file name may
    contain braces), a pattern with the wildcards filled in."""
    if callable(value):
        return value(wildcards)
    if isinstance(value, str):
        return apply_wildcards(value, dict(wildcards.items()))
    if isinstance(value, list):
        return [resolve_value(item, wildcards) for item in value]
    return value
