"""The QC report (``snakemake --report``): figures, HTML tables, run records."""

#: Image ids longer than this are shortened in the report's lists.
MAX_LISTED_ID = 24


def short_id(image_id, limit=MAX_LISTED_ID):
    """`image_id` as the report's lists show it: as it is up to `limit`
    characters, else its start and end around an ellipsis (ids such as the
    64-hex-digit names of DSB2018 keep their first and last digits)."""
    if len(image_id) <= limit:
        return image_id
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return f"{image_id[:head]}…{image_id[-tail:]}"
