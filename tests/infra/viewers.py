"""Shared pieces of the results-viewer tests: waiting for background reads, bad inputs, jobs with results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import yaml
from pytestqt.qtbot import QtBot

from app.core.hosts.local import LocalHostSession
from app.core.hosts.settings import HostConfig
from app.core.jobs.model import Job, JobStatus
from app.ui.application import create_application
from app.ui.viewers.bundle_viewer import BundleViewer
from app.ui.viewers.open_results import open_job_results
from app.ui.viewers.tracks_viewer import TracksViewer

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "samples"
SPARSE4D_SAMPLE = SAMPLES / "sparse4d"
POSE_SAMPLE = SAMPLES / "pose"
LONG = 20_000


def sample_infos() -> Path:
    """The converted infos pickle of the Sparse4D sample."""
    (path,) = sorted(SPARSE4D_SAMPLE.glob("*_infos_*.pkl"))
    return path


def wait_until_settled(qtbot: QtBot, viewer: BundleViewer, timeout: int = LONG) -> None:
    """Wait until the viewer's reads, matching and camera images are done, then draw."""

    def settled() -> bool:
        if viewer.loading or viewer.tasks.busy:
            return False
        if isinstance(viewer, TracksViewer) and (
            viewer.match_timer.isActive() or viewer.redraw_timer.isActive()
        ):
            return False
        return not isinstance(viewer, TracksViewer) or not viewer.cameras.images_pending

    qtbot.waitUntil(settled, timeout=timeout)
    if isinstance(viewer, TracksViewer):
        viewer.redraw_now()
        qtbot.waitUntil(lambda: not viewer.cameras.images_pending, timeout=timeout)


def open_local_job_results(qtbot: QtBot, job: Job, workspace: Path) -> BundleViewer:
    """A job's results opened from a local host, as the Results page opens them, once read and shown."""
    create_application()
    session = LocalHostSession(HostConfig(name="here", kind="local", workspace=str(workspace)))
    viewer = open_job_results(job, session)
    qtbot.addWidget(viewer)
    assert isinstance(viewer, BundleViewer), f"no results viewer for {job.skill}"
    wait_until_settled(qtbot, viewer)
    return viewer


def write_results(path: Path, results: object) -> Path:
    """A results_nusc.json with the given ``results`` value."""
    path.write_text(json.dumps({"meta": {"use_camera": True}, "results": results}), encoding="utf-8")
    return path


def sample_results_document() -> dict:
    """The Sparse4D sample's results document."""
    document: dict = json.loads((SPARSE4D_SAMPLE / "results_nusc.json").read_text(encoding="utf-8"))
    return document


def sparse4d_job(root: Path, prefix: str = "sparse4d_pred", copy_results: bool = True) -> Job:
    """An inference job whose folder holds the sample's outputs where TAO writes them."""
    job_dir = root / "job-s4d"
    results_dir = job_dir / "results"
    spec = {
        "results_dir": str(results_dir),
        "dataset": {"data_root": str(SPARSE4D_SAMPLE), "test_dataset": {"ann_file": str(sample_infos())}},
        "inference": {"jsonfile_prefix": prefix},
        "visualize": {"vis_score_threshold": 0.4},
    }
    if copy_results:
        target = results_dir / prefix / "img_bbox"
        target.mkdir(parents=True)
        shutil.copy(SPARSE4D_SAMPLE / "results_nusc.json", target)
        shutil.copy(SPARSE4D_SAMPLE / "metrics_summary.json", target)
    return Job(
        id="20260101-120000-inference-s4d0", skill="tao-train-sparse4d", action="inference", host="here",
        spec_yaml=yaml.safe_dump(spec), job_dir=str(job_dir), status=JobStatus.COMPLETED,
    )  # fmt: skip


def pose_job(root: Path) -> Job:
    """A pose inference job whose folder holds the sample's inference output."""
    job_dir = root / "job-pose"
    results_dir = job_dir / "results"
    (results_dir / "inference").mkdir(parents=True)
    shutil.copy(POSE_SAMPLE / "results.txt", results_dir / "inference" / "results.txt")
    label_map = yaml.safe_load((POSE_SAMPLE / "label_map.yaml").read_text(encoding="utf-8"))
    spec = {
        "results_dir": str(results_dir),
        "model": {"graph_layout": "nvidia"},
        "dataset": {"label_map": label_map},
        "inference": {
            "output_file": str(results_dir / "inference" / "results.txt"),
            "test_dataset": {
                "data_path": str(POSE_SAMPLE / "test_data.npy"),
                "label_path": str(POSE_SAMPLE / "test_label.pkl"),
            },
        },
    }
    return Job(
        id="20260101-120000-inference-pose", skill="tao-train-pose-classification", action="inference",
        host="here", spec_yaml=yaml.safe_dump(spec), job_dir=str(job_dir), status=JobStatus.COMPLETED,
    )  # fmt: skip


def lit_pixels(image: np.ndarray, background: tuple[int, int, int] = (0x1E, 0x23, 0x29)) -> int:
    """How many pixels of an (h, w, >=3) image differ clearly from the scene background."""
    difference = np.abs(image[..., :3].astype(int) - np.array(background)).sum(axis=-1)
    return int((difference > 40).sum())
