"""The Sparse4D tracks viewer under a real X server, on the bundled sample files (TAO's formats).

Covers the three views on one timeline, filters, colours, selection, ground truth against
predictions, export, the Results page, opening a job's results from its host (local files and SFTP),
and the messages for broken inputs. Screenshots go to tests/artifacts/screenshots.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from app.core.hosts.session import open_session
from app.core.hosts.settings import HostConfig
from app.core.results.infos import load_infos
from app.core.results.matching import match_results
from app.core.results.tracks import load_tracks
from app.render.gl_check import DISABLE_ENV, opengl_problem
from app.ui.application import create_application
from app.ui.viewers.bundle_viewer import BundleViewer
from app.ui.viewers.frame_scene import FrameCounts, FrameScene
from app.ui.viewers.result_files import HostFiles
from app.ui.viewers.result_loading import load_track_bundle
from app.ui.viewers.result_sources import TrackSource, sample_track_source, source_for_job
from app.ui.viewers.results_page import ResultsPage
from app.ui.viewers.tracks_viewer import TracksViewer
from tests.infra.gui import show_widget
from tests.infra.viewers import (
    SPARSE4D_SAMPLE,
    lit_pixels,
    open_local_job_results,
    sample_infos,
    sample_results_document,
    sparse4d_job,
    wait_until_settled,
    write_results,
)
from tests.ui.conftest import save_screenshot


@pytest.fixture
def viewer(qtbot: QtBot) -> TracksViewer:
    create_application()
    return show_widget(qtbot, TracksViewer(), 1500, 950)


@pytest.fixture
def sample_viewer(viewer: TracksViewer, qtbot: QtBot) -> TracksViewer:
    with qtbot.waitSignal(viewer.loaded, timeout=20_000):
        viewer.load(sample_track_source())
    wait_until_settled(qtbot, viewer)
    return viewer


@pytest.fixture(scope="module")
def sample_data() -> tuple:
    infos = load_infos(sample_infos())
    return load_tracks(SPARSE4D_SAMPLE / "results_nusc.json", infos=infos), infos


def _scene(viewer: TracksViewer) -> FrameScene:
    """The frame the viewer shows (it has drawn at least once)."""
    assert viewer.scene is not None, "the viewer has drawn a frame"
    return viewer.scene


def _counts(viewer: TracksViewer) -> FrameCounts:
    """The shown frame's match against the ground truth."""
    counts = _scene(viewer).counts
    assert counts is not None, "the frame was matched against the ground truth"
    return counts


def _num_frames(viewer: TracksViewer) -> int:
    assert viewer.bundle is not None, "the viewer shows a result"
    return viewer.bundle.tracks.num_frames


def _first_frame_with(viewer: TracksViewer, qtbot: QtBot, condition: Callable[[FrameScene], object]) -> int:
    for frame in range(_num_frames(viewer)):
        viewer.timeline.set_frame(frame)
        viewer.redraw_now()
        if condition(_scene(viewer)):
            return frame
    raise AssertionError("no frame of the sample has that")


def test_sample_opens_with_top_view_3d_view_and_cameras_on_one_timeline(
    sample_viewer: TracksViewer, sample_data: tuple, qtbot: QtBot, screenshot_dir: Path
) -> None:
    tracks, infos = sample_data
    viewer = sample_viewer
    assert viewer.timeline.slider.maximum() == tracks.num_frames - 1
    assert sorted(viewer.cameras.tiles) == sorted(infos.camera_names)
    threshold = viewer.toolbar.threshold.value()
    assert threshold == pytest.approx(0.25)  # visualize.vis_score_threshold of TAO's template
    first = slice(int(tracks.frame_offsets[0]), int(tracks.frame_offsets[1]))
    assert _scene(viewer).num_boxes == int((tracks.scores[first] >= threshold).sum())
    assert viewer.bev.boxes.batch_count > 0
    assert all(tile.image is not None and tile.batches for tile in viewer.cameras.tiles.values())
    assert viewer.metrics.table.rowCount() > 0 and not viewer.metrics.table.isHidden()
    viewer.timeline.set_frame(40)
    viewer.select_track(tracks.track_names.index("106"))
    wait_until_settled(qtbot, viewer)
    save_screenshot(viewer, screenshot_dir, "viewer_tracks_sample")


def test_scrub_step_and_play_move_every_view(sample_viewer: TracksViewer, qtbot: QtBot) -> None:
    viewer = sample_viewer
    viewer.timeline.set_frame(10)
    viewer.redraw_now()
    assert _scene(viewer).frame == 10 and viewer.details.cursors[0].value() == 11
    assert viewer.timeline.label.text().startswith(f"11 / {_num_frames(viewer)}")
    viewer.timeline.step(1)
    viewer.redraw_now()
    assert _scene(viewer).frame == 11
    qtbot.mouseClick(viewer.timeline.play_button, Qt.MouseButton.LeftButton)
    assert viewer.timeline.playing
    qtbot.waitUntil(lambda: _scene(viewer).frame >= 14, timeout=5_000)
    viewer.timeline.toggle_play()
    assert not viewer.timeline.playing
    viewer.timeline.speed.setCurrentIndex(viewer.timeline.speed.count() - 1)
    assert viewer.timeline.timer.interval() < 1000 / viewer.timeline.fps


def test_score_threshold_and_class_filter_hide_boxes_and_their_ground_truth(
    sample_viewer: TracksViewer, sample_data: tuple, qtbot: QtBot
) -> None:
    tracks, infos = sample_data
    viewer = sample_viewer
    viewer.toolbar.threshold.setValue(0.8)
    viewer.redraw_now()
    shown_scores = tracks.scores[_scene(viewer).box_indices]
    frame = slice(int(tracks.frame_offsets[0]), int(tracks.frame_offsets[1]))
    assert (shown_scores >= 0.8).all() and len(shown_scores) == int((tracks.scores[frame] >= 0.8).sum())
    viewer.toolbar.threshold.setValue(0.0)
    viewer.toolbar.set_class_shown("person", False)
    assert viewer.toolbar.classes_button.text() == "Classes: 3 of 4"
    viewer.redraw_now()
    person = tracks.class_names.index("person")
    assert _scene(viewer).num_boxes > 0
    assert not (tracks.class_indices[_scene(viewer).box_indices] == person).any()
    gt_names = infos.frame_for_token(_scene(viewer).token).gt_names
    assert len(_scene(viewer).gt_corners) == sum(name != "person" for name in gt_names)
    qtbot.waitUntil(
        lambda: viewer.match is not None and viewer.match.box_filter == viewer.box_filter(), timeout=10_000
    )
    viewer.redraw_now()
    assert "this frame" in viewer.counts.text()


def test_track_colours_are_stable_across_frames_and_viewers(
    sample_viewer: TracksViewer, qtbot: QtBot, sample_data: tuple
) -> None:
    tracks, _ = sample_data
    track = tracks.track_names.index("101")

    def key_at(viewer: TracksViewer, frame: int) -> int:
        viewer.timeline.set_frame(frame)
        viewer.redraw_now()
        (position,) = np.flatnonzero(_scene(viewer).track_ids == track)
        return int(_scene(viewer).colour_keys[position])

    first = key_at(sample_viewer, 5)
    assert key_at(sample_viewer, 30) == first
    other = TracksViewer()
    qtbot.addWidget(other)
    other.set_bundle(load_track_bundle(sample_track_source()))
    assert key_at(other, 50) == first
    sample_viewer.toolbar.colour_by.setCurrentIndex(sample_viewer.toolbar.colour_by.findData("class"))
    sample_viewer.redraw_now()
    scene = _scene(sample_viewer)
    classes = tracks.class_indices[scene.box_indices]
    for class_index in np.unique(classes):
        assert len(set(scene.colour_keys[classes == class_index])) == 1


def test_clicking_a_box_selects_its_track_in_every_view(
    sample_viewer: TracksViewer, sample_data: tuple, qtbot: QtBot, screenshot_dir: Path
) -> None:
    tracks, _ = sample_data
    viewer = sample_viewer
    viewer.timeline.set_frame(20)
    viewer.redraw_now()
    target = 3
    centre = tracks.centers[_scene(viewer).box_indices[target], :2]
    view_box = viewer.bev.getPlotItem().vb
    scene_point = view_box.mapViewToScene(QPointF(float(centre[0]), float(centre[1])))
    widget_point = viewer.bev.mapFromScene(scene_point)
    qtbot.mouseClick(viewer.bev.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    expected = int(_scene(viewer).track_ids[target])
    qtbot.waitUntil(lambda: viewer.selected_track == expected, timeout=3_000)
    viewer.redraw_now()
    assert _scene(viewer).selected == target
    assert viewer.bev.selection.batch_count >= 2
    assert any(batch.pen.widthF() >= 3 for tile in viewer.cameras.tiles.values() for batch in tile.batches)
    assert f"track {tracks.track_names[expected]}" in viewer.details.facts.text()
    assert len(viewer.details.speed_curve.getData()[0]) == tracks.track_lengths()[expected]
    if viewer.view_3d is not None:
        assert viewer.view_3d.selection.count >= 12
    tile = next(tile for tile in viewer.cameras.tiles.values() if len(tile.pick_boxes))
    x0, y0, x1, y1 = tile.pick_boxes[np.argmax(tile.pick_tracks != expected)]
    other = tile.track_at((x0 + x1) / 2, (y0 + y1) / 2)
    viewer.cameras.track_clicked.emit(other)
    assert viewer.selected_track == other
    viewer.details.clear_button.click()
    assert viewer.selected_track is None
    viewer.select_track(expected)
    wait_until_settled(qtbot, viewer)
    save_screenshot(viewer, screenshot_dir, "viewer_tracks_selected_track")


def test_ground_truth_against_predictions_marks_misses_false_positives_and_id_switches(
    sample_viewer: TracksViewer, sample_data: tuple, qtbot: QtBot, screenshot_dir: Path
) -> None:
    tracks, infos = sample_data
    viewer = sample_viewer
    viewer.toolbar.threshold.setValue(0.0)
    qtbot.waitUntil(
        lambda: viewer.match is not None and viewer.match.box_filter == viewer.box_filter(), timeout=10_000
    )
    totals = match_results(tracks, infos).totals()
    assert viewer.match is not None and viewer.match.summary.totals() == totals
    switch_frame = _first_frame_with(viewer, qtbot, lambda scene: scene.id_switch.any())
    assert _counts(viewer).id_switches >= 1 and len(viewer.bev.markers.data) >= 1
    assert f"{totals['idsw']} ID switches" in viewer.counts.text()
    _first_frame_with(viewer, qtbot, lambda scene: scene.gt_missed.any())
    assert _counts(viewer).misses == int(_scene(viewer).gt_missed.sum())
    _first_frame_with(viewer, qtbot, lambda scene: scene.false_positive.any())
    assert _counts(viewer).false_positives == int(_scene(viewer).false_positive.sum())
    viewer.timeline.set_frame(switch_frame)
    wait_until_settled(qtbot, viewer)
    save_screenshot(viewer, screenshot_dir, "viewer_tracks_ground_truth")
    viewer.toolbar.ground_truth.setChecked(False)
    viewer.redraw_now()
    assert len(_scene(viewer).gt_corners) == 0 and "hidden" in viewer.counts.text()


def test_export_writes_the_current_frame_as_png(sample_viewer: TracksViewer, tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    assert sample_viewer.export_png(str(path))
    image = QImage(str(path))
    assert not image.isNull() and image.size() == sample_viewer.views_area.size()


@pytest.mark.gl
def test_3d_view_draws_boxes_and_highlights_the_selection(sample_viewer: TracksViewer, qtbot: QtBot) -> None:
    if opengl_problem() is not None or sample_viewer.view_3d is None:
        pytest.skip(f"no OpenGL here: {opengl_problem()}")
    view = sample_viewer.view_3d
    sample_viewer.toolbar.trail.setValue(0)
    sample_viewer.redraw_now()
    before = view.render()
    assert lit_pixels(before) > 2000
    white_before = int((before[..., :3] > 245).all(axis=-1).sum())
    sample_viewer.select_track(int(_scene(sample_viewer).track_ids[0]))
    sample_viewer.redraw_now()
    after = view.render()
    assert int((after[..., :3] > 245).all(axis=-1).sum()) > white_before + 50


def test_without_opengl_the_3d_view_is_a_notice_and_the_rest_works(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, screenshot_dir: Path
) -> None:
    monkeypatch.setenv(DISABLE_ENV, "1")
    create_application()
    viewer = TracksViewer()
    qtbot.addWidget(viewer)
    viewer.resize(1500, 950)
    viewer.show()
    viewer.load(sample_track_source())
    wait_until_settled(qtbot, viewer)
    assert viewer.view_3d is None and viewer.gl_notice.isVisible()
    assert "3D view unavailable" in viewer.gl_notice.text()
    assert _scene(viewer).num_boxes > 0 and viewer.bev.boxes.batch_count > 0
    assert all(tile.image is not None for tile in viewer.cameras.tiles.values())
    save_screenshot(viewer, screenshot_dir, "viewer_tracks_no_gl")


# -- broken inputs ---------------------------------------------------------------------------------


def _load_and_wait(viewer: TracksViewer, qtbot: QtBot, **source: object) -> None:
    with qtbot.waitSignal(viewer.loaded, timeout=20_000):
        viewer.load(TrackSource(**source))  # type: ignore[arg-type]
    wait_until_settled(qtbot, viewer)


def test_malformed_json_is_a_message_and_the_viewer_stays_usable(
    viewer: TracksViewer, qtbot: QtBot, tmp_path: Path, screenshot_dir: Path
) -> None:
    bad = tmp_path / "results_nusc.json"
    bad.write_text('{"results": {"scene__000000001": [ {"translation": [1, 2', encoding="utf-8")
    _load_and_wait(viewer, qtbot, results=str(bad))
    assert viewer.banner.level == "error" and "results_nusc.json" in viewer.banner.text()
    assert "not valid JSON at line 1" in viewer.banner.text()
    save_screenshot(viewer, screenshot_dir, "viewer_tracks_bad_json")
    with qtbot.waitSignal(viewer.loaded, timeout=20_000):
        viewer.load(sample_track_source())
    wait_until_settled(qtbot, viewer)
    assert viewer.scene is not None and _scene(viewer).num_boxes > 0


def test_missing_fields_unknown_tokens_and_empty_results_are_explained(
    viewer: TracksViewer, qtbot: QtBot, tmp_path: Path
) -> None:
    document = sample_results_document()
    token = next(iter(document["results"]))
    for box in document["results"][token]:
        del box["translation"]
    document["results"]["Other_scene__000000007"] = document["results"][next(reversed(document["results"]))]
    path = write_results(tmp_path / "partial.json", document["results"])
    _load_and_wait(viewer, qtbot, results=str(path), infos=[str(sample_infos())])
    text = viewer.banner.toolTip()
    assert viewer.banner.level == "warning"
    assert "translation" in text and "Other_scene__000000007" in text
    assert _scene(viewer).num_boxes == 0  # the first frame lost its boxes, the viewer still shows it
    viewer.timeline.set_frame(5)
    viewer.redraw_now()
    assert _scene(viewer).num_boxes > 0
    empty = write_results(tmp_path / "empty.json", {})
    _load_and_wait(viewer, qtbot, results=str(empty))
    assert "no boxes" in viewer.banner.text() and viewer.timeline.label.text() == "no frames"
    none_readable = write_results(tmp_path / "unreadable.json", {token: [{"size": [1, 1, 1]}]})
    _load_and_wait(viewer, qtbot, results=str(none_readable))
    assert viewer.banner.level == "error" and "none of the boxes could be read" in viewer.banner.text()


def test_broken_infos_leave_the_predictions_visible(
    viewer: TracksViewer, qtbot: QtBot, tmp_path: Path
) -> None:
    broken = tmp_path / "broken_infos.pkl"
    broken.write_bytes(b"\x80\x04not really a pickle")
    _load_and_wait(viewer, qtbot, results=str(SPARSE4D_SAMPLE / "results_nusc.json"), infos=[str(broken)])
    assert "Ground truth and cameras unavailable" in viewer.banner.toolTip()
    assert "broken_infos.pkl" in viewer.banner.toolTip()
    assert _scene(viewer).num_boxes > 0 and not viewer.cameras.tiles
    assert "open the converted infos" in viewer.counts.text()


# -- the Results page and jobs -----------------------------------------------------------------


def test_results_page_opens_samples_and_dropped_files(
    qtbot: QtBot, tmp_path: Path, screenshot_dir: Path
) -> None:
    create_application()
    page = ResultsPage()
    qtbot.addWidget(page)
    page.resize(1500, 950)
    page.show()
    save_screenshot(page, screenshot_dir, "results_page_welcome")
    qtbot.mouseClick(page.sample_tracks_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.sample_poses_button, Qt.MouseButton.LeftButton)
    assert page.tabs.count() == 2
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(SPARSE4D_SAMPLE / "results_nusc.json")),
            QUrl.fromLocalFile(str(sample_infos())),
        ]
    )
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    page.dropEvent(drop)
    assert page.tabs.count() == 3
    dropped = page.tabs.currentWidget()
    assert isinstance(dropped, TracksViewer)
    wait_until_settled(qtbot, dropped)
    assert dropped.bundle is not None and dropped.bundle.infos is not None
    odd = tmp_path / "notes.md"
    odd.write_text("hello", encoding="utf-8")
    assert page.open_paths([str(odd)]) is None
    assert page.banner.level == "error" and "results_nusc.json" in page.banner.text()
    while page.tabs.count():
        page.close_tab(0)
    assert page.stack.currentWidget() is page.welcome
    page.open_sample("tracks")
    page.close_tab(0)  # closed while its files are still being read: the late result is dropped quietly
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=20_000)
    QCoreApplication.processEvents()


def test_main_window_has_the_results_page_and_menu(qtbot: QtBot) -> None:
    from app.ui.main_window import MainWindow

    create_application()
    window = MainWindow()
    qtbot.addWidget(window)
    titles = [window.pages.tabText(i) for i in range(window.pages.count())]
    assert "Results" in titles
    texts = [action.text() for action in window.file_menu.actions()]
    assert "Open results…" in texts and "Open sample" in texts
    assert texts.index("Open sample") < texts.index("Quit")
    sample_menu = next(
        action.menu() for action in window.file_menu.actions() if action.text() == "Open sample"
    )
    assert isinstance(sample_menu, QMenu)
    sample_menu.actions()[0].trigger()
    assert window.pages.currentWidget() is window.results_page and window.results_page.tabs.count() == 1
    opened = window.results_page.tabs.currentWidget()
    assert isinstance(opened, BundleViewer)
    wait_until_settled(qtbot, opened)
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=20_000)
    QCoreApplication.processEvents()
    window.close()


def test_job_results_open_from_the_jobs_host(qtbot: QtBot, tmp_path: Path) -> None:
    viewer = open_local_job_results(qtbot, sparse4d_job(tmp_path), tmp_path)
    assert isinstance(viewer, TracksViewer)
    assert viewer.banner.level in ("", "warning"), viewer.banner.text()
    assert viewer.toolbar.threshold.value() == pytest.approx(0.4)  # the job's visualize.vis_score_threshold
    assert viewer.metrics.table.rowCount() > 0
    assert all(tile.image is not None for tile in viewer.cameras.tiles.values())


def test_job_without_results_says_where_it_looked(qtbot: QtBot, tmp_path: Path) -> None:
    job = sparse4d_job(tmp_path, copy_results=False)
    viewer = open_local_job_results(qtbot, job, tmp_path)
    assert isinstance(viewer, TracksViewer)
    text = viewer.banner.text()
    assert viewer.banner.level == "error" and job.id in text and "results_nusc.json" in text
    assert "sparse4d_pred/img_bbox/results_nusc.json" in text and "here" in text


@pytest.mark.ssh
def test_job_results_are_read_over_sftp(ssh_host_config: HostConfig, tmp_path: Path) -> None:
    job = sparse4d_job(tmp_path, prefix=str(tmp_path / "absolute_prefix"))
    with open_session(ssh_host_config) as session:
        files = HostFiles(session)
        source = source_for_job(job, files)
        assert isinstance(source, TrackSource)
        assert source.results == str(tmp_path / "absolute_prefix" / "img_bbox" / "results_nusc.json")
        bundle = load_track_bundle(source, files)
        local = load_track_bundle(sample_track_source())
        assert bundle.tracks.num_boxes == local.tracks.num_boxes
        assert bundle.infos is not None and bundle.images is not None
        camera = bundle.infos.frames[0].cameras["Camera_01"]
        assert camera.image_path is not None
        assert bundle.images.read(camera) == (SPARSE4D_SAMPLE / camera.image_path).read_bytes()
        assert json.loads(files.read_bytes(source.metrics or ""))["mean_ap"] > 0
