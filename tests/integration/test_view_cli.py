"""``taodesk view tracks|poses --screenshot`` through the real entry point (a subprocess), on the
bundled samples: headless rendering under Xvfb, without any display, and with broken inputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.ui.application import create_application
from tests.infra.viewers import POSE_SAMPLE, REPO, SPARSE4D_SAMPLE, lit_pixels, sample_infos

needs_x_server = pytest.mark.skipif(
    not os.environ.get("DISPLAY"), reason="needs an X server (Xvfb) in DISPLAY"
)


def taodesk(*args: str, display: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``python -m app`` on the X server (``display``) or with no display at all."""
    env = dict(os.environ)
    if display:
        env["QT_QPA_PLATFORM"] = "xcb"
    else:
        env.pop("DISPLAY", None)
        env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=180, cwd=REPO, env=env
    )


def _image(path: Path) -> np.ndarray:
    """The PNG's pixels as an (h, w, 3) array (copied out of the QImage)."""
    create_application()
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), f"{path} is not an image"
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


@needs_x_server
@pytest.mark.gl
def test_tracks_screenshot_under_the_x_server(tmp_path: Path, screenshot_dir: Path) -> None:
    shot = tmp_path / "tracks.png"
    result = taodesk(
        "view", "tracks", str(SPARSE4D_SAMPLE / "results_nusc.json"), "--infos", str(sample_infos()),
        "--frame", "29", "--select", "105", "--size", "1400x900", "--screenshot", str(shot),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "note: 3D view unavailable" not in result.stderr
    pixels = _image(shot)
    assert pixels.shape == (900, 1400, 3)
    assert lit_pixels(pixels[100:500, 500:1000]) > 2000  # the 3D view drew boxes and the grid
    shutil.copy(shot, screenshot_dir / "cli_view_tracks.png")


@needs_x_server
def test_poses_screenshot_under_the_x_server(tmp_path: Path, screenshot_dir: Path) -> None:
    shot = tmp_path / "poses.png"
    result = taodesk(
        "view", "poses", str(POSE_SAMPLE / "test_data.npy"), "--pred", str(POSE_SAMPLE / "results.txt"),
        "--labels", str(POSE_SAMPLE / "test_label.pkl"), "--label-map", str(POSE_SAMPLE / "label_map.yaml"),
        "--layout", "nvidia", "--sequence", "7", "--screenshot", str(shot),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _image(shot).shape == (950, 1500, 3)
    shutil.copy(shot, screenshot_dir / "cli_view_poses.png")


def test_without_any_display_the_3d_view_is_replaced_by_a_notice(tmp_path: Path) -> None:
    shot = tmp_path / "tracks.png"
    result = taodesk(
        "view", "tracks", str(SPARSE4D_SAMPLE / "results_nusc.json"), "--infos", str(sample_infos()),
        "--screenshot", str(shot), display=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "note: 3D view unavailable" in result.stderr and "offscreen" in result.stderr
    assert _image(shot).shape == (950, 1500, 3)


@needs_x_server
def test_malformed_results_give_exit_1_a_message_and_a_screenshot_of_it(tmp_path: Path) -> None:
    bad = tmp_path / "results_nusc.json"
    bad.write_text('{"results": [1, 2', encoding="utf-8")
    shot = tmp_path / "bad.png"
    result = taodesk("view", "tracks", str(bad), "--screenshot", str(shot))
    assert result.returncode == 1
    assert "results_nusc.json: not valid JSON at line 1" in result.stderr
    assert shot.is_file()


def test_missing_files_and_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    result = taodesk("view", "tracks", str(tmp_path / "nope.json"), display=False)
    assert result.returncode == 2 and "results file" in result.stderr and "nope.json" in result.stderr
    result = taodesk("view", "poses", str(POSE_SAMPLE / "test_data.npy"), display=False)
    assert result.returncode == 2 and "--pred" in result.stderr
    result = taodesk(
        "view", "tracks", str(SPARSE4D_SAMPLE / "results_nusc.json"), "--select", "99999",
        "--screenshot", str(tmp_path / "x.png"), display=False,
    )  # fmt: skip
    assert result.returncode == 2 and "99999" in result.stderr


def test_layout_mismatch_is_reported_and_the_statistics_still_shown(tmp_path: Path) -> None:
    shot = tmp_path / "poses.png"
    result = taodesk(
        "view", "poses", str(POSE_SAMPLE / "test_data.npy"), "--pred", str(POSE_SAMPLE / "results.txt"),
        "--labels", str(POSE_SAMPLE / "test_label.pkl"), "--layout", "coco", "--screenshot", str(shot),
        display=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Layout mismatch" in result.stderr and "V=34" in result.stderr and "'coco' has 17" in result.stderr
    assert shot.is_file()
