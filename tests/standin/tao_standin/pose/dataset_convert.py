"""`pose_classification dataset_convert`: DeepStream BodyPose JSON -> one `object_<id>.npy` per object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..config import require
from ..runtime import TaskContext


def dataset_convert(context: TaskContext) -> None:
    """Group poses by object, normalise them by pose_type and cut them into overlapping windows."""
    source = Path(str(require(context.cfg, "dataset_convert.data")))
    if not source.is_file():
        raise FileNotFoundError(f"dataset_convert.data {source} does not exist")
    settings = _Settings.from_context(context)
    with open(source, encoding="utf-8") as stream:
        frames = json.load(stream)
    if not isinstance(frames, list):
        raise ValueError(f"{source} must hold a list of frame batches")
    poses = _poses_by_object(frames, settings)
    for object_id, sequence in poses.items():
        windows = _windows(np.stack(sequence, axis=1), settings)
        if not windows:
            print(f"Skipped object {object_id}: fewer than {settings.length_min} frames")
            continue
        array = np.concatenate(windows, axis=0)
        path = context.results_dir / f"object_{object_id}.npy"
        np.save(path, array)
        context.status.write(f"Saved data {array.shape} for object {object_id} to {path}")
        print(f"Saved data {array.shape} for object {object_id} to {path}")
    context.status.write("Dataset conversion finished.", kpi={"Number of objects": len(poses)})


class _Settings:
    def __init__(self, context: TaskContext) -> None:
        self.pose_type = str(context.get("dataset_convert.pose_type", "3dbp"))
        self.num_joints = int(context.get("dataset_convert.num_joints", 34))
        self.width = float(context.get("dataset_convert.input_width", 1920))
        self.height = float(context.get("dataset_convert.input_height", 1080))
        self.focal_length = float(context.get("dataset_convert.focal_length", 1200.0))
        self.length_max = int(context.get("dataset_convert.sequence_length_max", 300))
        self.length_min = int(context.get("dataset_convert.sequence_length_min", 10))
        self.length = int(context.get("dataset_convert.sequence_length", 100))
        self.overlap = float(context.get("dataset_convert.sequence_overlap", 0.5))
        if self.pose_type not in ("3dbp", "25dbp", "2dbp"):
            raise NotImplementedError(f"Pose type {self.pose_type} is not supported (3dbp, 25dbp, 2dbp)")

    @classmethod
    def from_context(cls, context: TaskContext) -> _Settings:
        return cls(context)

    @property
    def channels(self) -> int:
        return 2 if self.pose_type == "2dbp" else 3


def _poses_by_object(frames: list[Any], settings: _Settings) -> dict[int, list[np.ndarray]]:
    poses: dict[int, list[np.ndarray]] = {}
    for batch in frames:
        assert batch["num_frames_in_batch"] == len(batch["batches"]), (
            "num_frames_in_batch does not match the number of batches"
        )
        for frame in batch["batches"]:
            for item in frame.get("objects", []):
                key = "pose3d" if settings.pose_type == "3dbp" else "pose25d"
                if key not in item:
                    raise KeyError(
                        f"object {item.get('object_id')} in frame {frame.get('frame_num')} has no {key}"
                    )
                pose = np.asarray(item[key], dtype=np.float64)
                assert settings.num_joints == len(pose) // 4, (
                    f"num_joints {settings.num_joints} does not match the pose length {len(pose) // 4}"
                )
                poses.setdefault(int(item["object_id"]), []).append(_normalise(pose.reshape(-1, 4), settings))
    return poses


def _normalise(pose: np.ndarray, settings: _Settings) -> np.ndarray:
    """(C, V) for one frame; joints with zero confidence become zeros."""
    if settings.pose_type == "3dbp":
        values = (pose[:, :3] - pose[0, :3]) / settings.focal_length
    else:
        values = np.stack(
            [pose[:, 0] / settings.width - 0.5, pose[:, 1] / settings.height - 0.5, pose[:, 2]], axis=1
        )[:, : settings.channels]
    values[pose[:, 3] == 0] = 0.0
    return np.asarray(values.T, dtype=np.float32)


def _windows(sequence: np.ndarray, settings: _Settings) -> list[np.ndarray]:
    """Windows of sequence_length frames, stepping by length x overlap, each padded to length_max."""
    frames = sequence.shape[1]
    step = max(1, int(settings.length * settings.overlap))
    windows = []
    for start in range(0, frames, step):
        chunk = sequence[:, start : start + settings.length]
        if chunk.shape[1] < settings.length_min:
            break
        window = np.zeros(
            (1, settings.channels, settings.length_max, settings.num_joints, 1), dtype=np.float32
        )
        window[0, :, : chunk.shape[1], :, 0] = chunk
        windows.append(window)
        if start + settings.length >= frames:
            break
    return windows
