"""The bird's-eye view: oriented box footprints with headings, track ids, trails, the ground truth,
false positives, misses and identity switches, and the cameras' positions, on a metric grid."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGraphicsSceneMouseEvent, QWidget

from app.render.geometry import footprints, ground_grid, heading_segments
from app.ui.viewers.frame_scene import FrameScene
from app.ui.viewers.palette import (
    FALSE_POSITIVE,
    GROUND_TRUTH,
    ID_SWITCH,
    MISS,
    SCENE_BACKGROUND,
    SELECTION,
    TRACK_PALETTE,
)
from app.ui.viewers.segment_item import PathBatch, SegmentBatchItem, cosmetic_pen, pairs_path, polygons_path

_AXIS_COLOUR = "#9aa5b1"
_GRID_COLOUR = "#2c333b"


class BevView(pg.PlotWidget):
    """Top view in metres (x right, y up). Emits ``clicked(x, y)`` in scene coordinates."""

    clicked = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=SCENE_BACKGROUND)
        self.setObjectName("BevView")
        self.setMinimumSize(240, 180)
        plot = self.getPlotItem()
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(_AXIS_COLOUR))
            axis.setTextPen(pg.mkPen(_AXIS_COLOUR))
        plot.setLabel("bottom", "x (m)", color=_AXIS_COLOUR)
        plot.setLabel("left", "y (m)", color=_AXIS_COLOUR)
        self.grid = SegmentBatchItem()
        self.grid.setZValue(-1)
        plot.addItem(self.grid)
        self.cameras = SegmentBatchItem()
        self.trails = SegmentBatchItem()
        self.ground_truth = SegmentBatchItem()
        self.boxes = SegmentBatchItem()
        self.selection = SegmentBatchItem()
        for z, item in enumerate((self.cameras, self.trails, self.ground_truth, self.boxes, self.selection)):
            item.setZValue(z)
            plot.addItem(item)
        self.markers = pg.ScatterPlotItem(pxMode=True)
        self.markers.setZValue(10)
        plot.addItem(self.markers)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.set_bounds((-10.0, 10.0, -10.0, 10.0))

    def set_bounds(self, bounds: tuple[float, float, float, float]) -> None:
        """Show the area ``(xmin, xmax, ymin, ymax)``."""
        xmin, xmax, ymin, ymax = bounds
        self.getPlotItem().setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.02)
        span = max(xmax - xmin, ymax - ymin, 1.0)
        spacing = 1.0 if span <= 40 else float(10 ** np.ceil(np.log10(span / 40)))
        margin = span
        lines = ground_grid((xmin - margin, xmax + margin, ymin - margin, ymax + margin), spacing)[:, :2]
        self.grid.set_batches([PathBatch(pairs_path(lines), cosmetic_pen(_GRID_COLOUR, 1.0))])

    def set_cameras(self, positions: np.ndarray, directions: np.ndarray, names: list[str]) -> None:
        """Mark each camera's ground position with a short line along its viewing direction."""
        positions = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
        directions = np.asarray(directions, dtype=np.float64).reshape(-1, 2)
        tips = positions + 1.2 * directions
        pairs = np.stack([positions, tips], axis=1).reshape(-1, 2)
        leftward = positions[:, 0] > positions[:, 0].mean() if len(positions) else None
        self.cameras.set_labels(positions, names, colour=_AXIS_COLOUR, leftward=leftward)
        self.cameras.set_batches([PathBatch(pairs_path(pairs), cosmetic_pen(_AXIS_COLOUR, 2.0))])

    def show_scene(self, scene: FrameScene, show_labels: bool = True) -> None:
        """Draw one frame."""
        batches, trail_batches = [], []
        outlines = footprints(scene.corners)
        headings = heading_segments(scene.corners)[:, :2]
        for key in np.unique(scene.colour_keys):
            chosen = scene.colour_keys == key
            colour = QColor(TRACK_PALETTE[int(key) % len(TRACK_PALETTE)])
            fill = QColor(colour)
            fill.setAlpha(55)
            pen = cosmetic_pen(colour, 1.6)
            batches.append(PathBatch(polygons_path(outlines[chosen]), pen, QBrush(fill)))
            batches.append(PathBatch(pairs_path(headings[np.repeat(chosen, 2)]), pen))
        for key in np.unique(scene.trail_keys):
            colour = QColor(TRACK_PALETTE[int(key) % len(TRACK_PALETTE)])
            colour.setAlpha(170)
            chosen = np.repeat(scene.trail_keys == key, 2)
            trail_batches.append(PathBatch(pairs_path(scene.trail_pairs[chosen]), cosmetic_pen(colour, 1.4)))
        self.trails.set_batches(trail_batches)
        if show_labels and scene.num_boxes:
            self.boxes.set_labels(outlines[:, 0, :], scene.labels)
        else:
            self.boxes.set_labels(np.zeros((0, 2)), [])
        self.boxes.set_batches(batches)
        self._show_ground_truth(scene)
        self._show_selection(scene, outlines, headings)
        self._show_markers(scene)

    def _show_ground_truth(self, scene: FrameScene) -> None:
        outlines = footprints(scene.gt_corners)
        missed = scene.gt_missed if len(scene.gt_missed) == len(outlines) else np.zeros(len(outlines), bool)
        self.ground_truth.set_batches(
            [
                PathBatch(
                    polygons_path(outlines[~missed]), cosmetic_pen(GROUND_TRUTH, 1.0, Qt.PenStyle.DashLine)
                ),
                PathBatch(polygons_path(outlines[missed]), cosmetic_pen(MISS, 2.2, Qt.PenStyle.DashLine)),
            ]
        )

    def _show_selection(self, scene: FrameScene, outlines: np.ndarray, headings: np.ndarray) -> None:
        batches = [PathBatch(pairs_path(scene.selected_trail_pairs[:, :2]), cosmetic_pen(SELECTION, 2.4))]
        if scene.selected >= 0:
            pen = cosmetic_pen(SELECTION, 3.0)
            batches.append(PathBatch(polygons_path(outlines[[scene.selected]]), pen))
            batches.append(PathBatch(pairs_path(headings[2 * scene.selected : 2 * scene.selected + 2]), pen))
        self.selection.set_batches(batches)

    def _show_markers(self, scene: FrameScene) -> None:
        centres = scene.corners.mean(axis=1)[:, :2] if scene.num_boxes else np.zeros((0, 2))
        spots = []
        for point in centres[scene.false_positive]:
            spots.append(
                {
                    "pos": point,
                    "symbol": "x",
                    "size": 15,
                    "pen": pg.mkPen(FALSE_POSITIVE, width=2.5),
                    "brush": pg.mkBrush(FALSE_POSITIVE),
                }
            )
        for point in centres[scene.id_switch]:
            spots.append(
                {
                    "pos": point,
                    "symbol": "o",
                    "size": 26,
                    "pen": pg.mkPen(ID_SWITCH, width=2.5),
                    "brush": pg.mkBrush(0, 0, 0, 0),
                }
            )
        self.markers.setData(spots)

    def _on_scene_clicked(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point: QPointF = self.getPlotItem().vb.mapSceneToView(event.scenePos())
        self.clicked.emit(point.x(), point.y())
