"""Fixtures for job tests: the stand-in image, a local host, a manager on the real bundled bank."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.hosts.settings import HostConfig, HostStore
from app.core.jobs.manager import JobManager
from app.core.jobs.store import JobStore
from app.core.skills import load_banks
from tests.standin.make_pose_data import PoseDataset, make_pose_dataset

STANDIN_IMAGE = "taodesk-standin:latest"
SKILLS = ("tao-train-pose-classification", "tao-train-sparse4d")
REPO = Path(__file__).resolve().parents[2]


def standin_available() -> bool:
    """True when a Docker engine answers and the stand-in image is built."""
    try:
        result = subprocess.run(
            ["docker", "image", "inspect", STANDIN_IMAGE], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


needs_standin = pytest.mark.skipif(
    not standin_available(), reason="Docker engine or stand-in image not available"
)


def local_host(workspace: Path, name: str = "local") -> HostConfig:
    """The local engine with the stand-in image for both skills."""
    workspace.mkdir(parents=True, exist_ok=True)
    return HostConfig(
        name=name,
        kind="local",
        workspace=str(workspace),
        shm_size="256m",
        default_images={skill: STANDIN_IMAGE for skill in SKILLS},
        extra_env={"TAODESK_STANDIN_EPOCH_SECONDS": "0"},
    )


def ssh_manager(config: HostConfig) -> JobManager:
    """A job manager on its own job store whose only host is ``config`` (an SSH host), stand-in images."""
    config.default_images = {skill: STANDIN_IMAGE for skill in SKILLS}
    config.shm_size = "256m"
    hosts = HostStore()
    hosts.put(config)
    return JobManager(JobStore(), load_banks([REPO / "skills"]), hosts)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    """A job manager with a local host named 'local' whose workspace is in the test's folder."""
    hosts = HostStore()
    hosts.put(local_host(tmp_path / "workspace"))
    store = JobStore()
    jobs = JobManager(store, load_banks([REPO / "skills"]), hosts)
    yield jobs
    delete_all_jobs(jobs)
    store.close()


def delete_all_jobs(jobs: JobManager | None = None) -> None:
    """Delete every stored job with its container and files, then close the manager (by default one of
    its own on the user's job store and hosts: what a GUI test launched through the window)."""
    if jobs is None:
        store = JobStore()
        delete_all_jobs(JobManager(store, load_banks([REPO / "skills"]), HostStore()))
        store.close()
        return
    for job in jobs.store.all():
        with contextlib.suppress(Exception):
            jobs.delete(job.id)
    jobs.close()


@pytest.fixture
def pose_data(tmp_path: Path) -> PoseDataset:
    """A small learnable pose dataset (4 classes) in TAO's formats."""
    return make_pose_dataset(tmp_path / "data" / "pose", 64, 24, 24, 4, frames=60, seed=3)


def pose_overrides(data: PoseDataset, epochs: int = 4) -> list[str]:
    """Spec overrides pointing a pose spec at a generated dataset."""
    label_map = "{" + ", ".join(f"{k}: {v}" for k, v in data.label_map.items()) + "}"
    return [
        f"train.num_epochs={epochs}",
        "train.checkpoint_interval=1",
        "dataset.batch_size=8",
        f"dataset.num_classes={len(data.label_map)}",
        f"dataset.label_map={label_map}",
        f"dataset.train_dataset.data_path={data.data_path('train')}",
        f"dataset.train_dataset.label_path={data.label_path('train')}",
        f"dataset.val_dataset.data_path={data.data_path('val')}",
        f"dataset.val_dataset.label_path={data.label_path('val')}",
        f"evaluate.test_dataset.data_path={data.data_path('test')}",
        f"evaluate.test_dataset.label_path={data.label_path('test')}",
        f"inference.test_dataset.data_path={data.data_path('test')}",
        "wandb.enable=false",
    ]
