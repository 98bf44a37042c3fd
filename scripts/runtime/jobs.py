"""What every step's Snakemake entry point shares: its log and its provenance.

Jobs may run as threads inside the Snakemake process (the tables, and every
job with ``job_processes: 0``; docs/design.md), so a job must not redirect
``sys.stderr``; it writes to its own log file instead.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path



class StepError(RuntimeError):
    """A step that failed for a reason the user can act on; the message
    names the image file and the problem."""


@contextmanager
def job_log(log_path, step, source):
    """Open the job's log; yield a ``note(message)`` function.

    Any exception inside the block is written to the log as one line and
    re-raised as :class:`StepError` whose message names the step, the
    source image and the problem (what Snakemake prints in its summary).
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:

        def note(message):
            log.write(f"{message}\n")

        note(f"{step}: {source}")
        try:
            yield note
        except Exception as error:
            message = f"{step} failed for {source}: {error}"
            note(f"ERROR: {message}")
            raise StepError(message) from error
        note(f"done in {time.perf_counter() - started:.3f} s")


def provenance(step, parameters, source):
    """The metadata every output TIFF carries (JSON-serialisable)."""
    return {"step": step, "parameters": dict(parameters), "source": str(source)}
