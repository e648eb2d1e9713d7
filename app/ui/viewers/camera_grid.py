"""The camera grid: each camera's image of the frame (or a blank frame of its size) with the 3D boxes
projected by its calibration (intrinsics and world-to-camera matrix from the converted infos).

Images are read off the GUI thread; the newest frame asked for wins, older requests are dropped.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QResizeEvent, QTransform
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.core.results.infos import CameraInfo, InfoFrame
from app.core.results.projection import project_boxes
from app.render.geometry import box_edge_segments
from app.ui.viewers.background import BackgroundTasks
from app.ui.viewers.frame_scene import FrameScene
from app.ui.viewers.palette import MISS, SCENE_BACKGROUND, SELECTION, TRACK_PALETTE
from app.ui.viewers.segment_item import PathBatch, cosmetic_pen, pairs_path

ImageLoader = Callable[[CameraInfo], QImage | None]
MAX_IMAGE_WIDTH = 960
CACHE_SIZE = 96


def image_size_from_intrinsic(intrinsic: np.ndarray) -> tuple[int, int]:
    """A camera's image size guessed from its principal point (centred in the image)."""
    width, height = round(2 * float(intrinsic[0, 2])), round(2 * float(intrinsic[1, 2]))
    return max(width, 16), max(height, 16)


class CameraTile(QWidget):
    """One camera: its image scaled to fit, boxes drawn over it, its name in the corner."""

    clicked = Signal(str, float, float)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName("CameraTile")
        self.setMinimumSize(QSize(160, 90))
        self.image: QImage | None = None
        self.image_size = (1920, 1080)
        self.has_calibration = False
        self.batches: list[PathBatch] = []
        self.pick_boxes = np.zeros((0, 4))
        self.pick_tracks = np.zeros(0, dtype=np.int64)
        self._font = QFont()
        self._font.setPointSizeF(8.5)

    def _image_rect(self) -> QRectF:
        width, height = self.image_size
        scale = min(self.width() / width, self.height() / height)
        shown_w, shown_h = width * scale, height * scale
        return QRectF((self.width() - shown_w) / 2, (self.height() - shown_h) / 2, shown_w, shown_h)

    def paintEvent(self, _event: QPaintEvent) -> None:
        """Image, boxes, caption."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(SCENE_BACKGROUND))
        target = self._image_rect()
        if self.image is not None:
            painter.drawImage(target, self.image)
        else:
            painter.fillRect(target, QColor("#2b3138"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.save()
        scale = target.width() / self.image_size[0]
        painter.setTransform(QTransform(scale, 0, 0, scale, target.left(), target.top()))
        painter.setClipRect(QRectF(0, 0, *self.image_size))
        for batch in self.batches:
            painter.setPen(batch.pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(batch.path)
        painter.restore()
        caption = self.name + ("" if self.image is not None else "  (no image)")
        if not self.has_calibration:
            caption += "  (no calibration in this frame)"
        painter.setFont(self._font)
        metrics = painter.fontMetrics()
        box = QRectF(
            target.left() + 4, target.top() + 4, metrics.horizontalAdvance(caption) + 10, metrics.height() + 4
        )
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#e8ecef"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, caption)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Report the click in image pixels."""
        target = self._image_rect()
        if target.width() <= 0:
            return
        scale = self.image_size[0] / target.width()
        point = (event.position() - target.topLeft()) * scale
        self.clicked.emit(self.name, point.x(), point.y())

    def track_at(self, x: float, y: float) -> int | None:
        """The track whose projected box contains (x, y) image pixels (the nearest camera-side one)."""
        boxes = self.pick_boxes
        inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
        hits = np.flatnonzero(inside)
        if not len(hits):
            return None
        areas = (boxes[hits, 2] - boxes[hits, 0]) * (boxes[hits, 3] - boxes[hits, 1])
        track = int(self.pick_tracks[hits[int(np.argmin(areas))]])
        return track if track >= 0 else None


class CameraGrid(QWidget):
    """A grid of camera tiles; ``track_clicked(track_id)`` when a projected box is clicked."""

    track_clicked = Signal(int)
    images_loaded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CameraGrid")
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.tiles: dict[str, CameraTile] = {}
        self.notice = QLabel(self)
        self.notice.setObjectName("ViewerNotice")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.grid.addWidget(self.notice, 0, 0)
        self.loader: ImageLoader | None = None
        self._cache: OrderedDict[tuple[str, str], QImage | None] = OrderedDict()
        self._wanted: tuple[str, dict[str, CameraInfo]] | None = None
        self._loading = False
        self._columns = 0
        self.tasks = BackgroundTasks(self)

    @property
    def images_pending(self) -> bool:
        """True while images of the newest requested frame are still being read."""
        return self._loading or self._wanted is not None

    def show_notice(self, text: str) -> None:
        """Show a message instead of the tiles."""
        for tile in self.tiles.values():
            tile.hide()
        self.notice.setText(text)
        self.notice.show()

    def set_cameras(self, names: list[str], loader: ImageLoader | None) -> None:
        """Make one tile per camera, laid out about as wide as tall overall."""
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles.clear()
        self._cache.clear()
        self.loader = loader
        if not names:
            self.show_notice("No cameras: open the converted infos (.pkl) to see the camera views.")
            return
        self.notice.hide()
        for name in names:
            tile = CameraTile(name, self)
            tile.clicked.connect(self._on_tile_clicked)
            self.tiles[name] = tile
        self._columns = 0
        self._relayout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-pick the number of columns so the images are as large as possible."""
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        if not self.tiles:
            return
        tile_width, tile_height = next(iter(self.tiles.values())).image_size
        columns = best_column_count(len(self.tiles), self.width(), self.height(), tile_width / tile_height)
        if columns == self._columns:
            return
        self._columns = columns
        for position, tile in enumerate(self.tiles.values()):
            self.grid.removeWidget(tile)
            self.grid.addWidget(tile, position // columns, position % columns)

    def show_scene(self, scene: FrameScene, frame: InfoFrame | None) -> None:
        """Project the frame's boxes into every camera and ask for the frame's images."""
        cameras = frame.cameras if frame is not None else {}
        for name, tile in self.tiles.items():
            camera = cameras.get(name)
            tile.has_calibration = camera is not None
            if camera is None:
                tile.batches, tile.pick_boxes, tile.pick_tracks = [], np.zeros((0, 4)), np.zeros(0, np.int64)
            else:
                self._project(tile, camera, scene)
            tile.update()
        self._request_images(scene.token, cameras)

    def _project(self, tile: CameraTile, camera: CameraInfo, scene: FrameScene) -> None:
        cached = self._cache.get((camera.name, str(camera.data_path)))
        if cached is not None:
            tile.image_size = (
                int(cached.text("source-width") or cached.width()),
                int(cached.text("source-height") or cached.height()),
            )
        else:
            tile.image_size = image_size_from_intrinsic(camera.intrinsic)
        projected = project_boxes(scene.corners, camera.intrinsic, camera.world_to_camera, tile.image_size)
        order = np.argsort(-projected.depths)
        indices, pixels = projected.indices[order], projected.corners[order]
        batches = []
        keys = scene.colour_keys[indices]
        for key in np.unique(keys):
            chosen = keys == key
            colour = TRACK_PALETTE[int(key) % len(TRACK_PALETTE)]
            batches.append(
                PathBatch(pairs_path(box_edge_segments(_lift(pixels[chosen]))), cosmetic_pen(colour, 1.6))
            )
        if len(scene.gt_corners) and scene.gt_missed.any():
            missed = project_boxes(
                scene.gt_corners[scene.gt_missed], camera.intrinsic, camera.world_to_camera, tile.image_size
            )
            batches.append(
                PathBatch(
                    pairs_path(box_edge_segments(_lift(missed.corners))),
                    cosmetic_pen(MISS, 1.8, Qt.PenStyle.DashLine),
                )
            )
        if scene.selected >= 0:
            chosen = indices == scene.selected
            batches.append(
                PathBatch(pairs_path(box_edge_segments(_lift(pixels[chosen]))), cosmetic_pen(SELECTION, 3.0))
            )
        tile.batches = batches
        tile.pick_boxes = (
            np.column_stack([pixels.min(axis=1), pixels.max(axis=1)]) if len(pixels) else np.zeros((0, 4))
        )
        tile.pick_tracks = scene.track_ids[indices]

    # -- images --------------------------------------------------------------------------------

    def _request_images(self, token: str, cameras: dict[str, CameraInfo]) -> None:
        if self.loader is None:
            return
        missing = {
            name: camera
            for name, camera in cameras.items()
            if name in self.tiles and (name, str(camera.data_path)) not in self._cache
        }
        for name, camera in cameras.items():
            if name in self.tiles and name not in missing:
                self._apply_image(name, camera, self._cache[(name, str(camera.data_path))])
        if not missing:
            self._wanted = None
            if not self._loading:
                self.images_loaded.emit()
            return
        self._wanted = (token, missing)
        if not self._loading:
            self._start_next()

    def _start_next(self) -> None:
        wanted, self._wanted = self._wanted, None
        if wanted is None or self.loader is None:
            return
        self._loading = True
        _token, cameras = wanted
        self.tasks.start(
            _load_images,
            self.loader,
            cameras,
            on_done=lambda images: self._on_loaded(cameras, images),
            on_error=lambda _message: self._on_loaded(cameras, {}),
        )

    def _on_loaded(self, cameras: dict[str, CameraInfo], images: dict[str, QImage | None]) -> None:
        self._loading = False
        for name, camera in cameras.items():
            image = images.get(name)
            self._cache[(name, str(camera.data_path))] = image
            self._cache.move_to_end((name, str(camera.data_path)))
            if self._wanted is None:
                self._apply_image(name, camera, image)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if self._wanted is not None:
            self._start_next()
        else:
            self.images_loaded.emit()

    def _apply_image(self, name: str, camera: CameraInfo, image: QImage | None) -> None:
        tile = self.tiles.get(name)
        if tile is None:
            return
        tile.image = image
        if image is not None:
            tile.image_size = (
                int(image.text("source-width") or image.width()),
                int(image.text("source-height") or image.height()),
            )
        tile.update()

    def _on_tile_clicked(self, name: str, x: float, y: float) -> None:
        track = self.tiles[name].track_at(x, y)
        if track is not None:
            self.track_clicked.emit(track)


def best_column_count(count: int, width: int, height: int, aspect: float) -> int:
    """Columns for ``count`` tiles of ``aspect`` (w/h) in a ``width`` x ``height`` area, largest tiles first,
    then fewest empty cells."""

    def score(columns: int) -> tuple[float, int]:
        rows = math.ceil(count / columns)
        scale = min(width / columns / aspect, height / rows)
        return scale, -(rows * columns - count)

    return max(range(1, max(count, 1) + 1), key=score)


def _lift(pixels: np.ndarray) -> np.ndarray:
    """(n, 8, 2) pixel corners -> (n, 8, 3) so the 3D edge table applies."""
    pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 8, 2)
    return np.concatenate([pixels, np.zeros((*pixels.shape[:2], 1))], axis=2)


def _load_images(loader: ImageLoader, cameras: dict[str, CameraInfo]) -> dict[str, QImage | None]:
    """Read and (if large) shrink each camera's image; runs in a worker thread."""
    images: dict[str, QImage | None] = {}
    for name, camera in cameras.items():
        image = loader(camera)
        if image is not None and not image.isNull():
            width, height = image.width(), image.height()
            if width > MAX_IMAGE_WIDTH:
                image = image.scaledToWidth(MAX_IMAGE_WIDTH, Qt.TransformationMode.SmoothTransformation)
            image.setText("source-width", str(width))
            image.setText("source-height", str(height))
            images[name] = image
        else:
            images[name] = None
    return images


def camera_ground_poses(frame: InfoFrame | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each camera's ground position (x, y) and viewing direction in the ground plane, for the top view."""
    if frame is None or not frame.cameras:
        return np.zeros((0, 2)), np.zeros((0, 2)), []
    positions, directions, names = [], [], []
    for name, camera in frame.cameras.items():
        rotation, translation = camera.world_to_camera[:3, :3], camera.world_to_camera[:3, 3]
        centre = -rotation.T @ translation
        forward = rotation.T @ np.array([0.0, 0.0, 1.0])
        flat = forward[:2] / (np.linalg.norm(forward[:2]) or 1.0)
        positions.append(centre[:2])
        directions.append(flat)
        names.append(name)
    return np.array(positions), np.array(directions), names
