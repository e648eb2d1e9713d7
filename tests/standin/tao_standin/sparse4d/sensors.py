"""Simulated camera measurements of the ground-truth boxes, which the stand-in model learns to correct.

Each camera sees a box centre along its viewing ray at a depth that is off by a camera-specific factor
(as a monocular depth estimate would be), plus noise. A box is measured only by the cameras of its
sub-scene that see it (centre in front of the camera and inside the image).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .infos import labelled_boxes

MEASUREMENT_NOISE = 0.05


def depth_factor(camera: str) -> float:
    """The depth-scale error of a camera: 0.7 .. 0.8, fixed per camera name."""
    return 0.7 + 0.1 * (zlib.crc32(camera.encode()) % 1000) / 1000


@dataclass
class Observation:
    """One frame's labelled GT boxes and what the cameras measured of them."""

    boxes: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    camera_centre: np.ndarray
    ray: np.ndarray
    visible: np.ndarray


def observe(info: dict[str, Any], classes: list[str]) -> Observation:
    """Measurements of each labelled box, averaged over the cameras that see it (deterministic per frame)."""
    boxes, labels, rows = labelled_boxes(info, classes)
    rng = np.random.default_rng(zlib.crc32(str(info.get("token", "")).encode()))
    centre_sum = np.zeros((len(boxes), 3))
    ray_sum = np.zeros((len(boxes), 3))
    seen = np.zeros(len(boxes))
    for name, cam in info.get("cams", {}).items():
        world_to_camera = np.asarray(cam["sensor2world_transform"], dtype=np.float64)
        intrinsic = np.asarray(cam["cam_intrinsic"], dtype=np.float64)
        position = np.linalg.inv(world_to_camera)[:3, 3]
        in_camera = (world_to_camera[:3, :3] @ boxes[:, :3].T).T + world_to_camera[:3, 3]
        pixels = (intrinsic @ in_camera.T).T
        depth = in_camera[:, 2]
        u = pixels[:, 0] / np.maximum(depth, 1e-6)
        v = pixels[:, 1] / np.maximum(depth, 1e-6)
        inside = (depth > 0.1) & (u >= 0) & (u <= 2 * intrinsic[0, 2]) & (v >= 0) & (v <= 2 * intrinsic[1, 2])
        measured_ray = depth_factor(name) * (boxes[:, :3] - position) + rng.normal(
            0, MEASUREMENT_NOISE, (len(boxes), 3)
        )
        centre_sum[inside] += position
        ray_sum[inside] += measured_ray[inside]
        seen += inside
    count = np.maximum(seen, 1)[:, None]
    return Observation(boxes, labels, rows, centre_sum / count, ray_sum / count, seen > 0)
