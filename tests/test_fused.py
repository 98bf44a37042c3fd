"""scripts.runtime.fused: the five step jobs of an image as one, with the
arguments each step's own rule declares."""

from __future__ import annotations

from types import SimpleNamespace

from scripts.runtime.fused import FusedSteps, fuses_this_run, resolve
from scripts.runtime.runs import named_rules
from scripts.runtime.workers import Arguments


def named(items=(), **names):
    """A rule's named list as Snakemake's rules.<name> holds it."""
    return Arguments([*items, *names.values()], names)


def raw(wildcards):
    return f"images/{wildcards.image}.tif"


DECLARATIONS = {
    "first": SimpleNamespace(
        input=named(image=raw),
        output=named(mask="results/first/{image}.tif", stats="results/first/{image}.json"),
        params=named(settings={"k": 1}, source=raw, image_id="{image}"),
        log=named(["logs/first/{image}.log"]),
    ),
    "second": SimpleNamespace(
        input=named(mask="results/first/{image}.tif", extra=lambda wildcards: [raw(wildcards)]),
        output=named(rgb="results/second/{image}.tif"),
        params=named(settings={"k": 2}),
        log=named(["logs/second/{image}.log"]),
    ),
}


def entry_points():
    return {"first": print, "second": len}


def test_outputs_and_logs_are_every_steps_in_order():
    fused = FusedSteps(DECLARATIONS, entry_points)
    assert fused.outputs() == {
        "first_mask": "results/first/{image}.tif",
        "first_stats": "results/first/{image}.json",
        "second_rgb": "results/second/{image}.tif",
    }
    assert fused.logs() == ["logs/first/{image}.log", "logs/second/{image}.log"]


def test_inputs_are_what_no_step_writes():
    fused = FusedSteps(DECLARATIONS, entry_points)
    assert fused.inputs(Arguments([], {"image": "a"})) == ["images/a.tif"]


def test_params_are_each_steps_params_filled_in():
    fused = FusedSteps(DECLARATIONS, entry_points)
    assert fused.params(Arguments([], {"image": "a"})) == {
        "first": {"settings": {"k": 1}, "source": "images/a.tif", "image_id": "a"},
        "second": {"settings": {"k": 2}},
    }


def test_jobs_get_each_steps_entry_point_and_arguments():
    fused = FusedSteps(DECLARATIONS, entry_points)
    (first, *first_args), (second, *second_args) = fused.jobs(Arguments([], {"image": "a"}))
    assert (first, second) == (print, len)
    first_input, first_output, _, first_log = first_args
    assert first_input.image == "images/a.tif" and list(first_log) == ["logs/first/a.log"]
    assert first_output.mask == "results/first/a.tif"
    assert list(second_args[0]) == ["results/first/a.tif", "images/a.tif"]
    assert second_args[0].extra == ["images/a.tif"]


def test_entry_points_are_imported_only_when_a_job_runs():
    calls = []

    def counting_entry_points():
        calls.append(1)
        return entry_points()

    fused = FusedSteps(DECLARATIONS, counting_entry_points)
    wildcards = Arguments([], {"image": "a"})
    fused.inputs(wildcards), fused.params(wildcards), fused.outputs()
    assert calls == []
    fused.jobs(wildcards)
    assert calls == [1]


def test_a_functions_value_is_taken_as_it_is_braces_and_all():
    wildcards = Arguments([], {"image": "odd{name}"})
    resolved = resolve(named(image=raw, mask="results/{image}.tif"), wildcards)
    assert resolved.image == "images/odd{name}.tif"
    assert resolved.mask == "results/odd{name}.tif"


STEP_RULES = ("threshold", "morphology", "label", "colorize", "rescale")


def test_a_command_that_names_no_step_rule_keeps_the_config_setting():
    assert fuses_this_run(True, [], STEP_RULES) == (True, None)
    assert fuses_this_run(True, ["counts", "results/counts.csv"], STEP_RULES) == (True, None)
    assert fuses_this_run(False, ["threshold"], STEP_RULES) == (False, None)


def test_naming_a_step_rule_runs_the_step_rules_and_says_so():
    fused, note = fuses_this_run(True, ["rescale", "counts", "threshold"], STEP_RULES)
    assert fused is False
    assert "step rules threshold, rescale:" in note and "fuse_steps: false" in note


def test_the_rules_a_command_names_are_read_from_every_option_that_takes_rules():
    argv = ["--cores", "2", "--until", "label", "--omit-from", "colorize", "--forcerun", "rescale"]
    assert named_rules(argv) == ["label", "colorize", "rescale"]
    # how Snakemake starts a cluster job of the threshold rule
    job = ["--target-jobs", "threshold:image=a", "--allowed-rules", "threshold", "--cores", "1"]
    assert named_rules(job) == ["threshold"]
    assert named_rules(["--cores", "2", "results/counts.csv"]) == []
