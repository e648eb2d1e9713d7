"""Converted Sparse4D infos pickles (OVPKL, TAO_FACTS 2.5): frames, ground truth and cameras.

Each pickle is ``{"metadata": {...}, "infos": [info, ...]}`` (or a bare list of infos), read with the
restricted unpickler. Frames are ordered by ``(scene_name, timestamp)`` as TAO's dataloader does.

Camera matrices: ``cam_intrinsic`` is the 3x3 K. ``sensor2world_transform`` is, despite its name,
the 4x4 **world-to-camera** extrinsic (the converter fills it from calibration's "projection matrix
w2c", and TAO's dataloader projects with ``K @ sensor2world_transform``); it is stored here as
``world_to_camera``. A 3x4 matrix is accepted and completed with the row ``[0, 0, 0, 1]``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np

from app.core.datasets.safe_pickle import PickleLoadError, load_pickle
from app.core.results.issues import IssueLog

InfosSource = str | os.PathLike[str] | bytes | BinaryIO


class InfosError(ValueError):
    """No usable frame could be read from the infos pickle(s)."""


def split_token(token: str) -> tuple[str, int | None]:
    """``"Warehouse_014+bev-sensor-random-0__000000123"`` -> ``("Warehouse_014+bev-sensor-random-0", 123)``.

    A token without a ``__<digits>`` suffix gives ``(token, None)``.
    """
    scene, separator, number = token.rpartition("__")
    if separator and number.isdigit():
        return scene, int(number)
    return token, None


@dataclass(frozen=True)
class CameraInfo:
    """One camera of one frame: intrinsics, world-to-camera extrinsics and the image it saw."""

    name: str
    intrinsic: np.ndarray
    world_to_camera: np.ndarray
    data_path: str | tuple[str, ...] | None = None

    @property
    def image_path(self) -> str | None:
        """The image file when ``data_path`` is a plain path (``None`` for an (h5, key) pair)."""
        return self.data_path if isinstance(self.data_path, str) else None


@dataclass
class InfoFrame:
    """One frame of a converted scene with its cameras and (if annotated) ground-truth boxes."""

    token: str
    scene_name: str
    frame_idx: int
    timestamp: float
    cameras: dict[str, CameraInfo]
    gt_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))
    gt_names: list[str] = field(default_factory=list)
    instance_inds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    has_ground_truth: bool = False


@dataclass
class InfosData:
    """All frames of one or more infos pickles, in TAO's frame order, with problems found on the way."""

    frames: list[InfoFrame]
    sources: list[str]
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.token_index: dict[str, int] = {frame.token: index for index, frame in enumerate(self.frames)}

    @property
    def camera_names(self) -> list[str]:
        """Every camera name, in order of first appearance."""
        names: dict[str, None] = {}
        for frame in self.frames:
            names.update(dict.fromkeys(frame.cameras))
        return list(names)

    @property
    def timestamps(self) -> np.ndarray:
        """Frame timestamps in frame order (seconds; NaN when a frame had none)."""
        return np.array([frame.timestamp for frame in self.frames], dtype=np.float64)

    def frame_for_token(self, token: str) -> InfoFrame | None:
        """The frame with this token, if any."""
        index = self.token_index.get(token)
        return None if index is None else self.frames[index]


def load_infos(
    sources: InfosSource | Sequence[InfosSource], source_names: Sequence[str] | None = None
) -> InfosData:
    """Read one or more infos pickles (paths, bytes or binary files) into frames in TAO's order.

    Unreadable pickles and malformed frames become warnings; :class:`InfosError` only when no frame
    at all could be read.
    """
    if isinstance(sources, list | tuple):
        items: list[InfosSource] = list(sources)
    else:
        items = [cast(InfosSource, sources)]
    names = list(source_names) if source_names is not None else [_source_name(item) for item in items]
    issues = IssueLog()
    frames: list[InfoFrame] = []
    for item, name in zip(items, names, strict=True):
        try:
            document = load_pickle(item, name)
        except PickleLoadError as exc:
            issues.add(str(exc), "file")
            continue
        frames.extend(parse_infos(document, name, issues))
    if not frames:
        problems = "; ".join(issues.messages()[:3]) or "no frames in the infos"
        raise InfosError(f"{', '.join(names)}: nothing usable ({problems})")
    return InfosData(_ordered_unique(frames, issues), names, issues.messages())


def parse_infos(document: Any, source_name: str, issues: IssueLog | None = None) -> list[InfoFrame]:
    """Frames from a loaded infos document (``{"infos": [...]}`` or a bare list)."""
    log = issues if issues is not None else IssueLog()
    infos = document.get("infos") if isinstance(document, dict) else document
    if not isinstance(infos, list):
        log.add(f"{source_name}: expected a dict with an 'infos' list (or a list of infos)", "file")
        return []
    frames = []
    for position, info in enumerate(infos):
        frame = _parse_frame(info, f"{source_name}: infos[{position}]", log)
        if frame is not None:
            frames.append(frame)
    return frames


def _source_name(item: InfosSource) -> str:
    if isinstance(item, str | os.PathLike):
        return str(item)
    if isinstance(item, bytes):
        return "<infos bytes>"
    return str(getattr(item, "name", "<infos stream>"))


def _ordered_unique(frames: list[InfoFrame], issues: IssueLog) -> list[InfoFrame]:
    seen: dict[str, InfoFrame] = {}
    for frame in frames:
        if frame.token in seen:
            issues.add(f"frame {frame.token} appears more than once; the first one is kept", "duplicate")
            continue
        seen[frame.token] = frame

    def order(frame: InfoFrame) -> tuple[str, float, int]:
        stamp = frame.timestamp if math.isfinite(frame.timestamp) else float(frame.frame_idx)
        return frame.scene_name, stamp, frame.frame_idx

    return sorted(seen.values(), key=order)


def _parse_frame(info: Any, where: str, issues: IssueLog) -> InfoFrame | None:
    if not isinstance(info, dict):
        issues.add(f"{where}: expected a dict, got {type(info).__name__}; frame skipped", "frame")
        return None
    token = info.get("token")
    if not isinstance(token, str):
        issues.add(f"{where}: no 'token'; frame skipped", "frame")
        return None
    token_scene, token_number = split_token(token)
    scene = info.get("scene_name")
    scene_name = scene if isinstance(scene, str) else token_scene
    frame_idx = _as_int(info.get("frame_idx"), token_number if token_number is not None else -1)
    timestamp = _as_float(info.get("timestamp"))
    cameras = _parse_cameras(info.get("cams"), token, issues)
    frame = InfoFrame(token, scene_name, frame_idx, timestamp, cameras)
    _attach_ground_truth(frame, info, issues)
    return frame


def _parse_cameras(cams: Any, token: str, issues: IssueLog) -> dict[str, CameraInfo]:
    if cams is None:
        return {}
    if not isinstance(cams, dict):
        issues.add(f"frame {token}: 'cams' should be a dict of cameras; cameras skipped", "camera")
        return {}
    cameras: dict[str, CameraInfo] = {}
    for name, cam in cams.items():
        if not isinstance(cam, dict):
            issues.add(f"frame {token}: camera {name} is not a dict; skipped", "camera")
            continue
        intrinsic = _matrix(cam.get("cam_intrinsic"), (3, 3))
        world_to_camera = _matrix(cam.get("sensor2world_transform"), (4, 4))
        if intrinsic is None or world_to_camera is None:
            missing = "cam_intrinsic (3x3)" if intrinsic is None else "sensor2world_transform (4x4)"
            issues.add(f"frame {token}: camera {name} has no usable {missing}; camera skipped", "camera")
            continue
        data_path = _data_path(cam.get("data_path"))
        cameras[str(name)] = CameraInfo(str(name), intrinsic, world_to_camera, data_path)
    return cameras


def _attach_ground_truth(frame: InfoFrame, info: dict[str, Any], issues: IssueLog) -> None:
    boxes = info.get("gt_boxes")
    if boxes is None:
        return
    try:
        box_array = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError):
        box_array = np.zeros((0, 0))
    if box_array.ndim != 2 or box_array.shape[1] < 7:
        if box_array.size:
            issues.add(f"frame {frame.token}: gt_boxes should be (n, 7), got {box_array.shape}; no GT", "gt")
            return
        box_array = np.zeros((0, 7))
    count = box_array.shape[0]
    names = info.get("gt_names")
    name_list = [str(name) for name in names] if isinstance(names, list | tuple | np.ndarray) else None
    if name_list is None or len(name_list) != count:
        issues.add(f"frame {frame.token}: gt_names does not match the {count} gt_boxes; no GT", "gt")
        return
    instances = info.get("instance_inds")
    try:
        instance_array = np.asarray(instances, dtype=np.int64).reshape(-1) if instances is not None else None
    except (TypeError, ValueError):
        instance_array = None
    if instance_array is None or len(instance_array) != count:
        if instances is not None:
            issues.add(f"frame {frame.token}: instance_inds does not match gt_boxes; ids unknown", "gt")
        instance_array = np.full(count, -1, dtype=np.int64)
    frame.gt_boxes = box_array[:, :7].copy()
    frame.gt_names = name_list
    frame.instance_inds = instance_array
    frame.has_ground_truth = True


def _matrix(value: Any, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        matrix = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if shape == (4, 4) and matrix.shape == (3, 4):
        matrix = np.vstack([matrix, [0.0, 0.0, 0.0, 1.0]])
    if matrix.shape != shape or not np.isfinite(matrix).all():
        return None
    return matrix


def _data_path(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(part, str) for part in value):
        return tuple(value)
    return None


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else default
    except (TypeError, ValueError):
        return default


def _as_float(value: Any) -> float:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        return math.nan


def resolve_image_path(camera: CameraInfo, search_roots: Iterable[str | os.PathLike[str]]) -> Path | None:
    """Find the camera's image on this machine: the path itself, or relative to one of ``search_roots``.

    A relative ``data_path`` is joined to each root; an absolute one (as written inside the
    container) is also tried with its leading folders stripped one at a time under each root.
    """
    path_text = camera.image_path
    if path_text is None:
        return None
    path = Path(path_text)
    if not path.is_absolute():
        candidates = [Path(root) / path for root in search_roots]
    else:
        candidates = [path]
        parts = path.parts[1:]
        for root in search_roots:
            candidates.extend(Path(root).joinpath(*parts[start:]) for start in range(len(parts)))
    return next((candidate for candidate in candidates if candidate.is_file()), None)
