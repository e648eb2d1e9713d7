"""Pose classification results: skeleton arrays, predicted classes, true labels, and their statistics.

TAO formats (TAO_FACTS 1.4, 1.6): the data ``.npy`` is float32 ``(N, C, T, V, M)``; the label
``.pkl`` is a pickled ``(sample_names, labels)``; the inference output is a text file with one
predicted class name per line, in input order; ``dataset.label_map`` maps class names to indices.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import yaml

from app.core.datasets.safe_pickle import PickleLoadError, load_pickle
from app.core.results.layouts import SkeletonLayout

PathLike = str | os.PathLike[str]


class PoseResultsError(ValueError):
    """Pose results cannot be read or do not fit together; the message names the file."""


@dataclass(frozen=True)
class PoseLabels:
    """The label pickle: one sample name and one class index per sequence."""

    sample_names: list[str]
    labels: np.ndarray


def load_pose_data(path: PathLike) -> np.ndarray:
    """Memory-map a pose ``.npy`` (N, C, T, V, M) and check its shape and dtype."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise PoseResultsError(f"{path}: not a readable numpy .npy file ({exc})") from exc
    return validate_pose_array(array, str(path))


def validate_pose_array(array: np.ndarray, source_name: str) -> np.ndarray:
    """Check that ``array`` is a floating (N, C, T, V, M) array; returns it unchanged."""
    if not isinstance(array, np.ndarray):
        raise PoseResultsError(f"{source_name}: expected a numpy array, got {type(array).__name__}")
    if array.ndim != 5:
        raise PoseResultsError(
            f"{source_name}: expected 5 dimensions (N, C, T, V, M), got {array.ndim} with shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise PoseResultsError(
            f"{source_name}: expected float32 skeleton coordinates, got dtype {array.dtype}"
        )
    return array


def read_inference_output(path: PathLike) -> list[str]:
    """Read TAO's inference output file: one predicted class name per line."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise PoseResultsError(f"{path}: cannot read the inference output ({exc.strerror or exc})") from exc
    return parse_inference_output(text)


def parse_inference_output(text: str) -> list[str]:
    """Class names from the text of an inference output (trailing blank lines ignored)."""
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def load_labels(source: PathLike | bytes | BinaryIO, source_name: str | None = None) -> PoseLabels:
    """Read a label pickle ``(sample_names, labels)`` with the restricted unpickler."""
    if source_name is not None:
        name = source_name
    elif isinstance(source, str | os.PathLike):
        name = str(source)
    else:
        name = str(getattr(source, "name", "labels"))
    try:
        loaded = load_pickle(source, name)
    except PickleLoadError as exc:
        raise PoseResultsError(str(exc)) from exc
    if not isinstance(loaded, tuple | list) or len(loaded) != 2:
        raise PoseResultsError(
            f"{name}: expected a pickled (sample_names, labels) pair, got {type(loaded).__name__}"
        )
    names, labels = loaded
    if isinstance(names, np.ndarray):
        names = names.tolist()
    if not isinstance(names, list | tuple):
        raise PoseResultsError(f"{name}: sample names should be a list, got {type(names).__name__}")
    try:
        label_array = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise PoseResultsError(f"{name}: labels are not a list of class indices ({exc})") from exc
    if label_array.ndim != 1 or not (np.issubdtype(label_array.dtype, np.integer) or label_array.size == 0):
        raise PoseResultsError(f"{name}: labels should be a flat list of integers, got {label_array.dtype}")
    if len(names) != len(label_array):
        raise PoseResultsError(f"{name}: {len(names)} sample names but {len(label_array)} labels")
    return PoseLabels([str(sample) for sample in names], label_array.astype(np.int64))


def load_label_map(path: PathLike) -> dict[str, int]:
    """Read a label map from YAML: a ``name: index`` mapping, under ``label_map:``, or a whole spec."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PoseResultsError(f"{path}: cannot read the label map ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise PoseResultsError(f"{path}: invalid YAML{where}") from exc
    if isinstance(document, dict) and isinstance(document.get("dataset"), dict):
        document = document["dataset"]
    if isinstance(document, dict) and "label_map" in document:
        document = document["label_map"]
    return _checked_label_map(document, str(path))


def class_names_from_label_map(label_map: Mapping[str, int] | PathLike) -> list[str]:
    """Class names ordered by their index (index i -> ``names[i]``)."""
    if isinstance(label_map, Mapping):
        mapping = _checked_label_map(label_map, "label_map")
    else:
        mapping = load_label_map(label_map)
    return [name for name, _ in sorted(mapping.items(), key=lambda item: item[1])]


def _checked_label_map(document: Any, source_name: str) -> dict[str, int]:
    if not isinstance(document, Mapping) or not document:
        raise PoseResultsError(f"{source_name}: expected a mapping of class name to index, e.g. 'walking: 4'")
    mapping: dict[str, int] = {}
    for name, index in document.items():
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise PoseResultsError(
                f"{source_name}: label_map.{name} should be an integer index, got {index!r}"
            )
        mapping[str(name)] = int(index)
    if sorted(mapping.values()) != list(range(len(mapping))):
        raise PoseResultsError(
            f"{source_name}: label_map indices should be 0..{len(mapping) - 1} with no gaps or repeats, "
            f"got {sorted(mapping.values())}"
        )
    return mapping


@dataclass
class PoseResults:
    """Predictions (and, if known, true labels) for N sequences, with confusion statistics.

    Class indices are positions in ``class_names``; -1 marks a name or label outside the label map.
    """

    class_names: list[str]
    predicted_labels: np.ndarray
    true_labels: np.ndarray | None = None
    sample_names: list[str] = field(default_factory=list)
    data: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def num_sequences(self) -> int:
        """How many sequences there are."""
        return len(self.predicted_labels)

    @property
    def num_classes(self) -> int:
        """How many classes the label map has."""
        return len(self.class_names)

    def confusion_matrix(self, normalize: bool = False) -> np.ndarray:
        """(K, K) matrix, rows = true class, columns = predicted class; counts, or row fractions."""
        true = self._require_true_labels()
        k = self.num_classes
        valid = (true >= 0) & (self.predicted_labels >= 0)
        flat = true[valid] * k + self.predicted_labels[valid]
        counts = np.bincount(flat, minlength=k * k).reshape(k, k)
        if not normalize:
            return counts
        row_sums = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, row_sums, out=np.zeros((k, k), dtype=np.float64), where=row_sums > 0)

    def correct_mask(self) -> np.ndarray:
        """Boolean per sequence: the prediction equals the true label."""
        true = self._require_true_labels()
        return (true >= 0) & (true == self.predicted_labels)

    def top1_accuracy(self) -> float:
        """Fraction of labelled sequences predicted correctly (NaN when none are labelled)."""
        true = self._require_true_labels()
        labelled = true >= 0
        total = int(labelled.sum())
        return float(self.correct_mask().sum() / total) if total else float("nan")

    def per_class_accuracy(self) -> np.ndarray:
        """Recall per true class (NaN for a class without sequences); unknown predictions count wrong."""
        true = self._require_true_labels()
        k = self.num_classes
        labelled = true >= 0
        totals = np.bincount(true[labelled], minlength=k)
        hits = np.bincount(true[self.correct_mask()], minlength=k)
        return np.divide(hits, totals, out=np.full(k, np.nan), where=totals > 0)

    def mean_class_accuracy(self) -> float:
        """Mean per-class accuracy over classes that have sequences (TAO's 'Average class accuracy')."""
        per_class = self.per_class_accuracy()
        present = ~np.isnan(per_class)
        return float(per_class[present].mean()) if present.any() else float("nan")

    def filter_indices(
        self,
        true_class: int | str | None = None,
        predicted_class: int | str | None = None,
        correct: bool | None = None,
    ) -> np.ndarray:
        """Indices of the sequences matching every given condition, in input order."""
        keep = np.ones(self.num_sequences, dtype=bool)
        if true_class is not None:
            keep &= self._require_true_labels() == self.class_index(true_class)
        if predicted_class is not None:
            keep &= self.predicted_labels == self.class_index(predicted_class)
        if correct is not None:
            keep &= self.correct_mask() if correct else ~self.correct_mask()
        return np.flatnonzero(keep)

    def class_index(self, value: int | str) -> int:
        """The index of a class given by name or index; ValueError naming the known classes otherwise."""
        if isinstance(value, str):
            if value in self.class_names:
                return self.class_names.index(value)
        elif 0 <= int(value) < self.num_classes:
            return int(value)
        raise ValueError(f"unknown class {value!r}; classes are {', '.join(self.class_names)}")

    def sequence(self, index: int) -> np.ndarray:
        """The (C, T, V, M) skeleton array of one sequence (read from the memory map)."""
        if self.data is None:
            raise ValueError("no skeleton data was loaded with these results")
        return np.asarray(self.data[index])

    def frames_used(self, index: int) -> int:
        """Number of frames up to the last non-zero one (TAO zero-pads short sequences at the end)."""
        nonzero = np.flatnonzero(np.any(self.sequence(index) != 0, axis=(0, 2, 3)))
        return int(nonzero[-1]) + 1 if nonzero.size else 0

    def check_layout(self, layout: SkeletonLayout) -> None:
        """Raise PoseResultsError when the data's joint count V differs from ``layout``."""
        if self.data is None:
            return
        joints = self.data.shape[3]
        if joints != layout.num_joints:
            raise PoseResultsError(
                f"the skeleton data has V={joints} joints per frame, but layout '{layout.name}' has "
                f"{layout.num_joints}; choose the graph_layout the data was made for"
            )

    def _require_true_labels(self) -> np.ndarray:
        if self.true_labels is None:
            raise ValueError("no true labels were loaded: open the label .pkl to compare against predictions")
        return self.true_labels


def build_pose_results(
    class_names: Sequence[str],
    predicted_names: Sequence[str],
    labels: PoseLabels | None = None,
    data: np.ndarray | None = None,
    predictions_source: str = "inference output",
    labels_source: str = "labels",
    data_source: str = "data",
) -> PoseResults:
    """Combine predictions, optional labels and optional skeleton data after checking they line up."""
    names = list(class_names)
    count = len(predicted_names)
    if data is not None and data.shape[0] != count:
        raise PoseResultsError(
            f"{predictions_source} has {count} lines but {data_source} has {data.shape[0]} sequences"
        )
    if labels is not None and len(labels.labels) != count:
        raise PoseResultsError(
            f"{predictions_source} has {count} lines but {labels_source} has {len(labels.labels)} labels"
        )
    warnings: list[str] = []
    lookup = {name: index for index, name in enumerate(names)}
    predicted = np.fromiter((lookup.get(name, -1) for name in predicted_names), dtype=np.int64, count=count)
    unknown = sorted({name for name in predicted_names if name not in lookup})
    if unknown:
        warnings.append(
            f"{predictions_source}: {int((predicted < 0).sum())} predictions name classes outside the "
            f"label map ({', '.join(unknown[:5])}); they count as wrong"
        )
    true = None
    if labels is not None:
        true = labels.labels.copy()
        outside = (true < 0) | (true >= len(names))
        if outside.any():
            warnings.append(
                f"{labels_source}: {int(outside.sum())} labels are outside 0..{len(names) - 1}; "
                "those sequences are left out of the statistics"
            )
            true[outside] = -1
    sample_names = labels.sample_names if labels is not None else [f"sequence {i}" for i in range(count)]
    return PoseResults(names, predicted, true, list(sample_names), data, warnings)


def load_pose_results(
    inference_output: PathLike,
    label_map: Mapping[str, int] | PathLike,
    labels_path: PathLike | None = None,
    data_path: PathLike | None = None,
    layout: SkeletonLayout | None = None,
) -> PoseResults:
    """Read TAO pose outputs from files and combine them; checks the joint count against ``layout``."""
    class_names = class_names_from_label_map(label_map)
    predicted = read_inference_output(inference_output)
    labels = load_labels(labels_path) if labels_path is not None else None
    data = load_pose_data(data_path) if data_path is not None else None
    results = build_pose_results(
        class_names,
        predicted,
        labels,
        data,
        predictions_source=str(inference_output),
        labels_source=str(labels_path),
        data_source=str(data_path),
    )
    if layout is not None:
        results.check_layout(layout)
    return results
