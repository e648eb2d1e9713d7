"""The Sparse4D tracks viewer: top view, 3D view and camera grid on one timeline, with filters, the
selected track's details, ground truth against predictions and the run's metrics.

Open alone with the bundled sample: ``python -m app.ui.viewers.tracks_viewer``.
"""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTabWidget,
    QWidget,
)

from app.core.results.infos import CameraInfo
from app.render.gl_check import opengl_problem
from app.ui.viewers.bev_view import BevView
from app.ui.viewers.bundle_viewer import BundleViewer, show_alone
from app.ui.viewers.camera_grid import CameraGrid, ImageLoader, camera_ground_poses
from app.ui.viewers.chrome import notice_label
from app.ui.viewers.frame_scene import FrameScene, FrameSceneBuilder, SceneSettings
from app.ui.viewers.metrics_table import MetricsTable
from app.ui.viewers.palette import FALSE_POSITIVE, GROUND_TRUTH, ID_SWITCH, MISS
from app.ui.viewers.result_files import FileAccess
from app.ui.viewers.result_loading import TrackBundle, load_track_bundle
from app.ui.viewers.result_sources import TrackSource
from app.ui.viewers.scene_3d import show_scene_in_3d
from app.ui.viewers.timeline import Timeline, frames_per_second
from app.ui.viewers.track_details import TrackDetails
from app.ui.viewers.track_filter import BoxFilter, FilteredMatch, match_filtered
from app.ui.viewers.tracks_toolbar import TracksToolbar

REDRAW_DELAY_MS = 30
LEGEND = (
    f"<span style='color:{GROUND_TRUTH}'>▭</span> ground truth &nbsp;"
    f"<span style='color:{MISS}'>▭</span> miss &nbsp;"
    f"<span style='color:{FALSE_POSITIVE}'>✕</span> false positive &nbsp;"
    f"<span style='color:{ID_SWITCH}'>◯</span> ID switch"
)
MATCH_DELAY_MS = 250


def plural(count: int, one: str, many: str | None = None) -> str:
    """``"1 miss"``, ``"3 misses"``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


class TracksViewer(BundleViewer):
    """Shows one :class:`TrackBundle`; stays usable (with a message) when loading fails."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("TracksViewer", parent)
        self.bundle: TrackBundle | None = None
        self.builder: FrameSceneBuilder | None = None
        self.match: FilteredMatch | None = None
        self.scene: FrameScene | None = None
        self.selected_track: int | None = None
        layout = self.main_layout
        self.toolbar = TracksToolbar(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.banner)
        strip = QHBoxLayout()
        self.counts = QLabel(self)
        self.counts.setObjectName("MatchCounts")
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        self.counts.setWordWrap(True)
        strip.addWidget(self.counts, 1)
        self.legend = QLabel(LEGEND, self)
        self.legend.setObjectName("ViewerHint")
        self.legend.setToolTip(
            "Predictions are matched to ground truth of the same class within 2 m (centre distance, "
            "highest scores first), counting only the boxes shown."
        )
        strip.addWidget(self.legend)
        layout.addLayout(strip)
        self.legend.hide()
        self.views_area = QSplitter(Qt.Orientation.Vertical, self)
        top = QSplitter(Qt.Orientation.Horizontal, self.views_area)
        self.bev = BevView(top)
        self.gl_problem = opengl_problem()
        self.view_3d = None
        if self.gl_problem is None:
            from app.render.tracks_3d import TracksScene3D

            self.view_3d = TracksScene3D(top)
            top.addWidget(self.view_3d.native)
        else:
            self.gl_notice = notice_label(f"3D view unavailable. {self.gl_problem}", top)
            top.addWidget(self.gl_notice)
        self.cameras = CameraGrid(self.views_area)
        self.views_area.addWidget(top)
        self.views_area.addWidget(self.cameras)
        top.setSizes([500, 600])
        self.views_area.setSizes([520, 380])
        self.side = QTabWidget(self)
        self.details = TrackDetails(self.side)
        self.metrics = MetricsTable(self.side)
        self.side.addTab(self.details, "Track")
        self.side.addTab(self.metrics, "Metrics")
        body = QSplitter(Qt.Orientation.Horizontal, self)
        body.addWidget(self.views_area)
        body.addWidget(self.side)
        body.setStretchFactor(0, 1)
        body.setSizes([1100, 300])
        self.pages.addWidget(body)
        layout.addWidget(self.pages, 1)
        self.timeline = Timeline(self)
        self.timeline.describe_frame = self._describe_frame
        layout.addWidget(self.timeline)
        self.redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_DELAY_MS)
        self.redraw_timer.timeout.connect(self.redraw_now)
        self.match_timer = QTimer(self, singleShot=True, interval=MATCH_DELAY_MS)
        self.match_timer.timeout.connect(self._start_matching)
        self._connect()
        self._set_enabled(False)
        self.counts.setText("")

    def _connect(self) -> None:
        self.toolbar.changed.connect(self.schedule_redraw)
        self.toolbar.filter_changed.connect(self._on_filter_changed)
        self.toolbar.export_requested.connect(self._on_export_clicked)
        self.timeline.frame_changed.connect(lambda _f: self.schedule_redraw())
        self.bev.clicked.connect(self._on_bev_clicked)
        self.cameras.track_clicked.connect(self.select_track)
        self.details.track_chosen.connect(self.select_track)
        for keys, handler in (
            (Qt.Key.Key_Space, self.timeline.toggle_play),
            (Qt.Key.Key_Left, lambda: self.timeline.step(-1)),
            (Qt.Key.Key_Right, lambda: self.timeline.step(1)),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(handler)

    # -- loading ---------------------------------------------------------------------------------

    def load(self, source: TrackSource, files: FileAccess | None = None) -> None:
        """Read the files in a worker, then show them (or the reason they cannot be shown)."""
        self.start_loading(f"Reading {source.results} …", load_track_bundle, source, files)

    def clear_results(self) -> None:
        """Forget the shown results (loading failed)."""
        self.bundle = self.builder = self.scene = None
        self.legend.hide()
        self.counts.setText("")
        self.timeline.set_frame_count(0)
        self._set_enabled(False)

    def set_bundle(self, bundle: TrackBundle) -> None:
        """Show a loaded result."""
        self.loading = False
        self.bundle = bundle
        tracks, infos = bundle.tracks, bundle.infos
        self.builder = FrameSceneBuilder(tracks, infos)
        self.match = None
        self.selected_track = None
        self.toolbar.blockSignals(True)
        self.toolbar.threshold.setValue(bundle.score_threshold)
        self.toolbar.set_classes(tracks.class_names)
        has_truth = infos is not None and any(frame.has_ground_truth for frame in infos.frames)
        self.toolbar.ground_truth.setEnabled(has_truth)
        self.toolbar.ground_truth.setChecked(has_truth)
        self.legend.setVisible(has_truth)
        self.toolbar.blockSignals(False)
        self.banner.show_warnings(bundle.warnings)
        self.details.set_results(tracks)
        self.metrics.set_metrics(bundle.metrics)
        first_frame = infos.frames[0] if infos is not None and infos.frames else None
        camera_positions, camera_directions, camera_names = camera_ground_poses(first_frame)
        bounds = self.builder.bounds(extra_points=camera_positions)
        self.bev.set_bounds(bounds)
        if self.view_3d is not None:
            self.view_3d.set_ground(bounds)
        self.bev.set_cameras(camera_positions, camera_directions, camera_names)
        self.cameras.set_cameras(infos.camera_names if infos is not None else [], self._image_loader(bundle))
        self.timeline.set_frame_count(tracks.num_frames, frames_per_second(tracks.timestamps))
        self._set_enabled(tracks.num_frames > 0)
        self.pages.setCurrentIndex(1)
        if tracks.num_frames == 0:
            self.counts.setText("")
            self.bev.show_scene(FrameScene(0, ""))
            self.cameras.show_notice("No frames to show.")
        else:
            self._on_filter_changed()
            self.redraw_now()
        self.loaded.emit()

    def _image_loader(self, bundle: TrackBundle) -> ImageLoader | None:
        locator = bundle.images
        if locator is None:
            return None

        def load(camera: CameraInfo) -> QImage | None:
            data = locator.read(camera)
            if data is None:
                return None
            image = QImage.fromData(data)
            return None if image.isNull() else image

        return load

    def _set_enabled(self, enabled: bool) -> None:
        self.toolbar.setEnabled(enabled)
        self.details.setEnabled(enabled)

    # -- settings and selection --------------------------------------------------------------

    def settings(self) -> SceneSettings:
        """The drawing settings as the controls say."""
        return SceneSettings(
            box_filter=self.box_filter(),
            colour_by=self.toolbar.colour_mode(),
            trail_frames=self.toolbar.trail.value(),
            show_ground_truth=self.toolbar.ground_truth.isChecked() and self.toolbar.ground_truth.isEnabled(),
            selected_track=self.selected_track,
        )

    def box_filter(self) -> BoxFilter:
        """The score threshold and hidden classes."""
        return BoxFilter(round(self.toolbar.threshold.value(), 4), self.toolbar.hidden_classes())

    def select_track(self, track_id: int | None) -> None:
        """Highlight a track in every view and show its details (None to clear)."""
        self.selected_track = track_id
        self.details.show_track(track_id)
        if track_id is not None:
            self.side.setCurrentWidget(self.details)
        self.schedule_redraw()

    def _on_bev_clicked(self, x: float, y: float) -> None:
        if self.builder is not None and self.scene is not None:
            track = self.builder.nearest_track(self.scene, x, y)
            if track is not None or self.selected_track is not None:
                self.select_track(track)

    def _on_filter_changed(self) -> None:
        self.schedule_redraw()
        if self.bundle is not None and self.bundle.infos is not None:
            self.match_timer.start()

    def _start_matching(self) -> None:
        if self.bundle is None or self.bundle.infos is None:
            return
        wanted = self.box_filter()
        self.tasks.start(
            match_filtered,
            self.bundle.tracks,
            self.bundle.infos,
            wanted,
            on_done=self._on_matched,
            on_error=lambda message: self.banner.show_message(f"Matching failed: {message}", "error"),
        )

    def _on_matched(self, match: FilteredMatch) -> None:
        if match.box_filter == self.box_filter():
            self.match = match
            self.schedule_redraw()

    # -- drawing -----------------------------------------------------------------------------

    def schedule_redraw(self) -> None:
        """Redraw soon; many requests within the delay become one redraw."""
        if not self.redraw_timer.isActive():
            self.redraw_timer.start()

    def redraw_now(self) -> None:
        """Build the current frame and push it to every view."""
        self.redraw_timer.stop()
        if self.builder is None or self.bundle is None or self.bundle.tracks.num_frames == 0:
            return
        frame = self.timeline.frame
        scene = self.builder.build(frame, self.settings(), self.match)
        self.scene = scene
        self.bev.show_scene(scene, self.toolbar.labels.isChecked())
        if self.view_3d is not None:
            show_scene_in_3d(self.view_3d, scene)
        infos = self.bundle.infos
        self.cameras.show_scene(scene, infos.frame_for_token(scene.token) if infos is not None else None)
        self.details.set_current_frame(frame)
        self._show_counts(scene)

    def _show_counts(self, scene: FrameScene) -> None:
        shown = f"<b>{scene.num_boxes}</b> boxes shown"
        if not self.toolbar.ground_truth.isEnabled():
            self.counts.setText(f"{shown} · no ground truth (open the converted infos .pkl to compare)")
            return
        if not self.toolbar.ground_truth.isChecked():
            self.counts.setText(f"{shown} · ground truth hidden")
            return
        if scene.counts is None or self.match is None:
            self.counts.setText(f"{shown} · matching against the ground truth …")
            return
        frame, totals = scene.counts, self.match.summary.totals()
        mota = self.match.summary.mota
        mota_text = "" if math.isnan(mota) else f", MOTA {mota:.3f}"
        this_frame = (
            f"{frame.true_positives} matched, {plural(frame.false_positives, 'false positive')}, "
            f"{plural(frame.misses, 'miss', 'misses')}, "
            f"{plural(frame.id_switches, 'ID switch', 'ID switches')}"
        )
        all_frames = (
            f"{totals['tp']} matched, {totals['fp']} FP, {plural(totals['fn'], 'miss', 'misses')}, "
            f"{plural(totals['idsw'], 'ID switch', 'ID switches')}{mota_text}"
        )
        self.counts.setText(f"{shown} · <b>this frame</b>: {this_frame} · <b>all frames</b>: {all_frames}")

    def _describe_frame(self, index: int) -> str:
        if self.bundle is None or index >= self.bundle.tracks.num_frames:
            return ""
        tracks = self.bundle.tracks
        number = int(tracks.frame_numbers[index])
        stamp = float(tracks.timestamps[index])
        text = f"{tracks.scenes[index]} · frame {number if number >= 0 else tracks.tokens[index]}"
        return text + ("" if math.isnan(stamp) else f" · {stamp:.2f} s")

    # -- export ------------------------------------------------------------------------------

    def export_png(self, path: str) -> bool:
        """Save the current frame's views (top, 3D, cameras) as a PNG."""
        self.redraw_now()
        return bool(self.views_area.grab().save(path, "PNG"))

    def _on_export_clicked(self) -> None:
        frame = self.timeline.frame + 1
        path, _ = QFileDialog.getSaveFileName(
            self, "Export frame as PNG", f"frame_{frame:05d}.png", "PNG (*.png)"
        )
        if path and not self.export_png(path):
            self.banner.show_message(f"Could not write {path}", "error")


def main() -> int:
    """Open the viewer alone on the bundled sample."""
    from app.ui.application import create_application
    from app.ui.viewers.result_sources import sample_track_source

    app = create_application()
    viewer = TracksViewer()
    viewer.load(sample_track_source())
    return show_alone(app, viewer, 1400, 900)


if __name__ == "__main__":
    sys.exit(main())
