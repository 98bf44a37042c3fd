"""Python's garbage collector set for Snakemake's large DAGs.

Snakemake builds its DAG out of millions of small Python objects (at 10,000
images about 60,000 jobs, each with its input, output, log and params
lists), nearly all of them alive until the run ends. With Python's default
thresholds (700, 10, 10) the collector walks them again and again while
they are made: a dry run of 10,000 images takes 36.8-37.8 s, 28.1 s with
the collector off. :func:`tune_for_large_dags`, called first thing by the
Snakefile, freezes what exists (Snakemake's own modules) and collects the
young generation every 100,000 allocations instead of 700: 28.3-29.2 s, the
same peak memory (1.08 GB). Garbage is still collected, only less often;
more figures in docs/performance.md.
"""

from __future__ import annotations

import gc

#: Allocations between two collections of the youngest generation, and
#: collections of a generation between two of the next (Python's defaults:
#: 700, 10, 10).
THRESHOLDS = (100_000, 50, 1000)


def tune_for_large_dags():
    """Freeze the objects that exist now (never collected again: they live
    as long as the process) and raise the collector's thresholds to
    :data:`THRESHOLDS`. Idempotent."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
