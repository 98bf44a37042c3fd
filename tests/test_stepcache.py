"""scripts.runtime.stepcache: an image's steps recompute only from the first
changed one; the others' files come back as the same files."""

from __future__ import annotations

import os

from scripts.runtime import stepcache
from scripts.runtime.workers import Arguments

CALLS = []


def first(input, output, params, log):
    CALLS.append("first")
    for path in output:
        open(path, "w").write(f"first {params.k} {open(input[0]).read()}")
    open(log[0], "w").write("first log\n")


def second(input, output, params, log):
    CALLS.append("second")
    open(output[0], "w").write(f"second {params.k} of {open(input[0]).read()}")
    open(log[0], "w").write("second log\n")


first.__module__ = "steps.first"
second.__module__ = "steps.second"


def chain(tmp_path, k1=1, k2=1):
    raw = tmp_path / "raw.txt"
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return [
        (first, Arguments([str(raw)], {"image": str(raw)}), Arguments([str(out / "a1"), str(out / "a2")]),
         Arguments([], {"k": k1}), Arguments([str(out / "first.log")])),
        (second, Arguments([str(out / "a1")]), Arguments([str(out / "b")]),
         Arguments([], {"k": k2}), Arguments([str(out / "second.log")])),
    ]


def run(tmp_path, **settings):
    CALLS.clear()
    computed = stepcache.run_chain(chain(tmp_path, **settings), tmp_path / "cache", "img", "code-1")
    assert computed == CALLS
    return computed


def test_only_the_changed_step_and_later_ones_are_computed(tmp_path):
    (tmp_path / "raw.txt").write_text("pixels")
    assert run(tmp_path) == ["first", "second"]
    inodes = {p.name: p.stat().st_ino for p in (tmp_path / "out").iterdir()}
    for name in ("a1", "a2", "b"):
        os.utime(tmp_path / "out" / name, ns=(2, 2))  # Snakemake touches a job's outputs
        (tmp_path / "out" / name).unlink()  # and deletes a rerun job's outputs
    assert run(tmp_path, k2=2) == ["second"]
    after = {p.name: p.stat().st_ino for p in (tmp_path / "out").iterdir()}
    assert after["a1"] == inodes["a1"] and after["a2"] == inodes["a2"]  # the same files
    assert after["b"] != inodes["b"]
    assert (tmp_path / "out" / "b").read_text() == "second 2 of first 1 pixels"
    assert (tmp_path / "out" / "first.log").read_text() == "first log\n"  # its log, kept
    assert run(tmp_path, k1=3, k2=2) == ["first", "second"]


def test_a_changed_raw_file_or_code_recomputes_everything(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("pixels")
    run(tmp_path)
    os.utime(raw, ns=(1, 1))  # touched (any other modification time)
    assert run(tmp_path) == ["first", "second"]
    CALLS.clear()
    assert stepcache.run_chain(chain(tmp_path), tmp_path / "cache", "img", "code-2") == ["first", "second"]


def test_only_the_last_version_of_a_step_is_kept(tmp_path):
    (tmp_path / "raw.txt").write_text("pixels")
    for k in (1, 2, 3):
        run(tmp_path, k2=k)
    assert len(list((tmp_path / "cache" / "second" / "img").iterdir())) == 1
    assert len(list((tmp_path / "cache" / "first" / "img").iterdir())) == 1


def test_keys_follow_every_input_of_a_step(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("x")
    key = stepcache.step_key("s", {"a": 1}, [str(raw)], None, "c")
    assert key == stepcache.step_key("s", {"a": 1}, [str(raw)], None, "c")
    assert key != stepcache.step_key("s", {"a": 2}, [str(raw)], None, "c")
    assert key != stepcache.step_key("s", {"a": 1}, [str(raw)], "before", "c")
    assert key != stepcache.step_key("t", {"a": 1}, [str(raw)], None, "c")
    raw.write_text("xy")
    assert key != stepcache.step_key("s", {"a": 1}, [str(raw)], None, "c")


def test_without_hard_links_nothing_is_kept_and_everything_computed(tmp_path, monkeypatch):
    (tmp_path / "raw.txt").write_text("pixels")

    def refuse(source, target):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(stepcache.os, "link", refuse)
    assert run(tmp_path) == ["first", "second"]
    assert run(tmp_path, k2=2) == ["first", "second"]
    assert (tmp_path / "out" / "b").read_text() == "second 2 of first 1 pixels"


def test_the_code_fingerprint_reads_the_package():
    assert len(stepcache.code_fingerprint()) == 64
    assert stepcache.code_fingerprint() == stepcache.code_fingerprint()


def test_a_result_changed_in_place_is_computed_again_not_restored(tmp_path):
    """The cache holds hard links to the results: a result edited in place
    (same file) changes the kept copy too, so it is never restored."""
    (tmp_path / "raw.txt").write_text("pixels")
    run(tmp_path)
    for name in ("a1", "a2", "b"):  # as Snakemake does after every job
        os.utime(tmp_path / "out" / name)
    edited = tmp_path / "out" / "a1"
    with open(edited, "a") as handle:  # an editor saving over the same file
        handle.write(" painted over")
    for name in ("a1", "a2", "b"):
        (tmp_path / "out" / name).unlink()
    assert run(tmp_path) == ["first"]  # the next step's kept files are still good
    assert edited.read_text() == "first 1 pixels"


def test_a_step_that_fails_leaves_the_kept_log_of_its_last_run(tmp_path):
    (tmp_path / "raw.txt").write_text("pixels")
    run(tmp_path)

    def failing(input, output, params, log):
        open(log[0], "w").write("failed\n")
        raise RuntimeError("broken")

    failing.__module__ = "steps.second"
    jobs = chain(tmp_path, k2=2)
    jobs[1] = (failing, *jobs[1][1:])
    try:
        stepcache.run_chain(jobs, tmp_path / "cache", "img", "code-1")
    except RuntimeError:
        pass
    (tmp_path / "out" / "b").unlink(missing_ok=True)
    assert run(tmp_path) == []  # the settings of the last good run again
    assert (tmp_path / "out" / "second.log").read_text() == "second log\n"
