"""The skeleton graph layouts of TAO pose classification (ST-GCN ``Graph.get_edge``).

Edges are ``(child, parent)`` pairs of 0-based joint indices, without the self-links the model adds.
The NTU and COCO layouts are written 1-based in TAO's source and converted here with -1, as TAO does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SkeletonLayout:
    """One graph layout: how many joints, which joint is the centre, and the bones between joints."""

    name: str
    num_joints: int
    center: int
    num_person: int
    seq_length: int
    edges: tuple[tuple[int, int], ...]

    def edge_array(self) -> np.ndarray:
        """The edges as an (E, 2) int array of 0-based joint indices."""
        return np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)


def _from_one_based(pairs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple((child - 1, parent - 1) for child, parent in pairs)


_NVIDIA_EDGES = (
    (0, 1), (0, 2), (0, 3), (1, 4), (2, 5), (3, 6), (4, 7), (5, 8), (7, 9), (8, 10), (9, 11), (10, 12),
    (7, 13), (8, 14), (6, 15), (15, 16), (15, 17), (16, 18), (17, 19), (1, 20), (2, 21), (6, 20), (6, 21),
    (20, 22), (21, 23), (22, 24), (23, 25), (24, 26), (25, 27), (24, 28), (25, 29), (24, 30), (25, 31),
    (24, 32), (25, 33),
)  # fmt: skip
_OPENPOSE_EDGES = (
    (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5), (8, 2), (5, 1), (2, 1),
    (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
)  # fmt: skip
_HUMAN36M_EDGES = (
    (9, 10), (8, 9), (7, 8), (1, 7), (4, 7), (0, 1), (0, 4), (9, 11), (9, 14), (11, 12), (14, 15),
    (12, 13), (15, 16), (1, 2), (2, 3), (4, 5), (5, 6),
)  # fmt: skip
_NTU_RGBD_EDGES = _from_one_based([
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
    (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23),
    (23, 8), (24, 25), (25, 12),
])  # fmt: skip
_NTU_EDGE_EDGES = _from_one_based([
    (1, 2), (3, 2), (4, 3), (5, 2), (6, 5), (7, 6), (8, 7), (9, 2), (10, 9), (11, 10), (12, 11), (13, 1),
    (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (21, 22), (22, 8), (23, 24),
    (24, 12),
])  # fmt: skip
_COCO_EDGES = _from_one_based([
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (8, 6), (9, 7), (10, 8),
    (11, 9), (2, 3), (2, 1), (3, 1), (4, 2), (5, 3), (4, 6), (5, 7),
])  # fmt: skip

LAYOUTS: dict[str, SkeletonLayout] = {
    layout.name: layout
    for layout in (
        SkeletonLayout("nvidia", 34, center=0, num_person=1, seq_length=300, edges=_NVIDIA_EDGES),
        SkeletonLayout("openpose", 18, center=1, num_person=1, seq_length=300, edges=_OPENPOSE_EDGES),
        SkeletonLayout("human3.6m", 17, center=8, num_person=1, seq_length=3163, edges=_HUMAN36M_EDGES),
        SkeletonLayout("ntu-rgb+d", 25, center=20, num_person=2, seq_length=300, edges=_NTU_RGBD_EDGES),
        SkeletonLayout("ntu_edge", 24, center=2, num_person=2, seq_length=300, edges=_NTU_EDGE_EDGES),
        SkeletonLayout("coco", 17, center=0, num_person=1, seq_length=300, edges=_COCO_EDGES),
    )
}


class UnknownLayoutError(KeyError):
    """The layout name is not one of TAO's graph layouts."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown layout"


def layout_for(name: str) -> SkeletonLayout:
    """The layout called ``name`` (as in ``model.graph_layout``); a clear error for unknown names."""
    layout = LAYOUTS.get(name.strip().lower()) if isinstance(name, str) else None
    if layout is None:
        known = ", ".join(LAYOUTS)
        raise UnknownLayoutError(f"unknown skeleton layout {name!r}; TAO supports: {known}")
    return layout
