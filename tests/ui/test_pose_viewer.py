"""The pose classification viewer under a real X server, on files in TAO's formats.

Expected numbers are computed here from the raw files with plain Python, not with the readers the
viewer uses. Screenshots go to tests/artifacts/screenshots.
"""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.hosts.session import open_session
from app.core.hosts.settings import HostConfig
from app.render.gl_check import opengl_problem
from app.ui.application import create_application
from app.ui.viewers.pose_viewer import PoseViewer
from app.ui.viewers.result_files import HostFiles
from app.ui.viewers.result_loading import load_pose_bundle
from app.ui.viewers.result_sources import PoseSource, sample_pose_source, source_for_job
from tests.infra.gui import show_widget
from tests.infra.viewers import POSE_SAMPLE, open_local_job_results, pose_job, wait_until_settled
from tests.ui.conftest import save_screenshot


@pytest.fixture(scope="module")
def raw() -> dict:
    """The sample read without the app: class names, predictions, labels, data."""
    label_map = yaml.safe_load((POSE_SAMPLE / "label_map.yaml").read_text(encoding="utf-8"))
    names = sorted(label_map, key=label_map.get)
    predicted = (POSE_SAMPLE / "results.txt").read_text(encoding="utf-8").split()
    with open(POSE_SAMPLE / "test_label.pkl", "rb") as stream:
        samples, labels = pickle.load(stream)
    return {
        "names": names,
        "predicted": predicted,
        "true": [names[int(label)] for label in labels],
        "samples": list(samples),
        "data": np.load(POSE_SAMPLE / "test_data.npy"),
    }


@pytest.fixture
def viewer(qtbot: QtBot) -> PoseViewer:
    create_application()
    return show_widget(qtbot, PoseViewer(), 1400, 860)


def _open(viewer: PoseViewer, qtbot: QtBot, source: PoseSource) -> None:
    with qtbot.waitSignal(viewer.loaded, timeout=20_000):
        viewer.load(source)
    wait_until_settled(qtbot, viewer)


@pytest.fixture
def sample_viewer(viewer: PoseViewer, qtbot: QtBot) -> PoseViewer:
    _open(viewer, qtbot, sample_pose_source())
    return viewer


def _click_cell(qtbot: QtBot, viewer: PoseViewer, row: int, column: int) -> None:
    table = viewer.confusion.table
    rect = table.visualRect(viewer.confusion.model.index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _listed(viewer: PoseViewer) -> list[int]:
    return [int(index) for index in viewer.sequences.model.indices]


def test_summary_and_matrix_match_the_files(
    sample_viewer: PoseViewer, raw: dict, screenshot_dir: Path
) -> None:
    pairs = list(zip(raw["true"], raw["predicted"], strict=True))
    top1 = sum(true == predicted for true, predicted in pairs) / len(pairs)
    per_class = [
        sum(1 for t, p in pairs if t == name and p == name) / sum(1 for t, _ in pairs if t == name)
        for name in raw["names"]
    ]
    summary = sample_viewer.summary.text()
    assert f"{100 * top1:.1f} %" in summary and f"{100 * np.mean(per_class):.1f} %" in summary
    assert f"{len(pairs)} sequences" in summary
    model = sample_viewer.confusion.model
    counts = Counter(pairs)
    for row, true in enumerate(raw["names"]):
        for column, predicted in enumerate(raw["names"]):
            assert model.data(model.index(row, column)) == str(counts[(true, predicted)])
        assert model.data(model.index(row, len(raw["names"]))) == f"{100 * per_class[row]:.1f} %"
    sample_viewer.confusion.percent_button.click()
    row_total = sum(counts[(raw["names"][0], p)] for p in raw["names"])
    assert model.data(model.index(0, 0)) == f"{100 * counts[(raw['names'][0],) * 2] / row_total:.0f} %"
    sample_viewer.confusion.counts_button.click()
    save_screenshot(sample_viewer, screenshot_dir, "viewer_pose_sample")


def test_clicking_a_cell_lists_its_sequences_and_plays_one(
    sample_viewer: PoseViewer, raw: dict, qtbot: QtBot, screenshot_dir: Path
) -> None:
    names = raw["names"]
    off_diagonal = Counter((t, p) for t, p in zip(raw["true"], raw["predicted"], strict=True) if t != p)
    (true, predicted), _ = off_diagonal.most_common(1)[0]
    _click_cell(qtbot, sample_viewer, names.index(true), names.index(predicted))
    expected = [
        i
        for i, (t, p) in enumerate(zip(raw["true"], raw["predicted"], strict=True))
        if (t, p) == (true, predicted)
    ]
    assert _listed(sample_viewer) == expected
    assert sample_viewer.sequences.count.text() == f"{len(expected)} of {len(raw['true'])}"
    first = expected[0]
    title = sample_viewer.skeleton.title.text()
    assert raw["samples"][first] in title and f"{predicted} ✗" in title and f"true <b>{true}</b>" in title
    used = int(np.flatnonzero(np.any(raw["data"][first] != 0, axis=(0, 2, 3)))[-1]) + 1
    timeline = sample_viewer.skeleton.timeline
    assert timeline.slider.maximum() == used - 1
    if opengl_problem() is None:
        view_3d = sample_viewer.skeleton.view_3d
        assert view_3d is not None and sample_viewer.skeleton.stack.currentWidget() is view_3d.native
    timeline.toggle_play()
    qtbot.waitUntil(lambda: timeline.frame >= 3, timeout=5_000)
    timeline.pause()
    save_screenshot(sample_viewer, screenshot_dir, "viewer_pose_cell_clicked")
    _click_cell(qtbot, sample_viewer, names.index(true), len(names))
    assert _listed(sample_viewer) == [i for i, t in enumerate(raw["true"]) if t == true]


def test_list_filters_by_class_and_verdict(sample_viewer: PoseViewer, raw: dict) -> None:
    sequences = sample_viewer.sequences
    sequences.verdict_filter.setCurrentIndex(sequences.verdict_filter.findData(False))
    wrong = [i for i, (t, p) in enumerate(zip(raw["true"], raw["predicted"], strict=True)) if t != p]
    assert _listed(sample_viewer) == wrong
    model = sequences.model
    assert {model.data(model.index(row, 4)) for row in range(model.rowCount())} == {"✗"}
    sequences.predicted_filter.setCurrentIndex(
        sequences.predicted_filter.findData(raw["names"].index("walking"))
    )
    assert _listed(sample_viewer) == [i for i in wrong if raw["predicted"][i] == "walking"]


def test_layout_mismatch_is_explained_and_the_rest_stays_usable(
    sample_viewer: PoseViewer, raw: dict, screenshot_dir: Path
) -> None:
    sample_viewer.choose_layout("openpose")
    text = sample_viewer.banner.text()
    assert (
        sample_viewer.banner.level == "error" and "V=34" in text and "openpose" in text and "nvidia" in text
    )
    skeleton = sample_viewer.skeleton
    assert skeleton.stack.currentWidget() is skeleton.notice and "V=34" in skeleton.notice.text()
    sample_viewer.sequences.set_filter(None, raw["names"].index("jumping"))
    sample_viewer.sequences.select_row(0)
    assert _listed(sample_viewer) == [i for i, p in enumerate(raw["predicted"]) if p == "jumping"]
    assert raw["samples"][_listed(sample_viewer)[0]] in skeleton.title.text()
    save_screenshot(sample_viewer, screenshot_dir, "viewer_pose_layout_mismatch")
    sample_viewer.choose_layout("nvidia")
    assert sample_viewer.banner.level != "error" and skeleton.stack.currentWidget() is not skeleton.notice


def test_two_channel_data_with_two_persons_is_drawn_in_2d(
    viewer: PoseViewer, qtbot: QtBot, tmp_path: Path, screenshot_dir: Path
) -> None:
    rng = np.random.default_rng(3)
    base = np.array([[0, -170], [0, -150], [-20, -150], [-30, -120], [-35, -95], [20, -150], [30, -120],
                     [35, -95], [-12, -90], [-14, -50], [-15, -10], [12, -90], [14, -50], [15, -10],
                     [-4, -175], [4, -175], [-8, -172], [8, -172]], dtype=np.float32)  # fmt: skip
    data = np.zeros((3, 2, 12, 18, 2), dtype=np.float32)
    for frame in range(12):
        data[:, :, frame, :, 0] = (base + rng.normal(0, 1.5, base.shape)).T
        data[:, :, frame, :, 1] = (base + np.array([90.0, 0.0]) + rng.normal(0, 1.5, base.shape)).T
    np.save(tmp_path / "kinetics.npy", data)
    (tmp_path / "out.txt").write_text("waving\nclapping\nwaving\n", encoding="utf-8")
    (tmp_path / "map.yaml").write_text(
        "dataset:\n  label_map:\n    waving: 0\n    clapping: 1\n", encoding="utf-8"
    )
    source = PoseSource(
        str(tmp_path / "out.txt"),
        str(tmp_path / "kinetics.npy"),
        None,
        str(tmp_path / "map.yaml"),
        "openpose",
    )
    _open(viewer, qtbot, source)
    skeleton = viewer.skeleton
    assert skeleton.stack.currentWidget() is skeleton.view_2d
    assert skeleton.view_2d.bones.batch_count == 2 and len(skeleton.view_2d.joints.data) == 36
    assert "No true labels" in viewer.banner.toolTip()
    assert viewer.confusion.table.isHidden() and "label .pkl" in viewer.confusion.notice.text()
    assert "no true labels" in viewer.summary.text()
    save_screenshot(viewer, screenshot_dir, "viewer_pose_2d_two_persons")


def test_bad_inputs_are_messages(viewer: PoseViewer, qtbot: QtBot, tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("walking\nsitting\n", encoding="utf-8")
    source = sample_pose_source()
    source.predictions = str(short)
    _open(viewer, qtbot, source)
    assert viewer.banner.level == "error" and "short.txt has 2 lines" in viewer.banner.text()
    assert viewer.pages.currentWidget() is viewer.placeholder
    odd = tmp_path / "odd.txt"
    odd.write_text(
        "\n".join(["dancing", *(POSE_SAMPLE / "results.txt").read_text().split()[1:]]), encoding="utf-8"
    )
    source.predictions = str(odd)
    _open(viewer, qtbot, source)
    assert viewer.banner.level == "warning" and "dancing" in viewer.banner.toolTip()
    broken_map = tmp_path / "map.yaml"
    broken_map.write_text("label_map: [walking, sitting", encoding="utf-8")
    source.label_map = str(broken_map)
    _open(viewer, qtbot, source)
    assert viewer.banner.level == "error" and "map.yaml" in viewer.banner.text()


def test_pose_job_results_open_from_the_jobs_host(qtbot: QtBot, tmp_path: Path) -> None:
    viewer = open_local_job_results(qtbot, pose_job(tmp_path), tmp_path)
    assert isinstance(viewer, PoseViewer)
    assert viewer.bundle is not None and viewer.bundle.results.num_sequences == 90
    assert viewer.layout_choice.currentData() == "nvidia" and "Top-1 accuracy" in viewer.summary.text()


@pytest.mark.ssh
def test_pose_sequences_are_read_one_at_a_time_over_sftp(
    ssh_host_config: HostConfig, tmp_path: Path, raw: dict
) -> None:
    job = pose_job(tmp_path)
    with open_session(ssh_host_config) as session:
        files = HostFiles(session)
        source = source_for_job(job, files)
        assert isinstance(source, PoseSource)
        bundle = load_pose_bundle(source, files)
        results = bundle.results
        assert results.num_sequences == len(raw["true"]) and bundle.layout_problem is None
        assert np.array_equal(results.sequence(37), raw["data"][37])
        assert (
            results.frames_used(5) == int(np.flatnonzero(np.any(raw["data"][5] != 0, axis=(0, 2, 3)))[-1]) + 1
        )
