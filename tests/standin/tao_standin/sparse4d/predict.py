"""Detections and tracks in nuScenes result format, from the trained model and the cameras' measurements.

A box seen by at least one camera is placed where the model puts it; the larger its error against the
GT, the lower its score and the likelier it is missed. Size, yaw and velocity are the GT's with noise.
Confident anchors far from every box become low-score false positives. Track ids are the GT instance
ids, so they are stable across frames.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from .model import AnchorModel, sigmoid
from .sensors import observe

CLASS_RANGE = 40.0
STATIC_WORDS = ("box", "pallet", "crate", "basket")


def attribute(name: str) -> str:
    """`<class>.static` for boxes, pallets, crates and baskets, `<class>.moving` otherwise."""
    return f"{name}.static" if any(word in name.lower() for word in STATIC_WORDS) else f"{name}.moving"


def _quaternion(yaw: float) -> list[float]:
    return [float(np.cos(yaw / 2)), 0.0, 0.0, float(np.sin(yaw / 2))]


def _embedding(track: int, dims: int, rng: np.random.Generator) -> list[float]:
    base = np.random.default_rng(zlib.crc32(str(track).encode())).normal(size=dims)
    vector = base / np.linalg.norm(base) + rng.normal(0, 0.02, size=dims)
    return [round(float(value), 4) for value in vector / np.linalg.norm(vector)]


def predict_frame(
    model: AnchorModel,
    info: dict[str, Any],
    classes: list[str],
    rng: np.random.Generator,
    tracking_threshold: float | None,
    embed_dims: int,
) -> list[dict[str, Any]]:
    """Result boxes for one info (frame), nuScenes style."""
    token = str(info["token"])
    observation = observe(info, classes)
    boxes, labels, rows = observation.boxes, observation.labels, observation.rows
    instances = np.asarray(info.get("instance_inds", np.arange(len(boxes))))
    velocities = np.asarray(info.get("gt_velocity", np.zeros((len(boxes), 3)))).reshape(-1, 3)
    centres = model.centres(observation)
    anchors = model.nearest_anchor(boxes[:, :3])
    results = []
    for row in np.flatnonzero(observation.visible):
        error = float(np.linalg.norm(centres[row] - boxes[row, :3]))
        if rng.random() < 0.02 + 0.3 * (1 - np.exp(-error)):
            continue
        size = boxes[row, 3:6] * (1 + rng.normal(0, 0.03, size=3))
        yaw = float(boxes[row, 6] + rng.normal(0, 0.05))
        confidence = sigmoid(model.objectness[anchors[row]] + 2.0)
        score = float(np.clip(0.25 + 0.7 * np.exp(-error) * confidence + rng.normal(0, 0.03), 0.05, 0.99))
        velocity = velocities[rows[row], :2] + rng.normal(0, 0.1, size=2)
        results.append(
            _box(
                token,
                centres[row],
                size,
                yaw,
                velocity,
                classes[int(labels[row])],
                score,
                str(int(instances[rows[row]])),
                rng,
                embed_dims,
            )
        )
    results.extend(_false_positives(model, token, anchors, classes, rng, embed_dims))
    kept = [box for box in results if np.linalg.norm(box["translation"][:2]) <= CLASS_RANGE]
    if tracking_threshold is not None:
        kept = [box for box in kept if box["detection_score"] >= tracking_threshold]
    return kept


def _false_positives(
    model: AnchorModel,
    token: str,
    assigned: np.ndarray,
    classes: list[str],
    rng: np.random.Generator,
    embed_dims: int,
) -> list[dict[str, Any]]:
    free = np.setdiff1d(np.arange(len(model.anchors)), assigned)
    if not len(free):
        return []
    candidates = free[np.argsort(-model.objectness[free])[:2]]
    boxes = []
    for anchor in candidates:
        score = float(
            np.clip(0.1 + 0.3 * sigmoid(model.objectness[anchor]) + rng.normal(0, 0.05), 0.05, 0.45)
        )
        label = int(model.class_logits[anchor].argmax())
        track = 100000 + int(anchor)
        size = np.exp(model.anchors[anchor, 3:6])
        boxes.append(
            _box(
                token,
                model.anchors[anchor, :3] + rng.normal(0, 0.3, size=3),
                size,
                0.0,
                np.zeros(2),
                classes[label],
                score,
                str(track),
                rng,
                embed_dims,
            )
        )
    return boxes


def _box(
    token: str,
    centre: np.ndarray,
    size: np.ndarray,
    yaw: float,
    velocity: np.ndarray,
    name: str,
    score: float,
    track: str,
    rng: np.random.Generator,
    embed_dims: int,
) -> dict[str, Any]:
    return {
        "sample_token": token,
        "translation": [round(float(value), 4) for value in centre],
        "size": [round(float(size[1]), 4), round(float(size[0]), 4), round(float(size[2]), 4)],
        "rotation": [round(value, 6) for value in _quaternion(yaw)],
        "velocity": [round(float(value), 4) for value in velocity[:2]],
        "detection_name": name,
        "detection_score": round(score, 4),
        "attribute_name": attribute(name),
        "tracking_name": name,
        "tracking_score": round(score, 4),
        "tracking_id": track,
        "embedding": _embedding(int(track), embed_dims, rng),
    }


def predict(
    model: AnchorModel,
    infos: list[dict[str, Any]],
    classes: list[str],
    seed: int,
    tracking_threshold: float | None,
    embed_dims: int,
) -> dict[str, Any]:
    """The whole results_nusc.json document for a list of infos."""
    rng = np.random.default_rng(seed)
    results = {
        str(info["token"]): predict_frame(model, info, classes, rng, tracking_threshold, embed_dims)
        for info in infos
    }
    return {"meta": {"use_camera": True, "use_lidar": False}, "results": results}
