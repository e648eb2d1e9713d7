"""Sparse4D anchor initialisation: k-means on ground-truth centres, log mean sizes, cos_yaw = 1."""

from __future__ import annotations

import numpy as np

ITERATIONS = 50


def kmeans(points: np.ndarray, clusters: int, seed: int = 0) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding; an emptied cluster keeps its previous centre."""
    rng = np.random.default_rng(seed)
    centres = np.empty((clusters, points.shape[1]))
    centres[0] = points[rng.integers(len(points))]
    closest = ((points - centres[0]) ** 2).sum(axis=1)
    for index in range(1, clusters):
        total = closest.sum()
        pick = rng.choice(len(points), p=closest / total) if total > 0 else rng.integers(len(points))
        centres[index] = points[pick]
        closest = np.minimum(closest, ((points - centres[index]) ** 2).sum(axis=1))
    for _ in range(ITERATIONS):
        distances = (
            (points**2).sum(axis=1)[:, None] - 2 * points @ centres.T + (centres**2).sum(axis=1)[None, :]
        )
        assignment = distances.argmin(axis=1)
        moved = centres.copy()
        for index in np.unique(assignment):
            moved[index] = points[assignment == index].mean(axis=0)
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres


def anchor_init(
    boxes: np.ndarray, num_anchor: int, detection_range: float = -1, sample_ratio: float = -1
) -> np.ndarray | None:
    """(k, 11) anchors [X, Y, Z, log W, log L, log H, sin, cos, VX, VY, VZ], k = min(num_anchor, boxes).

    None when there are no boxes (after the optional range and sampling filters).
    """
    if detection_range > 0:
        boxes = boxes[np.linalg.norm(boxes[:, :3], axis=1) <= detection_range]
    if sample_ratio > 0:
        boxes = boxes[:: max(1, int(sample_ratio))]
    if len(boxes) == 0:
        return None
    count = min(num_anchor, len(boxes))
    anchors = np.zeros((count, 11), dtype=np.float64)
    anchors[:, :3] = kmeans(boxes[:, :3].astype(np.float64), count)
    anchors[:, 3:6] = np.log(boxes[:, 3:6].mean(axis=0))
    anchors[:, 7] = 1.0
    return anchors
