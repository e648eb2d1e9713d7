"""Benchmark: the result viewers, with their Qt views, on synthetic data of the target sizes.

Run under an X server (OpenGL through Mesa llvmpipe is what the 3D figure is about):

    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python -m tests.benchmarks.bench_viewers [--megabytes 100]

1. Frame step in the top view and the 3D view, each 800x600, with 200 boxes per frame and 20-frame
   trails: building the frame, handing it to both views and painting both (target <= 33 ms). The
   reference is the same step on frames without boxes (the fixed cost of painting two views).
2. Opening a ~100 MB ``results_nusc.json`` in the tracks viewer: reading (load_track_bundle, the
   figure tests/benchmarks/bench_results_load.py measures in detail) and then showing it
   (set_bundle). Target <= 3 s for the reading.
3. Confusion matrix and sequence list for 10,000 sequences, Qt views included: showing the results
   (set_bundle + rendering the whole window with grab()), and one click on a cell (filter + list +
   rendering). Target <= 200 ms. The
   reference is the core statistics alone (matrix, per-class accuracy, one filter).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from app.core.results.poses import PoseLabels, build_pose_results
from app.core.results.tracks import TrackResults
from app.render.gl_check import opengl_problem
from app.ui.application import create_application
from app.ui.viewers.bev_view import BevView
from app.ui.viewers.frame_scene import FrameSceneBuilder, SceneSettings
from app.ui.viewers.pose_viewer import PoseViewer
from app.ui.viewers.result_loading import PoseBundle, load_track_bundle
from app.ui.viewers.result_sources import TrackSource
from app.ui.viewers.scene_3d import show_scene_in_3d
from app.ui.viewers.track_filter import BoxFilter
from app.ui.viewers.tracks_viewer import TracksViewer
from tests.benchmarks.bench_results_load import results_file

CLASSES = ["person", "gr1_t2", "agility_digit", "nova_carter"]


def median_ms(function: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and 90th percentile wall time of ``function`` in milliseconds (after two warm-ups)."""
    for _ in range(2):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 90))


def synthetic_tracks(boxes_per_frame: int, frames: int, seed: int = 7) -> TrackResults:
    """``boxes_per_frame`` objects wandering for ``frames`` frames, one track each, in flat arrays."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.08, size=(frames, boxes_per_frame, 2))
    xy = rng.uniform(-30, 30, size=(boxes_per_frame, 2)) + np.cumsum(steps, axis=0)
    count = frames * boxes_per_frame
    centers = np.column_stack([xy.reshape(-1, 2), np.full(count, 0.9)])
    tokens = [f"Bench_scene__{frame:09d}" for frame in range(frames)]
    return TrackResults(
        source="synthetic",
        tokens=tokens,
        scenes=["Bench_scene"] * frames,
        frame_numbers=np.arange(frames, dtype=np.int64),
        timestamps=np.arange(frames) / 10.0,
        frame_offsets=np.arange(frames + 1, dtype=np.int64) * boxes_per_frame,
        centers=centers,
        sizes=np.tile([0.6, 0.5, 1.8], (count, 1)),
        yaws=rng.uniform(-np.pi, np.pi, count),
        velocities=rng.normal(0, 1, (count, 2)),
        scores=rng.uniform(0.3, 1.0, count),
        class_indices=rng.integers(0, len(CLASSES), count),
        track_ids=np.tile(np.arange(boxes_per_frame), frames),
        class_names=CLASSES,
        track_names=[str(1000 + i) for i in range(boxes_per_frame)],
    )


class FrameStepHarness(QWidget):
    """The top view and the 3D view side by side, each 800x600, fed by the viewer's own code."""

    def __init__(self, tracks: TrackResults) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.bev = BevView(self)
        self.bev.setFixedSize(800, 600)
        layout.addWidget(self.bev)
        self.view_3d = None
        if opengl_problem() is None:
            from app.render.tracks_3d import TracksScene3D

            self.view_3d = TracksScene3D(self)
            self.view_3d.native.setFixedSize(800, 600)
            layout.addWidget(self.view_3d.native)
        self.builder = FrameSceneBuilder(tracks)
        bounds = self.builder.bounds()
        self.bev.set_bounds(bounds)
        if self.view_3d is not None:
            self.view_3d.set_ground(bounds)
        self.settings = SceneSettings(box_filter=BoxFilter(0.0), trail_frames=20)
        self.frame = 0

    def step(self) -> int:
        """Show the next frame and paint both views; returns how many boxes were drawn."""
        self.frame = (self.frame + 1) % self.builder.tracks.num_frames
        scene = self.builder.build(self.frame, self.settings)
        self.bev.show_scene(scene)
        self.bev.viewport().repaint()
        if self.view_3d is not None:
            show_scene_in_3d(self.view_3d, scene)
            self.view_3d.native.repaint()
        QApplication.processEvents()
        return scene.num_boxes


def bench_frame_step(app: QApplication, repeats: int) -> None:
    print("1. frame step: top view + 3D view, 800x600 each, 20-frame trails")
    problem = opengl_problem()
    print(f"   OpenGL: {'available' if problem is None else problem}")
    tracks = synthetic_tracks(200, 300)
    results = {}
    for boxes, threshold in ((0, 2.0), (200, 0.0)):
        harness = FrameStepHarness(tracks)
        harness.settings = SceneSettings(box_filter=BoxFilter(threshold), trail_frames=20)
        harness.show()
        QTest.qWaitForWindowExposed(harness)
        shown = harness.step()
        results[boxes] = median_ms(harness.step, repeats)
        median, p90 = results[boxes]
        print(f"   {boxes:>3} boxes/frame ({shown} drawn): median {median:6.1f} ms, p90 {p90:6.1f} ms")
        harness.close()
        harness.deleteLater()
        app.processEvents()
    step, empty = results[200][0], results[0][0]
    verdict = "met" if step <= 33 else "NOT met"
    print(
        f"   200 boxes cost {step - empty:.1f} ms over the empty-frame reference "
        f"({step / max(empty, 1e-6):.1f}x)"
    )
    print(f"   target <= 33 ms: {verdict} ({1000 / step:.0f} frames/s)")


def bench_open_large_results(app: QApplication, folder: Path, megabytes: int) -> None:
    print(f"2. opening a ~{megabytes} MB results_nusc.json in the tracks viewer")
    for embeddings in (True, False):
        path = results_file(folder, megabytes, embeddings=embeddings)
        start = time.perf_counter()
        bundle = load_track_bundle(TrackSource(results=str(path)))
        read = time.perf_counter() - start
        viewer = TracksViewer()
        viewer.resize(1400, 900)
        viewer.show()
        start = time.perf_counter()
        viewer.set_bundle(bundle)
        viewer.grab()
        shown = time.perf_counter() - start
        tracks = bundle.tracks
        shape = "tracking output with embeddings" if embeddings else "boxes without embeddings"
        print(
            f"   {shape}: {path.stat().st_size / 1e6:.0f} MB, {tracks.num_boxes:,} boxes, "
            f"{tracks.num_frames:,} frames, {tracks.num_tracks:,} tracks"
        )
        print(
            f"     read {read:.2f} s (target <= 3 s: {'met' if read <= 3 else 'NOT met'}), "
            f"then shown in {shown:.2f} s"
        )
        viewer.close()
        viewer.deleteLater()
        app.processEvents()


def bench_poses(app: QApplication, count: int, repeats: int) -> None:
    print(f"3. pose viewer: confusion matrix and sequence list for {count:,} sequences (Qt views included)")
    rng = np.random.default_rng(3)
    names = [f"class_{i}" for i in range(10)]
    true = rng.integers(0, len(names), count)
    predicted = np.where(rng.random(count) < 0.8, true, rng.integers(0, len(names), count))
    labels = PoseLabels([f"seq_{i:05d}" for i in range(count)], true)
    results = build_pose_results(names, [names[i] for i in predicted], labels)
    bundle = PoseBundle(source=None, results=results, layout=None, layout_problem=None)  # type: ignore[arg-type]
    viewer = PoseViewer()
    viewer.resize(1400, 860)
    viewer.show()
    QTest.qWaitForWindowExposed(viewer)

    def show() -> None:
        viewer.set_bundle(bundle)
        viewer.grab()  # renders every view now (a repaint() may be skipped until the next event loop pass)

    def click() -> None:
        viewer.confusion.cell_clicked.emit(int(rng.integers(0, 10)), int(rng.integers(0, 10)))
        viewer.grab()

    start = time.perf_counter()
    show()
    print(f"   first showing (cold): {(time.perf_counter() - start) * 1000:6.1f} ms")

    def core_only() -> None:
        results.confusion_matrix()
        results.confusion_matrix(normalize=True)
        results.per_class_accuracy()
        results.filter_indices(true_class=1, predicted_class=2)

    shown, click_time, core = (median_ms(f, repeats) for f in (show, click, core_only))
    print(f"   show again:   median {shown[0]:6.1f} ms (p90 {shown[1]:.1f})")
    print(f"   cell click:   median {click_time[0]:6.1f} ms (p90 {click_time[1]:.1f})")
    print(f"   core statistics alone (reference): {core[0]:.2f} ms")
    print(
        f"   Qt views cost {shown[0] / max(core[0], 1e-6):.0f}x the core statistics; target <= 200 ms: "
        f"{'met' if max(shown[0], click_time[0]) <= 200 else 'NOT met'}"
    )
    viewer.close()


def main() -> None:
    """Run the three benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description="results viewer benchmarks")
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "taodesk-bench-results")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    app = create_application()
    print(f"Qt platform: {app.platformName()}")
    bench_frame_step(app, args.repeats)
    bench_open_large_results(app, args.dir, args.megabytes)
    bench_poses(app, 10_000, max(5, args.repeats // 3))


if __name__ == "__main__":
    main()
