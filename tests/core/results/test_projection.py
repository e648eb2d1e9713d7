"""Box corners and projection into a camera given as K and the infos' world-to-camera matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.core.results.infos import load_infos
from app.core.results.projection import (
    FRONT_FACE,
    box_corners,
    extents_from_nusc_size,
    project_boxes,
    project_points,
)

K = np.array([[100.0, 0.0, 160.0], [0.0, 100.0, 90.0], [0.0, 0.0, 1.0]])


def _looking_along_x() -> np.ndarray:
    """World->camera for a camera at the origin looking along +x (camera x = -world y, y = -world z)."""
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = [[0, -1, 0], [0, 0, -1], [1, 0, 0]]
    return world_to_camera


def test_corners_of_an_axis_aligned_box() -> None:
    corners = box_corners(np.array([[1.0, 2.0, 3.0]]), np.array([[4.0, 2.0, 1.0]]), np.array([0.0]))[0]
    np.testing.assert_allclose(corners.min(axis=0), [-1.0, 1.0, 2.5])
    np.testing.assert_allclose(corners.max(axis=0), [3.0, 3.0, 3.5])
    np.testing.assert_allclose(corners[list(FRONT_FACE), 0], 3.0)  # the front face is at +x (heading)
    np.testing.assert_allclose(corners[:4, 2], 2.5)  # bottom face first


def test_yaw_turns_the_heading() -> None:
    corners = box_corners(np.zeros((1, 3)), np.array([[4.0, 2.0, 1.0]]), np.array([np.pi / 2]))[0]
    np.testing.assert_allclose(corners[list(FRONT_FACE), 1], 2.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(corners[:, 0]).max(), 1.0)


def test_nusc_sizes_become_extents() -> None:
    np.testing.assert_array_equal(extents_from_nusc_size(np.array([[0.6, 1.2, 1.8]])), [[1.2, 0.6, 1.8]])


def test_points_project_like_k_times_the_extrinsic() -> None:
    world_to_camera = _looking_along_x()
    world_to_camera[:3, 3] = [0.3, -0.2, 0.5]
    points = np.array([[5.0, 0.0, 0.0], [4.0, 1.0, -0.5], [-3.0, 0.0, 0.0]])
    uv, depth = project_points(points, K, world_to_camera)
    homogeneous = (np.pad(K, ((0, 1), (0, 1))) + np.diag([0, 0, 0, 1.0])) @ world_to_camera  # TAO's lidar2img
    expected = homogeneous @ np.column_stack([points, np.ones(3)]).T
    np.testing.assert_allclose(depth, expected[2])
    np.testing.assert_allclose(uv[:2], (expected[:2] / expected[2]).T[:2])
    assert np.isnan(uv[2]).all()  # behind the camera


def test_boxes_behind_or_outside_the_image_are_dropped() -> None:
    centers = np.array([[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [10.0, 200.0, 0.0], [0.5, 0.0, 0.0]])
    corners = box_corners(centers, np.ones((4, 3)), np.zeros(4))
    projected = project_boxes(corners, K, _looking_along_x(), image_size=(320, 180))
    assert projected.indices.tolist() == [0]  # behind, far off to the side, straddling the camera
    assert projected.corners.shape == (1, 8, 2)
    np.testing.assert_allclose(projected.corners[0].mean(axis=0), [160.0, 90.0], atol=1.0)


def test_sample_ground_truth_lands_in_the_sample_cameras(sample_infos_path: Path) -> None:
    frame = load_infos(sample_infos_path).frames[0]
    corners = box_corners(frame.gt_boxes[:, :3], frame.gt_boxes[:, 3:6], frame.gt_boxes[:, 6])
    visible = [
        len(project_boxes(corners, camera.intrinsic, camera.world_to_camera, image_size=(320, 180)).indices)
        for camera in frame.cameras.values()
    ]
    assert all(count >= 1 for count in visible)
    assert max(visible) >= len(frame.gt_boxes) // 2
