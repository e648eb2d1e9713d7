"""One sequence as an animated skeleton, with its predicted and true label.

3D with an orbit camera for 3D layouts (nvidia, human3.6m, NTU), 2D for two-channel data and for
the 2D keypoint layouts (openpose, coco: their third channel is a confidence, not a depth). Every
person (M) is drawn in its own colour; zero-padded frames at the end are left out.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from app.core.results.layouts import SkeletonLayout
from app.core.results.poses import PoseResults
from app.render.gl_check import opengl_problem
from app.ui.viewers.chrome import notice_label
from app.ui.viewers.palette import SCENE_BACKGROUND
from app.ui.viewers.segment_item import PathBatch, SegmentBatchItem, cosmetic_pen, pairs_path
from app.ui.viewers.timeline import Timeline

KEYPOINT_LAYOUTS = frozenset({"openpose", "coco"})
PERSON_COLOURS_2D = ("#59bfff", "#ff9e40", "#99e673", "#f280cc")
SKELETON_FPS = 30.0


class Skeleton2D(pg.PlotWidget):
    """Bones and joints in image-like axes (y down)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=SCENE_BACKGROUND)
        item = self.getPlotItem()
        item.setAspectLocked(True)
        item.invertY(True)
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMenuEnabled(False)
        item.hideButtons()
        self.bones = SegmentBatchItem()
        item.addItem(self.bones)
        self.joints = pg.ScatterPlotItem(pxMode=True, size=7)
        item.addItem(self.joints)

    def frame_sequence(self, joints: np.ndarray) -> None:
        """Fix the view on a whole sequence ((T, V, M, 2))."""
        points = joints.reshape(-1, 2)
        points = points[np.isfinite(points).all(axis=1) & np.any(points != 0, axis=1)]
        if len(points):
            low, high = points.min(axis=0), points.max(axis=0)
            self.getPlotItem().setRange(xRange=(low[0], high[0]), yRange=(low[1], high[1]), padding=0.12)

    def set_pose(self, joints: np.ndarray, edges: np.ndarray) -> None:
        """Draw one frame: ``joints`` (V, M, 2)."""
        batches, spots = [], []
        for person in range(joints.shape[1]):
            body = joints[:, person, :]
            present = np.any(body != 0, axis=1) & np.isfinite(body).all(axis=1)
            if not present.any():
                continue
            colour = PERSON_COLOURS_2D[person % len(PERSON_COLOURS_2D)]
            usable = edges[present[edges[:, 0]] & present[edges[:, 1]]] if len(edges) else edges
            batches.append(PathBatch(pairs_path(body[usable.reshape(-1)]), cosmetic_pen(colour, 3.0)))
            spots += [
                {"pos": point, "brush": pg.mkBrush(colour), "pen": pg.mkPen("w")} for point in body[present]
            ]
        self.bones.set_batches(batches)
        self.joints.setData(spots)


class SkeletonView(QWidget):
    """Title, skeleton (or a notice), timeline."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: PoseResults | None = None
        self.layout_info: SkeletonLayout | None = None
        self.problem: str | None = None
        self.index: int | None = None
        self.joints: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Pick a sequence in the list or a cell of the matrix.", self)
        self.title.setObjectName("SequenceTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.stack = QStackedWidget(self)
        self.notice = notice_label("", self.stack)
        self.view_2d = Skeleton2D(self.stack)
        self.stack.addWidget(self.notice)
        self.stack.addWidget(self.view_2d)
        self.gl_problem = opengl_problem()
        self.view_3d = None
        if self.gl_problem is None:
            from app.render.skeleton_3d import SkeletonScene3D

            self.view_3d = SkeletonScene3D(self.stack)
            self.stack.addWidget(self.view_3d.native)
        layout.addWidget(self.stack, 1)
        self.mode_note = QLabel(self)
        self.mode_note.setObjectName("ViewerHint")
        self.mode_note.setWordWrap(True)
        layout.addWidget(self.mode_note)
        self.timeline = Timeline(self)
        self.timeline.describe_frame = lambda index: f"{index / SKELETON_FPS:.2f} s"
        self.timeline.frame_changed.connect(self._show_frame)
        layout.addWidget(self.timeline)
        self._say("Pick a sequence to play it.")

    def set_results(self, results: PoseResults) -> None:
        """The results whose sequences will be shown."""
        self.results = results
        self.index = None
        self.joints = None
        self.title.setText("Pick a sequence in the list or a cell of the matrix.")
        self.timeline.set_frame_count(0)
        self._say(
            "Pick a sequence to play it."
            if results.data is not None
            else "No skeleton data (.npy) was opened."
        )

    def set_layout(self, layout: SkeletonLayout | None, problem: str | None) -> None:
        """The graph layout to draw with, or the problem that stops drawing."""
        self.layout_info, self.problem = layout, problem
        if self.index is not None:
            self.show_sequence(self.index)
        elif problem:
            self._say(problem)

    def show_sequence(self, index: int) -> None:
        """Show sequence ``index`` from its first frame."""
        if self.results is None:
            return
        self.index = index
        self.title.setText(self._title(index))
        if self.results.data is None:
            self._say("No skeleton data (.npy) was opened.")
            return
        if self.problem or self.layout_info is None:
            self._say(self.problem or "Choose the skeleton layout the data was made for.")
            return
        try:
            sequence = self.results.sequence(index)
            used = max(self.results.frames_used(index), 1)
        except (OSError, ValueError) as exc:
            self._say(f"Sequence {index} could not be read: {exc}")
            return
        joints = np.transpose(sequence, (1, 2, 3, 0))[:used].astype(np.float64)  # (T, V, M, C)
        channels = joints.shape[-1]
        three_d = channels >= 3 and self.layout_info.name not in KEYPOINT_LAYOUTS
        if three_d and self.view_3d is not None:
            from app.render.skeleton_3d import to_display_axes

            self.joints = to_display_axes(joints[..., :3])
            self.view_3d.frame_sequence(self.joints)
            self.stack.setCurrentWidget(self.view_3d.native)
            self.mode_note.setText("3D · drag to orbit, scroll to zoom")
        else:
            self.joints = joints[..., :2]
            self.view_2d.frame_sequence(self.joints)
            self.stack.setCurrentWidget(self.view_2d)
            self.mode_note.setText(
                f"Front view (x, y): the 3D view is unavailable. {self.gl_problem}"
                if three_d
                else "2D keypoints"
            )
        self.timeline.set_frame_count(used, SKELETON_FPS)
        self._show_frame(0)

    def _title(self, index: int) -> str:
        assert self.results is not None
        results = self.results
        predicted = int(results.predicted_labels[index])
        names = results.class_names
        predicted_name = names[predicted] if 0 <= predicted < len(names) else "(not in label map)"
        title = f"<b>{html.escape(results.sample_names[index])}</b> &nbsp; predicted "
        if results.true_labels is None:
            return title + f"<b>{html.escape(predicted_name)}</b>"
        true = int(results.true_labels[index])
        true_name = names[true] if 0 <= true < len(names) else "(unknown)"
        right = true == predicted
        colour, mark = ("#1e8449", "✓") if right else ("#c0392b", "✗")
        verdict = f"<b style='color:{colour}'>{html.escape(predicted_name)} {mark}</b>"
        return title + f"{verdict} &nbsp; true <b>{html.escape(true_name)}</b>"

    def _show_frame(self, frame: int) -> None:
        if self.joints is None or self.layout_info is None or frame >= len(self.joints):
            return
        edges = self.layout_info.edge_array()
        if self.view_3d is not None and self.stack.currentWidget() is self.view_3d.native:
            self.view_3d.set_pose(self.joints[frame], edges)
        else:
            self.view_2d.set_pose(self.joints[frame], edges)

    def _say(self, text: str) -> None:
        self.joints = None
        self.notice.setText(text)
        self.stack.setCurrentWidget(self.notice)
        self.mode_note.setText("")
        self.timeline.set_frame_count(0)
