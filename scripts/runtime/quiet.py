"""``snakemake -q``: a screenful, not two lines per scheduling round.

Snakemake's scheduler logs "Select jobs to execute..." and "Execute N
jobs..." at every round, even with ``--quiet``: for a run of 10,000 images,
thousands of lines that say nothing. With ``--quiet progress`` (what ``-q``
sets) they are dropped; errors, warnings and the run's summary stay.
"""

from __future__ import annotations

import logging
import re

#: The scheduler's messages of every round.
ROUND_MESSAGES = re.compile(r"Select jobs to execute\.\.\.|Execute \d+ jobs\.\.\.")


class SchedulingRounds(logging.Filter):
    """Drops the scheduler's per-round info messages, and nothing else."""

    def filter(self, record):
        return not (
            record.levelno == logging.INFO and ROUND_MESSAGES.fullmatch(str(record.msg))
        )


def quiet_rounds(logger, quiet):
    """Install :class:`SchedulingRounds` on Snakemake's `logger` when
    `quiet` (Snakemake's output_settings.quiet, a set) holds ``progress``."""
    if any(getattr(level, "name", str(level)).lower() in ("progress", "all") for level in quiet or ()):
        logger.addFilter(SchedulingRounds())
        return True
    return False
