"""Line geometry shared by the 2D and 3D views: box edges, headings and trails as segment arrays.

Everything here is plain numpy and works on whole batches: a frame's boxes become one array of
segment end points, drawn by one item (a pyqtgraph path or a vispy ``Line`` with
``connect='segments'``).
"""

from __future__ import annotations

import numpy as np

from app.core.results.projection import BOX_EDGES

_EDGE_INDEX = np.asarray(BOX_EDGES, dtype=np.int64).reshape(-1)
_BOTTOM_LOOP = np.array([0, 1, 2, 3, 0], dtype=np.int64)


def box_edge_segments(corners: np.ndarray) -> np.ndarray:
    """(n*24, 3) end points of the 12 edges of n boxes given as (n, 8, 3) corners, pair by pair."""
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 8, 3)
    return corners[:, _EDGE_INDEX, :].reshape(-1, 3)


def heading_segments(corners: np.ndarray, top: bool = True) -> np.ndarray:
    """(n*2, 3) a line from each box's centre to the middle of its front face (on its top or bottom)."""
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 8, 3)
    face = corners[:, 4:8, :] if top else corners[:, 0:4, :]
    centre = face.mean(axis=1)
    front = face[:, 0:2, :].mean(axis=1)
    return np.stack([centre, front], axis=1).reshape(-1, 3)


def footprints(corners: np.ndarray) -> np.ndarray:
    """(n, 5, 2) closed ground outlines (bottom face, first corner repeated) for a top view."""
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 8, 3)
    return corners[:, _BOTTOM_LOOP, :2]


def polyline_pairs(points: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments joining consecutive points of the same group.

    ``points`` (k, d) and ``groups`` (k,) are ordered so each group's points are contiguous and in
    drawing order. Returns ``(pairs, group_of_pair)``: (s*2, d) end points and the group of each pair.
    """
    points = np.asarray(points)
    groups = np.asarray(groups)
    if len(points) < 2:
        return np.zeros((0, points.shape[1] if points.ndim == 2 else 3)), np.zeros(0, dtype=groups.dtype)
    joined = np.flatnonzero(groups[1:] == groups[:-1])
    pairs = np.stack([points[joined], points[joined + 1]], axis=1).reshape(-1, points.shape[1])
    return pairs, groups[joined]


def ground_grid(bounds: tuple[float, float, float, float], spacing: float = 1.0) -> np.ndarray:
    """(k*2, 3) end points of grid lines on z=0 covering ``(xmin, xmax, ymin, ymax)`` at ``spacing``."""
    xmin, xmax, ymin, ymax = bounds
    x0, x1 = np.floor(xmin / spacing) * spacing, np.ceil(xmax / spacing) * spacing
    y0, y1 = np.floor(ymin / spacing) * spacing, np.ceil(ymax / spacing) * spacing
    xs = np.arange(x0, x1 + spacing / 2, spacing)
    ys = np.arange(y0, y1 + spacing / 2, spacing)
    vertical = np.stack(
        [np.column_stack([xs, np.full_like(xs, y0)]), np.column_stack([xs, np.full_like(xs, y1)])], axis=1
    )
    horizontal = np.stack(
        [np.column_stack([np.full_like(ys, x0), ys]), np.column_stack([np.full_like(ys, x1), ys])], axis=1
    )
    flat = np.concatenate([vertical, horizontal]).reshape(-1, 2)
    return np.column_stack([flat, np.zeros(len(flat))])
