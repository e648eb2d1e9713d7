"""Stable run colours: a job keeps its colour on every chart, in every session; the trials of an AutoML
study are drawn from the same palette."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

# Well separated on white, in the spirit of TensorBoard's run palette.
RUN_PALETTE = (
    "#1f77b4",
    "#e8710a",
    "#12b5cb",
    "#e52592",
    "#7e57c2",
    "#2ca02c",
    "#d62728",
    "#8c564b",
    "#9e9d24",
    "#f9ab00",
    "#00897b",
    "#3949ab",
)


def job_colour(job_id: str, taken: Iterable[str] = ()) -> str:
    """The job's colour: a palette entry picked by a hash of its id (the next free one if another
    run on screen already has it)."""
    start = zlib.crc32(job_id.encode("utf-8")) % len(RUN_PALETTE)
    used = set(taken)
    for offset in range(len(RUN_PALETTE)):
        colour = RUN_PALETTE[(start + offset) % len(RUN_PALETTE)]
        if colour not in used:
            return colour
    return RUN_PALETTE[start]


def assign_colours(job_ids: Iterable[str]) -> dict[str, str]:
    """Colours for runs shown together, in order: the first keeps its own hash colour."""
    colours: dict[str, str] = {}
    for job_id in job_ids:
        colours[job_id] = job_colour(job_id, colours.values())
    return colours
