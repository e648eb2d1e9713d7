"""Skeleton arrays (N, C, T, V, M) and label pickles, and the features the classifier learns from."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError

FEATURE_CHUNK = 64


@dataclass
class SkeletonSet:
    """Sequences of one split with their labels (labels may be empty at inference)."""

    data: np.ndarray
    sample_names: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.data.shape[0])


def load_split(data_path: str | None, label_path: str | None, section: str) -> SkeletonSet:
    """Load `<section>.data_path` (memory-mapped) and, if given, `<section>.label_path`."""
    if not data_path:
        raise ConfigError(f"Missing mandatory value: {section}.data_path")
    path = Path(data_path)
    if not path.is_file():
        raise FileNotFoundError(f"{section}.data_path {path} does not exist")
    data = np.load(path, mmap_mode="r")
    if data.ndim != 5:
        raise ValueError(f"{path} has shape {data.shape}; expected (N, C, T, V, M)")
    names: list[str] = []
    labels = np.zeros(0, dtype=np.int64)
    if label_path:
        names, labels = _load_labels(Path(label_path), section)
        if len(labels) != data.shape[0]:
            raise ValueError(
                f"{label_path} has {len(labels)} labels but {path} has {data.shape[0]} sequences"
            )
    return SkeletonSet(data, names, labels)


def _load_labels(path: Path, section: str) -> tuple[list[str], np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"{section}.label_path {path} does not exist")
    with open(path, "rb") as stream:
        content: Any = pickle.load(stream)
    if not (isinstance(content, tuple | list) and len(content) == 2):
        raise ValueError(f"{path} must hold a (sample_names, labels) tuple")
    names, labels = content
    return [str(name) for name in names], np.asarray(labels, dtype=np.int64)


def check_labels(labels: np.ndarray, names: list[str], num_classes: int, source: str) -> None:
    """Every label must be in [0, num_classes)."""
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        index = int(bad[0])
        name = names[index] if index < len(names) else str(index)
        raise ValueError(
            f"Label {int(labels[index])} of sample '{name}' in {source} is out of range for "
            f"dataset.num_classes={num_classes} (labels must be in [0, {num_classes}))"
        )


def check_batch(size: int, batch_size: int, devices: int, task: str) -> None:
    """TAO's guard: a stage needs at least one full batch per device."""
    total = batch_size * devices
    if size < total:
        raise ValueError(
            f"Dataset size ({size}) is smaller than the total batch size ({total}). "
            f"Not enough data for {task}."
        )


def extract_features(data: np.ndarray) -> np.ndarray:
    """Per joint and channel: mean, standard deviation and mean absolute motion over the valid frames.

    Persons (M) are averaged first, as the model does; frames that are all zero (padding) are skipped.
    """
    count = data.shape[0]
    _, channels, _, joints, _ = data.shape
    features = np.empty((count, 3 * channels * joints), dtype=np.float32)
    for start in range(0, count, FEATURE_CHUNK):
        chunk = np.asarray(data[start : start + FEATURE_CHUNK], dtype=np.float32).mean(axis=4)
        for offset, sequence in enumerate(chunk):
            valid = np.any(sequence != 0, axis=(0, 2))
            frames = sequence[:, valid, :] if valid.sum() >= 2 else sequence
            motion = np.abs(np.diff(frames, axis=1)).mean(axis=1)
            features[start + offset] = np.concatenate(
                [frames.mean(axis=1).ravel(), frames.std(axis=1).ravel(), motion.ravel()]
            )
    return features


def class_names(label_map: Any, num_classes: int) -> list[str]:
    """Class names by index from `dataset.label_map` (name -> index)."""
    if not isinstance(label_map, dict) or not label_map:
        raise ConfigError("dataset.label_map must map class names to indices, e.g. {walking: 0, ...}")
    names = [f"class_{index}" for index in range(num_classes)]
    for name, index in label_map.items():
        if not isinstance(index, int) or not 0 <= index < num_classes:
            raise ConfigError(f"dataset.label_map['{name}'] = {index!r} is not in [0, {num_classes})")
        names[index] = str(name)
    return names
