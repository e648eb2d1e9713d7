"""Colours of the result viewers: a track keeps its colour in every frame, view and run.

A track's colour is picked by a CRC-32 of its tracking id text, so the same id gets the same colour
whenever and wherever it is shown. Red is kept out of the palette: it marks misses and false
positives. All scenes are drawn on a dark background, so the palette is bright.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

TRACK_PALETTE = (
    "#4e9af1", "#f5a142", "#5fd068", "#b68cf2", "#3fd0c9", "#f2d64b", "#f27ab8", "#9ccf3f",
    "#66c2ff", "#ffb26b", "#c3a6ff", "#2ec4b6", "#ffb3c6", "#d9d96a", "#8fb8de", "#7bd389",
    "#d291bc", "#a0c4ff", "#e8c07d", "#56d6a0",
)  # fmt: skip
SCENE_BACKGROUND = "#1e2329"
GROUND_TRUTH = "#aab4be"
MISS = "#ff4d4d"
FALSE_POSITIVE = "#ff6b5b"
ID_SWITCH = "#ff3df0"
SELECTION = "#ffffff"


def hex_to_rgba(colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``"#rrggbb"`` -> floats in 0..1."""
    text = colour.lstrip("#")
    red, green, blue = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue, alpha


PALETTE_RGBA = np.array([hex_to_rgba(colour) for colour in TRACK_PALETTE], dtype=np.float32)


def track_colour_keys(track_names: Sequence[str]) -> np.ndarray:
    """(T,) palette index of each track, from its tracking id text (stable across runs)."""
    size = len(TRACK_PALETTE)
    return np.fromiter(
        (zlib.crc32(name.encode("utf-8")) % size for name in track_names),
        dtype=np.int64,
        count=len(track_names),
    )


def class_colour_keys(class_count: int) -> np.ndarray:
    """(K,) palette index of each class, in class order."""
    return np.arange(class_count, dtype=np.int64) % len(TRACK_PALETTE)
