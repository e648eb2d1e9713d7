"""Generated data for preflight tests: pose datasets, converted Sparse4D scenes, broken and hostile files."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from app.core.datasets.registry import Dataset
from app.core.jobs.model import Job
from tests.standin.make_pose_data import PoseDataset, make_pose_dataset
from tests.standin.make_scenes import AICityRoot, make_aicity_root

REPO = Path(__file__).resolve().parents[2]
POSE = "tao-train-pose-classification"
SPARSE4D = "tao-train-sparse4d"
POSE_CLASSES = 4


def small_pose_dataset(folder: Path, train: int = 40, val: int = 16, test: int = 16) -> PoseDataset:
    """Three splits of 30-frame NVIDIA-layout skeletons, 4 classes."""
    return make_pose_dataset(folder, train, val, test, POSE_CLASSES, frames=30, seed=5)


def pose_spec_overrides(data: PoseDataset, batch_size: int = 8) -> list[str]:
    """Overrides that make a pose spec consistent with `small_pose_dataset` (paths come from datasets)."""
    label_map = "{" + ", ".join(f"{k}: {v}" for k, v in data.label_map.items()) + "}"
    return [
        f"dataset.batch_size={batch_size}",
        f"dataset.num_classes={len(data.label_map)}",
        f"dataset.label_map={label_map}",
    ]


def train_dataset(path: Path, host: str = "local", name: str = "pose-train") -> Dataset:
    """A registered train dataset at ``path``."""
    return Dataset(name, host, "train", str(path))


def write_convert_spec(path: Path, root: Path, results: Path, split: str, num_anchor: int = 16) -> Path:
    """A Sparse4D dataset_convert spec for the stand-in converter."""
    spec = {
        "data": {"input_format": "AICITY", "output_format": "OVPKL"},
        "aicity": {
            "root": str(root),
            "version": "2025",
            "split": split,
            "camera_grouping_mode": "random",
            "depth_format": "h5",
            "rgb_format": "mp4",
            "num_frames": -1,
            "anchor_init_config": {
                "num_anchor": num_anchor,
                "output_file_name": "anchor_init.npy",
                "detection_range": -1,
                "sample_ratio": -1,
            },
        },
        "results_dir": str(results),
    }
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def run_standin_convert(spec_file: Path) -> None:
    """Run the stand-in image's `annotations convert` code in a child process (same code as the image)."""
    code = (
        "import sys; from tests.standin.tao_standin.entrypoint import annotations; "
        "sys.exit(annotations(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "convert", "-e", str(spec_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stand-in convert failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


@dataclass
class ConvertedScenes:
    """A generated AICity root and a finished convert job whose results folder holds the infos."""

    scenes: AICityRoot
    job: Job

    @property
    def results(self) -> Path:
        """The convert job's results folder."""
        return Path(self.job.results_dir)

    def pickles(self, split: str) -> list[Path]:
        """The infos pickles of one split."""
        return sorted((self.results / split).glob("*.pkl"))


def converted_scenes(
    folder: Path,
    splits: tuple[str, ...] = ("train", "val"),
    hide_depth_maps: bool = False,
    job_id: str = "20260101-000000-dataset-convert-0000",
) -> ConvertedScenes:
    """Generate scenes and convert them; ``hide_depth_maps`` converts while depth_maps/ is away (the
    converter then records camera-folder depth references) and puts the folders back afterwards."""
    scenes = make_aicity_root(folder / "aicity", scenes=2, cameras=3, frames=8, splits=splits, seed=1)
    job_dir = folder / job_id
    results = job_dir / "results"
    results.mkdir(parents=True)
    moved: list[tuple[Path, Path]] = []
    if hide_depth_maps:
        for depth in sorted(scenes.root.glob("*/*/depth_maps")):
            away = depth.with_name("depth_maps_away")
            depth.rename(away)
            moved.append((away, depth))
    spec_file = write_convert_spec(job_dir / "spec.yaml", scenes.root, results, ",".join(splits))
    try:
        run_standin_convert(spec_file)
    finally:
        for away, depth in moved:
            away.rename(depth)
    job = Job(
        id=job_id,
        skill=SPARSE4D,
        action="dataset_convert",
        host="local",
        spec_yaml=spec_file.read_text(encoding="utf-8"),
        job_dir=str(job_dir),
    )
    return ConvertedScenes(scenes, job)


def sparse4d_overrides(num_anchor: int = 16) -> list[str]:
    """Overrides that make a Sparse4D train spec consistent with `converted_scenes`."""
    return [
        f"model.head.instance_bank.num_anchor={num_anchor}",
        "dataset.classes=[Person, Transporter]",
        "dataset.batch_size=2",
        "dataset.sequences.split_num=4",
    ]


class _Payload:
    """Pickles as a call of ``os.system`` (what a hostile label file would do)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, (self.command,)


def hostile_pickle(path: Path, marker: Path) -> Path:
    """A pickle that, loaded with the standard loader, would create ``marker``."""
    path.write_bytes(pickle.dumps(([_Payload(f"touch {marker}")], [0]), protocol=4))
    return path


def rewrite_npy(path: Path, array: np.ndarray) -> None:
    """Replace a .npy file's content."""
    np.save(path, array)


def copy_tree(source: Path, target: Path) -> Path:
    """A copy of a generated dataset (to break without touching the original)."""
    shutil.copytree(source, target)
    return target


def clone_converted(converted: ConvertedScenes, folder: Path) -> ConvertedScenes:
    """A copy of generated scenes and their convert job in ``folder`` (to break, leaving the original)."""
    source = converted.scenes.root.parent
    shutil.copytree(source, folder)
    old, new = str(source), str(folder)
    job = Job(
        id=converted.job.id,
        skill=SPARSE4D,
        action="dataset_convert",
        host=converted.job.host,
        spec_yaml=converted.job.spec_yaml.replace(old, new),
        job_dir=converted.job.job_dir.replace(old, new),
    )
    scenes = AICityRoot(
        Path(str(converted.scenes.root).replace(old, new)),
        converted.scenes.splits,
        converted.scenes.scenes,
        converted.scenes.cameras,
        converted.scenes.frames,
    )
    return ConvertedScenes(scenes, job)
