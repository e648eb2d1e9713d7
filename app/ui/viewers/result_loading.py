"""Reading a result's files into what the viewers bind to (runs in a worker; Qt-free).

Only the predictions are required: unreadable infos, metrics or labels become warnings shown in the
viewer, which still opens with what could be read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, cast

import numpy as np
import yaml

from app.core.results.infos import CameraInfo, InfosData, InfosError, load_infos
from app.core.results.layouts import LAYOUTS, SkeletonLayout, UnknownLayoutError, layout_for
from app.core.results.metrics import MetricsError, MetricsSummary, parse_metrics_summary
from app.core.results.poses import (
    PoseLabels,
    PoseResults,
    PoseResultsError,
    build_pose_results,
    class_names_from_label_map,
    load_labels,
    parse_inference_output,
    validate_pose_array,
)
from app.core.results.tracks import TrackResults, load_tracks
from app.ui.viewers.result_files import (
    MAX_RESULTS_BYTES,
    FileAccess,
    LocalFiles,
    RemoteSequences,
    ResultFileError,
)
from app.ui.viewers.result_sources import PoseSource, TrackSource, default_score_threshold, display_name


class ImageLocator:
    """Finds a camera's image among the image folders and reads it; learns which folder works."""

    def __init__(self, files: FileAccess, roots: list[str]) -> None:
        self.files = files
        self.roots = roots
        self._pattern: tuple[int, int] | None = None

    def candidates(self, camera: CameraInfo) -> list[tuple[tuple[int, int], str]]:
        """Places the image may be, each with the (root, leading parts dropped) pattern that made it."""
        text = camera.image_path
        if not text:
            return []
        path = PurePosixPath(text.replace("\\", "/"))
        found: list[tuple[tuple[int, int], str]] = []
        if path.is_absolute():
            found.append(((-1, 0), str(path)))
            parts = path.parts[1:]
            for root_index, root in enumerate(self.roots):
                found += [
                    ((root_index, start), self.files.join(root, *parts[start:]))
                    for start in range(len(parts))
                ]
        else:
            found += [((index, 0), self.files.join(root, str(path))) for index, root in enumerate(self.roots)]
        if self._pattern is not None:
            found.sort(key=lambda item: item[0] != self._pattern)
        return found

    def read(self, camera: CameraInfo) -> bytes | None:
        """The image file's bytes, or None when it is nowhere to be found."""
        for pattern, candidate in self.candidates(camera):
            if self.files.is_file(candidate):
                try:
                    data = self.files.read_bytes(candidate, 64 * 1024**2)
                except ResultFileError:
                    continue
                self._pattern = pattern
                return data
        return None


@dataclass
class TrackBundle:
    """Everything the tracks viewer shows."""

    source: TrackSource
    tracks: TrackResults
    infos: InfosData | None
    metrics: MetricsSummary | None
    score_threshold: float
    images: ImageLocator | None
    warnings: list[str] = field(default_factory=list)


def load_track_bundle(source: TrackSource, files: FileAccess | None = None) -> TrackBundle:
    """Read results, infos and metrics (ResultsError / ResultFileError when the results are unusable)."""
    files = files or LocalFiles()
    warnings: list[str] = []
    infos = None
    if source.infos:
        try:
            infos = load_infos(
                [files.read_bytes(path, MAX_RESULTS_BYTES) for path in source.infos],
                [display_name(path) for path in source.infos],
            )
            warnings += infos.warnings
        except (InfosError, ResultFileError) as exc:
            warnings.append(f"Ground truth and cameras unavailable: {exc}")
    raw = files.read_bytes(source.results, MAX_RESULTS_BYTES)
    tracks = load_tracks(raw, source_name=display_name(source.results), infos=infos)
    warnings = tracks.warnings + warnings
    metrics = None
    if source.metrics:
        try:
            metrics = parse_metrics_summary(files.read_bytes(source.metrics), display_name(source.metrics))
            warnings += metrics.warnings
        except (MetricsError, ResultFileError) as exc:
            warnings.append(f"Metrics unavailable: {exc}")
    threshold = source.score_threshold if source.score_threshold is not None else default_score_threshold()
    images = ImageLocator(files, source.image_roots) if infos is not None else None
    return TrackBundle(source, tracks, infos, metrics, threshold, images, warnings)


@dataclass
class PoseBundle:
    """Everything the pose viewer shows; ``layout_problem`` says why skeletons cannot be drawn."""

    source: PoseSource
    results: PoseResults
    layout: SkeletonLayout | None
    layout_problem: str | None
    warnings: list[str] = field(default_factory=list)


def guess_layout(joint_count: int) -> SkeletonLayout | None:
    """The first TAO layout with this many joints (17 fits both coco and human3.6m)."""
    return next((layout for layout in LAYOUTS.values() if layout.num_joints == joint_count), None)


def choose_layout(results: PoseResults, name: str | None) -> tuple[SkeletonLayout | None, str | None]:
    """The layout to draw with, and the problem to show if it does not fit the data."""
    if results.data is None:
        return (layout_for(name) if name and name.lower() in LAYOUTS else None), None
    joints = int(results.data.shape[3])
    if not name:
        layout = guess_layout(joints)
        if layout is None:
            known = ", ".join(f"{item.name} ({item.num_joints})" for item in LAYOUTS.values())
            return None, f"The skeleton data has V={joints} joints; no TAO layout has that many ({known})."
        return layout, None
    try:
        layout = layout_for(name)
    except UnknownLayoutError as exc:
        return None, str(exc)
    try:
        results.check_layout(layout)
    except PoseResultsError as exc:
        fitting = [item.name for item in LAYOUTS.values() if item.num_joints == joints]
        advice = f" (with {joints} joints: {' or '.join(fitting)})" if fitting else ""
        return layout, f"Layout mismatch: {exc}{advice}."
    return layout, None


def _class_names(
    source: PoseSource, files: FileAccess, predicted: list[str], warnings: list[str]
) -> list[str]:
    label_map = source.label_map
    if isinstance(label_map, dict):
        return class_names_from_label_map(label_map)
    if isinstance(label_map, str):
        name = display_name(label_map)
        try:
            document: Any = yaml.safe_load(files.read_bytes(label_map).decode("utf-8", errors="replace"))
        except yaml.YAMLError as exc:
            raise PoseResultsError(f"{name}: invalid YAML ({exc})") from exc
        if isinstance(document, dict) and isinstance(document.get("dataset"), dict):
            document = document["dataset"]
        if isinstance(document, dict) and "label_map" in document:
            document = document["label_map"]
        try:
            return class_names_from_label_map(document if isinstance(document, dict) else {})
        except PoseResultsError as exc:
            raise PoseResultsError(f"{name}: {exc}") from exc
    names = sorted(set(predicted) - {""})
    warnings.append(
        "No label map was given: classes are the predicted names in alphabetical order, so true labels "
        "from the .pkl may not line up. Open the label map (.yaml) with the results to be sure."
    )
    return names


def _pose_data(source: PoseSource, files: FileAccess) -> np.ndarray | None:
    if source.data is None:
        return None
    if isinstance(files, LocalFiles):
        try:
            array = np.load(source.data, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise PoseResultsError(f"{source.data}: not a readable numpy .npy file ({exc})") from exc
        return validate_pose_array(array, source.data)
    return cast(np.ndarray, RemoteSequences(files, source.data))


def load_pose_bundle(source: PoseSource, files: FileAccess | None = None) -> PoseBundle:
    """Read predictions, labels, label map and skeletons (PoseResultsError / ResultFileError if unusable)."""
    files = files or LocalFiles()
    warnings: list[str] = []
    predicted = parse_inference_output(files.read_bytes(source.predictions).decode("utf-8", errors="replace"))
    class_names = _class_names(source, files, predicted, warnings)
    labels: PoseLabels | None = None
    if source.labels:
        labels = load_labels(io.BytesIO(files.read_bytes(source.labels)), display_name(source.labels))
    data = _pose_data(source, files)
    results = build_pose_results(
        class_names,
        predicted,
        labels,
        data,
        predictions_source=display_name(source.predictions),
        labels_source=display_name(source.labels or "labels"),
        data_source=display_name(source.data or "data"),
    )
    if labels is None:
        warnings.append("No true labels (.pkl) were given: the confusion matrix and accuracies need them.")
    if data is None:
        warnings.append("No skeleton data (.npy) was given: sequences cannot be played.")
    layout, problem = choose_layout(results, source.layout)
    return PoseBundle(source, results, layout, problem, results.warnings + warnings)
