"""The Python of the segmentation workflow (docs/design.md: which package
holds what)."""

#: The libraries that compute or read the pixels of the outputs (the optional
#: readers of requirements-formats.txt included): their versions are part of
#: every step-cache key (scripts/runtime/stepcache.py) and are recorded in
#: the report's software table (scripts/report/parameters.py).
COMPUTING_LIBRARIES = (
    "numpy",
    "scipy",
    "scikit-image",
    "tifffile",
    "imagecodecs",
    "imageio",
    "pillow",
    "nd2",
    "liffile",
    "pylibCZIrw",
    "zarr",
    "ome-zarr",
)
