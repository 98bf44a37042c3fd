"""Resources of every job: memory (``mem_mb``) and time (``runtime``, minutes).

Memory grows with the number of pixels of the raw image, not with its file
size (a compressed TIFF or a PNG decodes to several times its size): a base
for the Python process plus a multiple of the decoded size, times the retry
attempt (a job killed for memory on a cluster is retried with twice as much).
The multiples are measured peaks (docs/performance.md, "Memory of large
images"; ``tests/test_large_image.py``). On SLURM two Snakemake processes (~200 MB
each) run inside every job, hence the base.
"""

from __future__ import annotations

import functools
import os

from scripts.imaging import decoded_megabytes

#: MB every job gets before its image.
MEM_BASE_MB = 1000
#: MB per MB of decoded raw image, by rule (images are read into a few
#: full-size working arrays; masks, labels and RGB take at least 2 bytes per
#: pixel, hence the decoded size counts at least 2 bytes per pixel).
MEM_PER_INPUT_MB = {
    "threshold": 6,
    "morphology": 6,
    "label": 10,
    "colorize": 12,
    "rescale": 8,
    "report_image": 16,
    "intensities": 10,
    "evaluate": 12,
    "ome_zarr": 10,  # the raw image and the labels, as the label step holds them
}
#: Minutes every per-image job gets, and MB of file read per extra minute.
RUNTIME_BASE_MIN = 5
RUNTIME_MB_PER_MIN = 20


class JobResources:
    """Resource functions for the rules, over the images of a run.

    Parameters
    ----------
    images : dict of str -> str
        Image id -> path of the raw image.
    max_pixels : int
        The config's ``max_pixels`` (a header declaring more is not trusted
        for the estimate).

    Each ``*_mem_mb``/``*_runtime`` method returns a function of Snakemake's
    ``(wildcards, attempt)`` (and ``threads`` where the rule has several).
    """

    def __init__(self, images, max_pixels):
        self.images = images
        self.max_pixels = max_pixels

    @functools.cache
    def decoded_mb(self, path):
        """MB of the pixels of the image `path` once decoded (header only),
        at least 2 bytes per pixel."""
        return decoded_megabytes(path, self.max_pixels, min_itemsize=2)

    @functools.cache
    def file_mb(self, path):
        """MB of the file `path` on disk."""
        return os.path.getsize(path) / 1e6

    def mem_mb(self, *rules):
        """Memory of one job of the per-image rule `rules` (of the most
        demanding of several rules that one job runs)."""
        per_input_mb = max(MEM_PER_INPUT_MB[rule] for rule in rules)

        def estimate(wildcards, attempt):
            source_mb = self.decoded_mb(self.images[wildcards.image])
            return int(MEM_BASE_MB + per_input_mb * source_mb) * attempt

        return estimate

    def runtime_min(self, steps=1):
        """Time of one per-image job that runs `steps` steps."""

        def estimate(wildcards, attempt):
            file_mb = self.file_mb(self.images[wildcards.image])
            return steps * int(RUNTIME_BASE_MIN + file_mb / RUNTIME_MB_PER_MIN) * attempt

        return estimate

    def largest_decoded_mb(self):
        return max((self.decoded_mb(path) for path in self.images.values()), default=0)

    def evaluate_mem_mb(self, wildcards, attempt):
        """Rule evaluate reads the label images one at a time."""
        return int(MEM_BASE_MB + MEM_PER_INPUT_MB["evaluate"] * self.largest_decoded_mb()) * attempt

    def check_images_mem_mb(self, wildcards, attempt, threads):
        """Rule check_images reads `threads` of the largest image at once,
        each as the threshold step reads it."""
        per_image_mb = MEM_PER_INPUT_MB["threshold"] * self.largest_decoded_mb()
        return int(MEM_BASE_MB + threads * per_image_mb) * attempt

    def check_images_runtime_min(self, wildcards, attempt, threads):
        """Rule check_images reads every image once."""
        total_mb = sum(self.file_mb(path) for path in self.images.values())
        return int(RUNTIME_BASE_MIN + total_mb / RUNTIME_MB_PER_MIN / threads) * attempt
