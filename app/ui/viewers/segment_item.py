"""A pyqtgraph item that draws many line batches and text labels in one paint call.

Each batch is one ``QPainterPath`` built from numpy arrays (``pg.arrayToQPath``) with one pen and
an optional brush, so a frame with hundreds of boxes costs a handful of ``drawPath`` calls. Labels
are drawn in screen pixels next to their anchor point, whatever the zoom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget


@dataclass
class PathBatch:
    """One path drawn with one pen (and brush)."""

    path: QPainterPath
    pen: QPen
    brush: QBrush | None = None


def cosmetic_pen(
    colour: QColor | str, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine
) -> QPen:
    """A pen whose width is in screen pixels at any zoom."""
    pen = QPen(QColor(colour))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setStyle(style)
    return pen


def pairs_path(points: np.ndarray) -> QPainterPath:
    """Independent segments from (2k, >=2) end points taken two by two."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 2:
        return QPainterPath()
    return pg.arrayToQPath(points[:, 0], points[:, 1], connect="pairs")


def polygons_path(polygons: np.ndarray) -> QPainterPath:
    """Closed outlines from (n, k, >=2) vertex lists (each closed by repeating its first vertex)."""
    polygons = np.asarray(polygons, dtype=np.float64)
    if not len(polygons):
        return QPainterPath()
    count, corners = polygons.shape[:2]
    connect = np.ones(count * corners, dtype=np.int32)
    connect[corners - 1 :: corners] = 0
    flat = polygons.reshape(-1, polygons.shape[2])
    return pg.arrayToQPath(flat[:, 0], flat[:, 1], connect=connect)


class SegmentBatchItem(pg.GraphicsObject):
    """Batches of paths plus pixel-sized labels, in data coordinates."""

    def __init__(self) -> None:
        super().__init__()
        self._batches: list[PathBatch] = []
        self._label_points = np.zeros((0, 2))
        self._label_texts: list[str] = []
        self._label_leftward = np.zeros(0, dtype=bool)
        self._label_colour = QColor("#e8ecef")
        self._font = QFont()
        self._font.setPointSizeF(8.0)
        self._bounds = QRectF()

    def set_batches(self, batches: list[PathBatch]) -> None:
        """Replace what is drawn."""
        self.prepareGeometryChange()
        self._batches = [batch for batch in batches if not batch.path.isEmpty()]
        rect = QRectF()
        for batch in self._batches:
            rect = rect.united(batch.path.boundingRect())
        if len(self._label_points):
            low, high = self._label_points.min(axis=0), self._label_points.max(axis=0)
            rect = rect.united(QRectF(QPointF(low[0], low[1]), QPointF(high[0], high[1])))
        self._bounds = rect
        self.update()

    def set_labels(
        self,
        points: np.ndarray,
        texts: list[str],
        colour: str = "#e8ecef",
        leftward: np.ndarray | None = None,
    ) -> None:
        """Text next to each point, to its right (or left where ``leftward``); call before
        :meth:`set_batches` of the same frame."""
        self._label_points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        self._label_texts = list(texts)
        self._label_colour = QColor(colour)
        self._label_leftward = (
            np.zeros(len(self._label_texts), dtype=bool)
            if leftward is None
            else np.asarray(leftward, dtype=bool)
        )

    @property
    def batch_count(self) -> int:
        """How many non-empty batches are drawn."""
        return len(self._batches)

    def boundingRect(self) -> QRectF:
        """The union of all paths (Qt calls this)."""
        return self._bounds

    def paint(
        self, painter: QPainter, _option: QStyleOptionGraphicsItem, _widget: QWidget | None = None
    ) -> None:
        """Draw every batch, then the labels in screen space (Qt calls this)."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for batch in self._batches:
            painter.setPen(batch.pen)
            painter.setBrush(batch.brush if batch.brush is not None else Qt.BrushStyle.NoBrush)
            painter.drawPath(batch.path)
        if not self._label_texts:
            return
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        painter.setPen(self._label_colour)
        metrics = painter.fontMetrics()
        for (x, y), text, left in zip(
            self._label_points, self._label_texts, self._label_leftward, strict=False
        ):
            if text:
                anchor = transform.map(QPointF(x, y))
                shift = -6.0 - metrics.horizontalAdvance(text) if left else 6.0
                painter.drawText(anchor + QPointF(shift, -6.0), text)
        painter.restore()
