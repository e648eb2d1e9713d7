"""The 3D view of one frame of tracks: a ground grid, the boxes, their trails, the ground truth and the
selected track, each batch drawn by a single vispy ``Line`` (``connect='segments'``), under an orbit
(turntable) camera.

Create it only when :func:`app.render.gl_check.opengl_problem` returns ``None``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget
from vispy import scene

from app.render.geometry import ground_grid

BACKGROUND = "#1e2329"
GRID_COLOUR = (0.42, 0.46, 0.5, 0.55)
_EMPTY = np.zeros((2, 3), dtype=np.float32)


class SegmentBatch:
    """One vispy line visual holding many independent segments with a colour per vertex."""

    def __init__(self, parent: scene.Node, width: float, order: int = 0) -> None:
        self.line = scene.visuals.Line(
            pos=_EMPTY, color=(1, 1, 1, 1), connect="segments", method="gl", width=width, parent=parent
        )
        self.line.order = order
        self.line.visible = False
        self.count = 0

    def set(self, pairs: np.ndarray, colours: np.ndarray | tuple[float, ...]) -> None:
        """Show ``pairs`` ((2k, 3) end points) in ``colours`` ((2k, 4) per vertex, or one RGBA)."""
        pairs = np.asarray(pairs, dtype=np.float32).reshape(-1, 3)
        self.count = len(pairs) // 2
        if self.count == 0:
            self.line.visible = False
            return
        colour = np.asarray(colours, dtype=np.float32)
        self.line.set_data(pos=pairs, color=colour)
        self.line.visible = True


class TracksScene3D:
    """A vispy canvas for boxes in world coordinates (metres, z up)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.canvas = scene.SceneCanvas(keys=None, bgcolor=BACKGROUND, parent=parent, show=False)
        self.canvas.native.setMinimumSize(200, 150)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=40, elevation=32, azimuth=-50, distance=30)
        self.grid = SegmentBatch(self.view.scene, width=1.0, order=0)
        self.trails = SegmentBatch(self.view.scene, width=1.5, order=1)
        self.ground_truth = SegmentBatch(self.view.scene, width=1.0, order=2)
        self.boxes = SegmentBatch(self.view.scene, width=1.6, order=3)
        self.selection = SegmentBatch(self.view.scene, width=4.0, order=4)
        self.label = scene.visuals.Text(
            "", color="white", font_size=9, anchor_x="center", anchor_y="bottom", parent=self.view.scene
        )
        self.label.order = 5
        self.label.visible = False
        self._bounds: tuple[float, float, float, float] | None = None

    @property
    def native(self) -> QWidget:
        """The Qt widget to put in a layout."""
        widget: QWidget = self.canvas.native
        return widget

    def set_ground(self, bounds: tuple[float, float, float, float]) -> None:
        """Draw the floor grid over ``(xmin, xmax, ymin, ymax)`` and aim the camera at it."""
        xmin, xmax, ymin, ymax = bounds
        span = max(xmax - xmin, ymax - ymin, 1.0)
        spacing = float(10 ** np.floor(np.log10(span / 4))) if span > 8 else 1.0
        self.grid.set(ground_grid(bounds, spacing), GRID_COLOUR)
        if bounds != self._bounds:
            self._bounds = bounds
            self.fit()

    def fit(self) -> None:
        """Frame the whole ground area."""
        if self._bounds is None:
            return
        xmin, xmax, ymin, ymax = self._bounds
        camera = self.view.camera
        camera.center = ((xmin + xmax) / 2, (ymin + ymax) / 2, 0.0)
        camera.distance = 1.25 * max(xmax - xmin, ymax - ymin, 2.0)

    def set_boxes(self, pairs: np.ndarray, colours: np.ndarray) -> None:
        """The frame's boxes and headings as segment pairs with per-vertex colours."""
        self.boxes.set(pairs, colours)

    def set_ground_truth(self, pairs: np.ndarray, colours: np.ndarray) -> None:
        """Ground-truth boxes (drawn thinner, under the predictions)."""
        self.ground_truth.set(pairs, colours)

    def set_trails(self, pairs: np.ndarray, colours: np.ndarray) -> None:
        """Trail segments with per-vertex colours."""
        self.trails.set(pairs, colours)

    def set_selection(self, pairs: np.ndarray, label: str = "", anchor: np.ndarray | None = None) -> None:
        """The selected track's box, drawn thick and bright, with its label above it."""
        self.selection.set(pairs, (1.0, 1.0, 1.0, 1.0))
        self.label.visible = bool(label) and anchor is not None
        if self.label.visible and anchor is not None:
            self.label.text = label
            self.label.pos = np.asarray(anchor, dtype=np.float32).reshape(1, 3)

    def update(self) -> None:
        """Ask for a repaint."""
        self.canvas.update()

    def render(self) -> np.ndarray:
        """Draw now and return the (h, w, 4) pixels (the canvas must be on screen)."""
        image: np.ndarray = self.canvas.render()
        return image
