"""One pass over converted Sparse4D infos (OVPKL, TAO_FACTS 2.5) collecting what preflight checks.

Works on the outline load of `pickle_outline` (arrays not built), so a 200 MB pickle costs one
unpickle and one loop: camera matrix shapes, class names, depth-map references and frame counts.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.core.datasets.pickle_outline import ArrayOutline
from app.core.datasets.safe_pickle import PickleLoadError

MAX_EXAMPLES = 3


@dataclass
class InfosSummary:
    """What the scanned infos pickles hold, summed over files."""

    files: list[str] = field(default_factory=list)
    frames: int = 0
    cameras: int = 0
    scenes: set[str] = field(default_factory=set)
    class_counts: Counter[str] = field(default_factory=Counter)
    frames_with_ground_truth: int = 0
    bad_cameras: int = 0
    bad_camera_examples: list[str] = field(default_factory=list)
    structure_problems: list[str] = field(default_factory=list)
    depth_refs: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, other: InfosSummary) -> None:
        """Add another file's summary to this one."""
        self.files.extend(other.files)
        self.frames += other.frames
        self.cameras += other.cameras
        self.scenes |= other.scenes
        self.class_counts.update(other.class_counts)
        self.frames_with_ground_truth += other.frames_with_ground_truth
        self.bad_cameras += other.bad_cameras
        self.bad_camera_examples.extend(
            other.bad_camera_examples[: MAX_EXAMPLES - len(self.bad_camera_examples)]
        )
        self.structure_problems.extend(other.structure_problems)
        for reference, sources in other.depth_refs.items():
            self.depth_refs.setdefault(reference, set()).update(sources)


_INTRINSIC, _TRANSFORM = (3, 3), (4, 4)


def _has_shape(value: Any, shape: tuple[int, int]) -> bool:
    """``_shape(value) == shape``, quicker for the usual case (an outline with a version in its state)."""
    if type(value) is ArrayOutline:
        state = value.state
        if type(state) is tuple and len(state) == 5 and type(state[1]) is tuple:
            try:
                return state[1] == shape  # tuples compare to a bool
            except (TypeError, ValueError):  # an array among the sizes: numpy will not compare it
                return False
    return _shape(value) == shape


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape an array, outline or nested list states, if it is a tuple of whole numbers."""
    if type(value) is ArrayOutline:
        state = value.state  # (version, shape, dtype, is_fortran, raw), or the same without version
        if type(state) is tuple and len(state) in (4, 5):
            shape = state[len(state) - 4]
            if type(shape) is tuple and all(type(size) is int for size in shape):
                return shape
        return None
    if isinstance(value, np.ndarray):
        return value.shape
    if isinstance(value, list):
        try:
            return np.shape(value)
        except ValueError:
            return None
    return None


class _ClassCounter:
    """Counts the class names of every frame. Class-name arrays repeat from frame to frame: each
    distinct one is decoded once and counted as often as it occurs (names keep the order in which
    they first appear)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._decoded: dict[tuple[Any, ...], list[str]] = {}
        self._repeats: dict[tuple[Any, ...], int] = {}

    def add(self, value: Any) -> bool:
        """Count one frame's ``gt_names``; False when they cannot be read as names."""
        if type(value) is ArrayOutline:
            key = value.data_key()
            if key is not None and key in self._repeats:
                self._repeats[key] += 1
                return True
            try:
                decoded = [str(name) for name in value.array().reshape(-1)]
            except PickleLoadError:
                return False
            if key is None:
                self.counts.update(decoded)
                return True
            self._decoded[key], self._repeats[key] = decoded, 1
            for name in decoded:
                self.counts[name] += 0
            return True
        if isinstance(value, np.ndarray | list | tuple):
            self.counts.update(str(name) for name in np.asarray(value).reshape(-1))
            return True
        return False

    def total(self) -> Counter[str]:
        """Every name with how many boxes carry it."""
        for key, times in self._repeats.items():
            for name in self._decoded[key]:
                self.counts[name] += times
        self._repeats.clear()
        return self.counts


def scan_infos(document: Any, source: str) -> InfosSummary:
    """Summarise one loaded infos document (TAO reads ``data['infos']`` and ``data['metadata']``)."""
    summary = InfosSummary(files=[source])
    if not isinstance(document, dict) or not isinstance(document.get("infos"), list):
        kind = type(document).__name__
        summary.structure_problems.append(f"{source} holds a {kind}, not a dict with an 'infos' list")
        return summary
    if not isinstance(document.get("metadata"), dict):
        summary.structure_problems.append(f"{source} has no 'metadata' dict (TAO reads data['metadata'])")
    classes = _ClassCounter()
    depth_counts: dict[str, int] = {}
    for position, info in enumerate(document["infos"]):
        if type(info) is not dict:
            summary.structure_problems.append(f"{source}: infos[{position}] is not a dict")
            continue
        summary.frames += 1
        scene = info.get("scene_name")
        if isinstance(scene, str):
            summary.scenes.add(scene)
        _scan_cameras(info.get("cams"), position, source, summary, depth_counts)
        names = info.get("gt_names")
        if names is not None and classes.add(names):
            summary.frames_with_ground_truth += 1
    summary.class_counts = classes.total()
    for reference in depth_counts:
        summary.depth_refs.setdefault(reference, set()).add(source)
    return summary


def _scan_cameras(
    cams: Any, position: int, source: str, summary: InfosSummary, depth: dict[str, int]
) -> None:
    if type(cams) is not dict:
        summary.structure_problems.append(f"{source}: infos[{position}] has no 'cams' dict")
        return
    summary.cameras += len(cams)
    for name, cam in cams.items():
        if type(cam) is not dict:
            _bad_camera(summary, f"{source}: infos[{position}] camera {name} is not a dict")
            continue
        if not (
            _has_shape(cam.get("cam_intrinsic"), _INTRINSIC)
            and _has_shape(cam.get("sensor2world_transform"), _TRANSFORM)
        ):
            intrinsic = _shape(cam.get("cam_intrinsic"))
            transform = _shape(cam.get("sensor2world_transform"))
            _bad_camera(
                summary,
                f"{source}: infos[{position}] camera {name}: cam_intrinsic {intrinsic or 'missing'}"
                f", sensor2world_transform {transform or 'missing'} (expected 3x3 and 4x4)",
            )
        reference = cam.get("depth_map_path")
        if type(reference) is tuple and reference and type(reference[0]) is str:
            depth[reference[0]] = 1


def _bad_camera(summary: InfosSummary, example: str) -> None:
    summary.bad_cameras += 1
    if len(summary.bad_camera_examples) < MAX_EXAMPLES:
        summary.bad_camera_examples.append(example)


class SummaryCache:
    """Summaries of infos pickles already read, keyed by host, path, size and modification time.

    A second check of unchanged pickles (after editing the spec, after a fix elsewhere) then costs a
    ``stat`` instead of a read; a rewritten file has another size or time and is read again.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, int, float], InfosSummary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, host: str, path: str, size: int, mtime: float) -> InfosSummary | None:
        """The remembered summary of this exact file version, if any."""
        with self._lock:
            summary = self._entries.get((host, path, size, mtime))
            if summary is not None:
                self._entries.move_to_end((host, path, size, mtime))
            return summary

    def put(self, host: str, path: str, size: int, mtime: float, summary: InfosSummary) -> None:
        """Remember a summary (the oldest is dropped beyond the capacity)."""
        with self._lock:
            self._entries[(host, path, size, mtime)] = summary
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, host: str, path: str) -> None:
        """Drop every remembered version of a file (after rewriting it)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == host and k[1] == path]:
                del self._entries[key]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()


summary_cache = SummaryCache()
