"""The 3D skeleton view: bones as one vispy ``Line`` (``connect='segments'``) and joints as markers,
one colour per person, on a floor grid, under an orbit (turntable) camera.

Joint coordinates come as TAO stores them (camera-like axes: x right, y down, z forward); they are
shown with y flipped to point up, so a standing person stands upright.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget
from vispy import scene

from app.render.geometry import ground_grid
from app.render.tracks_3d import BACKGROUND, GRID_COLOUR, SegmentBatch

PERSON_COLOURS = (
    (0.35, 0.75, 1.0, 1.0),
    (1.0, 0.62, 0.25, 1.0),
    (0.6, 0.9, 0.45, 1.0),
    (0.95, 0.5, 0.8, 1.0),
)


def to_display_axes(joints: np.ndarray) -> np.ndarray:
    """(..., 3) TAO axes (x right, y down, z forward) -> display axes (x right, y forward, z up)."""
    joints = np.asarray(joints, dtype=np.float64)
    return np.stack([joints[..., 0], joints[..., 2], -joints[..., 1]], axis=-1)


class SkeletonScene3D:
    """A vispy canvas that draws one frame of a skeleton sequence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.canvas = scene.SceneCanvas(keys=None, bgcolor=BACKGROUND, parent=parent, show=False)
        self.canvas.native.setMinimumSize(200, 200)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=35, elevation=12, azimuth=-30, distance=4)
        self.grid = SegmentBatch(self.view.scene, width=1.0, order=0)
        self.bones = SegmentBatch(self.view.scene, width=3.0, order=1)
        self.joints = scene.visuals.Markers(parent=self.view.scene)
        self.joints.order = 2
        self.joints.visible = False
        self._floor = 0.0

    @property
    def native(self) -> QWidget:
        """The Qt widget to put in a layout."""
        widget: QWidget = self.canvas.native
        return widget

    def frame_sequence(self, joints: np.ndarray) -> None:
        """Aim the camera at a whole sequence ((T, V, M, 3) display axes) and put the floor under it."""
        points = joints.reshape(-1, 3)
        points = points[np.isfinite(points).all(axis=1) & np.any(points != 0, axis=1)]
        if not len(points):
            points = np.zeros((1, 3))
        low, high = points.min(axis=0), points.max(axis=0)
        centre = (low + high) / 2
        size = float(max(np.max(high - low), 0.5))
        self._floor = float(low[2])
        half = size * 0.8
        grid = ground_grid((centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half), size / 8)
        grid[:, 2] = self._floor
        self.grid.set(grid, GRID_COLOUR)
        camera = self.view.camera
        camera.center = tuple(float(v) for v in centre)
        camera.distance = 2.6 * size

    def set_pose(self, joints: np.ndarray, edges: np.ndarray) -> None:
        """Draw one frame: ``joints`` (V, M, 3) in display axes, ``edges`` (E, 2) joint index pairs."""
        persons = joints.shape[1]
        pairs, pair_colours, dots, dot_colours = [], [], [], []
        for person in range(persons):
            body = joints[:, person, :]
            present = np.any(body != 0, axis=1) & np.isfinite(body).all(axis=1)
            if not present.any():
                continue
            colour = np.asarray(PERSON_COLOURS[person % len(PERSON_COLOURS)], dtype=np.float32)
            usable = edges[present[edges[:, 0]] & present[edges[:, 1]]] if len(edges) else edges
            pairs.append(body[usable.reshape(-1)])
            pair_colours.append(np.repeat(colour[None, :], usable.size, axis=0))
            dots.append(body[present])
            dot_colours.append(np.repeat(colour[None, :], int(present.sum()), axis=0))
        if pairs:
            self.bones.set(np.concatenate(pairs), np.concatenate(pair_colours))
        else:
            self.bones.set(np.zeros((0, 3)), (1, 1, 1, 1))
        self.joints.visible = bool(dots)
        if dots:
            self.joints.set_data(
                np.concatenate(dots).astype(np.float32),
                face_color=np.concatenate(dot_colours),
                edge_color=(1, 1, 1, 0.8),
                size=6,
            )
        self.canvas.update()

    def render(self) -> np.ndarray:
        """Draw now and return the (h, w, 4) pixels (the canvas must be on screen)."""
        image: np.ndarray = self.canvas.render()
        return image
