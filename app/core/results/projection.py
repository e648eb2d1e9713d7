"""3D boxes -> 8 corners -> pixels of one camera.

Conventions:
- A box is its centre (x, y, z), its extents along its own x (heading), y and z axes, and its yaw
  about the world z axis. nuScenes sizes ``[w, l, h]`` become extents ``[l, w, h]``
  (:func:`extents_from_nusc_size`); infos ``gt_boxes`` ``[x, y, z, sx, sy, sz, yaw]`` already hold
  extents. The centre is the middle of the box (nuScenes convention; assumed for infos too).
- The camera is given by its 3x3 intrinsic K and its 4x4 world-to-camera matrix, which is what the
  infos call ``sensor2world_transform`` (TAO's Sparse4D dataloader projects with
  ``K @ sensor2world_transform``). Camera axes follow OpenCV: x right, y down, z forward.

Corner order: 0-3 the bottom face, 4-7 the top face directly above them; 0, 1, 5, 4 is the front
face (+x, the heading).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_UNIT_CORNERS = np.array(
    [
        [0.5, 0.5, -0.5],
        [0.5, -0.5, -0.5],
        [-0.5, -0.5, -0.5],
        [-0.5, 0.5, -0.5],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [-0.5, -0.5, 0.5],
        [-0.5, 0.5, 0.5],
    ]
)

BOX_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 0),
    (4, 5), (5, 6), (6, 7), (7, 4),
    (0, 4), (1, 5), (2, 6), (3, 7),
)  # fmt: skip
FRONT_FACE: tuple[int, int, int, int] = (0, 1, 5, 4)


def extents_from_nusc_size(sizes: np.ndarray) -> np.ndarray:
    """nuScenes ``[w, l, h]`` sizes (n, 3) -> extents ``[l, w, h]`` along the box's x, y, z."""
    return np.asarray(sizes, dtype=np.float64)[..., [1, 0, 2]]


def box_corners(centers: np.ndarray, extents: np.ndarray, yaws: np.ndarray) -> np.ndarray:
    """(n, 8, 3) world corners of n boxes from centres (n, 3), extents (n, 3) and yaws (n,)."""
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
    extents = np.asarray(extents, dtype=np.float64).reshape(-1, 3)
    yaws = np.asarray(yaws, dtype=np.float64).reshape(-1)
    local = _UNIT_CORNERS[None, :, :] * extents[:, None, :]
    cos, sin = np.cos(yaws)[:, None], np.sin(yaws)[:, None]
    x = local[..., 0] * cos - local[..., 1] * sin
    y = local[..., 0] * sin + local[..., 1] * cos
    return np.stack([x, y, local[..., 2]], axis=-1) + centers[:, None, :]


def project_points(
    points: np.ndarray, intrinsic: np.ndarray, world_to_camera: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (..., 2) and camera depths (...,) of world points (..., 3); pixels are NaN where depth <= 0."""
    points = np.asarray(points, dtype=np.float64)
    flat = points.reshape(-1, 3)
    camera = flat @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    depth = camera[:, 2]
    pixels = camera @ np.asarray(intrinsic, dtype=np.float64).T
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = pixels[:, :2] / depth[:, None]
    uv[depth <= 0] = np.nan
    return uv.reshape(*points.shape[:-1], 2), depth.reshape(points.shape[:-1])


@dataclass(frozen=True)
class ProjectedBoxes:
    """Boxes that can be drawn in one camera: their indices in the input, pixel corners and depth."""

    indices: np.ndarray
    corners: np.ndarray
    depths: np.ndarray


def project_boxes(
    corners: np.ndarray,
    intrinsic: np.ndarray,
    world_to_camera: np.ndarray,
    image_size: tuple[int, int] | None = None,
    min_depth: float = 0.1,
) -> ProjectedBoxes:
    """Project (n, 8, 3) world corners; boxes with any corner behind ``min_depth`` are dropped.

    With ``image_size`` (width, height), boxes lying wholly outside the image are dropped too.
    ``depths`` is the mean corner depth, for drawing far boxes first.
    """
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 8, 3)
    uv, depth = project_points(corners, intrinsic, world_to_camera)
    keep = np.all(depth > min_depth, axis=1)
    if image_size is not None:
        width, height = image_size
        with np.errstate(invalid="ignore"):
            left_of, right_of = np.all(uv[..., 0] < 0, axis=1), np.all(uv[..., 0] >= width, axis=1)
            above, below = np.all(uv[..., 1] < 0, axis=1), np.all(uv[..., 1] >= height, axis=1)
        keep &= ~(left_of | right_of | above | below)
    indices = np.flatnonzero(keep)
    return ProjectedBoxes(indices, uv[indices], depth[indices].mean(axis=1))
