"""Sparse4D ``results_nusc.json`` (TAO_FACTS 2.7) as array-backed boxes per frame and tracks over time.

All boxes of all frames live in flat arrays in frame order; ``frame_offsets`` slices them per
frame. Sizes are kept as the file gives them (nuScenes ``[w, l, h]``); ``extents`` gives them along
the box's own x (heading), y and z axes. Yaw comes from the rotation quaternion ``[w, x, y, z]``.

Reading is tolerant: problems become ``warnings`` on the result. :class:`ResultsError` is raised
only when nothing usable remains (unreadable file, malformed JSON, no ``results`` object, or boxes
of which none could be read).
"""

from __future__ import annotations

import gc
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from app.core.results.infos import InfosData, split_token
from app.core.results.issues import IssueLog

ResultsSource = str | os.PathLike[str] | bytes | BinaryIO
DEFAULT_MAX_BYTES = 4 * 1024**3
_REQUIRED_VECTORS = (("translation", 3), ("size", 3), ("rotation", 4))


class ResultsError(ValueError):
    """Nothing usable could be read from a results file; the message names the file and the cause."""


@dataclass(frozen=True)
class FrameBoxes:
    """The predicted boxes of one frame (views into the flat arrays)."""

    token: str
    centers: np.ndarray
    sizes: np.ndarray
    yaws: np.ndarray
    velocities: np.ndarray
    scores: np.ndarray
    class_indices: np.ndarray
    track_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class Track:
    """One tracking id over time: where it was, how sure, how fast."""

    track_id: int
    name: str
    box_indices: np.ndarray
    frame_indices: np.ndarray
    centers: np.ndarray
    scores: np.ndarray
    velocities: np.ndarray
    class_index: int

    @property
    def speeds(self) -> np.ndarray:
        """Ground speed from the reported velocity (m/s), per appearance."""
        return np.hypot(self.velocities[:, 0], self.velocities[:, 1])


@dataclass
class TrackResults:
    """Predicted boxes of every frame in flat arrays, with frame order, class and track tables."""

    source: str
    tokens: list[str]
    scenes: list[str]
    frame_numbers: np.ndarray
    timestamps: np.ndarray
    frame_offsets: np.ndarray
    centers: np.ndarray
    sizes: np.ndarray
    yaws: np.ndarray
    velocities: np.ndarray
    scores: np.ndarray
    class_indices: np.ndarray
    track_ids: np.ndarray
    class_names: list[str]
    track_names: list[str]
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.token_index: dict[str, int] = {token: index for index, token in enumerate(self.tokens)}

    @property
    def num_frames(self) -> int:
        """How many frames (including frames without boxes)."""
        return len(self.tokens)

    @property
    def num_boxes(self) -> int:
        """How many boxes over all frames."""
        return len(self.scores)

    @property
    def num_tracks(self) -> int:
        """How many distinct tracking ids."""
        return len(self.track_names)

    @property
    def extents(self) -> np.ndarray:
        """(B, 3) extents along the box's x (heading), y and z: nuScenes ``[w, l, h]`` -> ``[l, w, h]``."""
        return self.sizes[:, [1, 0, 2]]

    @cached_property
    def frame_of_box(self) -> np.ndarray:
        """(B,) the frame index of every box."""
        return np.repeat(np.arange(self.num_frames), np.diff(self.frame_offsets))

    def frame(self, index: int) -> FrameBoxes:
        """The boxes of frame ``index``."""
        part = slice(int(self.frame_offsets[index]), int(self.frame_offsets[index + 1]))
        return FrameBoxes(
            self.tokens[index],
            self.centers[part],
            self.sizes[part],
            self.yaws[part],
            self.velocities[part],
            self.scores[part],
            self.class_indices[part],
            self.track_ids[part],
        )

    @cached_property
    def _track_order(self) -> tuple[np.ndarray, np.ndarray]:
        tracked = np.flatnonzero(self.track_ids >= 0)
        order = tracked[np.argsort(self.track_ids[tracked], kind="stable")]
        counts = np.bincount(self.track_ids[tracked], minlength=self.num_tracks)
        return order, np.concatenate([[0], np.cumsum(counts)])

    def track(self, track_id: int) -> Track:
        """Every appearance of one track, in frame order (for trails, speed and score over time)."""
        order, starts = self._track_order
        boxes = order[starts[track_id] : starts[track_id + 1]]
        classes = self.class_indices[boxes]
        main_class = int(np.bincount(classes).argmax()) if len(classes) else -1
        return Track(
            track_id,
            self.track_names[track_id],
            boxes,
            self.frame_of_box[boxes],
            self.centers[boxes],
            self.scores[boxes],
            self.velocities[boxes],
            main_class,
        )

    def track_lengths(self) -> np.ndarray:
        """(T,) number of boxes per track id."""
        return np.diff(self._track_order[1])


def load_tracks(
    source: ResultsSource,
    source_name: str | None = None,
    infos: InfosData | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> TrackResults:
    """Read ``results_nusc.json`` from a path, bytes or a binary file (local or SFTP)."""
    name = source_name or _source_name(source)
    raw = _read_bytes(source, name, max_bytes)
    with _garbage_collection_paused():
        return _decode_and_parse(raw, name, infos)


def _decode_and_parse(raw: bytes, name: str, infos: InfosData | None) -> TrackResults:
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ResultsError(f"{name}: not valid JSON at {where}: {exc.msg}") from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ResultsError(f"{name}: not a readable JSON file ({exc})") from exc
    return parse_tracks(document, name, infos)


def parse_tracks(document: Any, source_name: str, infos: InfosData | None = None) -> TrackResults:
    """Turn a loaded ``results_nusc.json`` document into :class:`TrackResults`."""
    if not isinstance(document, dict) or not isinstance(document.get("results"), dict):
        raise ResultsError(f"{source_name}: expected a JSON object with a 'results' object (nuScenes format)")
    results: dict[str, Any] = document["results"]
    issues = IssueLog()
    tokens = _frame_order(results, infos, issues)
    boxes, counts = _gather_boxes(results, tokens, issues)
    required = _required_fields(boxes)
    if required is None:
        boxes, counts = _drop_unusable_boxes(boxes, counts, tokens, issues)
        required = _required_fields(boxes)
        if not boxes or required is None:
            first_problems = "; ".join(issues.messages()[:3])
            raise ResultsError(f"{source_name}: none of the boxes could be read ({first_problems})")
    if not results:
        issues.add(f"{source_name}: 'results' is empty: the model reported no boxes", "empty")
    arrays = _box_arrays(boxes, required, issues)
    scenes, numbers = zip(*(split_token(token) for token in tokens), strict=True) if tokens else ((), ())
    timestamps = np.full(len(tokens), np.nan)
    if infos is not None:
        for index, token in enumerate(tokens):
            frame = infos.frame_for_token(token)
            if frame is not None:
                timestamps[index] = frame.timestamp
    return TrackResults(
        source=source_name,
        tokens=tokens,
        scenes=list(scenes),
        frame_numbers=np.array([-1 if n is None else n for n in numbers], dtype=np.int64),
        timestamps=timestamps,
        frame_offsets=np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))]).astype(np.int64),
        warnings=issues.messages(),
        **arrays,
    )


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """Pause the cycle collector while millions of JSON objects are made: none of them form cycles,
    and repeated full collections over them would otherwise cost more than the parsing itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _source_name(source: ResultsSource) -> str:
    if isinstance(source, str | os.PathLike):
        return str(source)
    if isinstance(source, bytes):
        return "results_nusc.json"
    return str(getattr(source, "name", "results_nusc.json"))


def _read_bytes(source: ResultsSource, name: str, max_bytes: int) -> bytes:
    try:
        if isinstance(source, bytes):
            data = source
        elif isinstance(source, str | os.PathLike):
            if Path(source).stat().st_size > max_bytes:
                raise ResultsError(f"{name}: larger than the {max_bytes:,}-byte limit for results files")
            data = Path(source).read_bytes()
        else:
            data = source.read(max_bytes + 1)
    except OSError as exc:
        raise ResultsError(f"{name}: cannot read the file ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise ResultsError(f"{name}: larger than the {max_bytes:,}-byte limit for results files")
    return data


def _frame_order(results: dict[str, Any], infos: InfosData | None, issues: IssueLog) -> list[str]:
    """Infos order when given (all its frames, boxes or not), then other tokens by scene and number."""
    known = [frame.token for frame in infos.frames] if infos is not None else []
    known_set = set(known)
    others = [token for token in results if token not in known_set]
    if infos is not None and others:
        sample = ", ".join(others[:3])
        issues.add(f"{len(others)} result tokens are not frames of the infos ({sample}); shown last", "token")
    parsed = [(split_token(token), token) for token in others]
    unparsed = [token for (_, number), token in parsed if number is None]
    if unparsed:
        issues.add(
            f"{len(unparsed)} tokens do not end in '__<frame number>' ({', '.join(unparsed[:3])}); "
            "ordered by name",
            "token",
        )
    parsed.sort(key=lambda item: (item[0][0], -1 if item[0][1] is None else item[0][1], item[1]))
    return known + [token for _, token in parsed]


def _gather_boxes(
    results: dict[str, Any], tokens: list[str], issues: IssueLog
) -> tuple[list[Any], list[int]]:
    boxes: list[Any] = []
    counts: list[int] = []
    for token in tokens:
        frame_boxes = results.get(token, [])
        if not isinstance(frame_boxes, list):
            issues.add(f"frame {token}: expected a list of boxes, got {type(frame_boxes).__name__}", "frame")
            frame_boxes = []
        boxes.extend(frame_boxes)
        counts.append(len(frame_boxes))
    return boxes, counts


def _required_fields(boxes: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]] | None:
    """Centres, sizes, rotations and class names of all boxes at once; None if any box is unusable."""
    try:
        centers = _stack_vectors([box["translation"] for box in boxes], 3)
        sizes = _stack_vectors([box["size"] for box in boxes], 3)
        rotations = _stack_vectors([box["rotation"] for box in boxes], 4)
        names = [box.get("tracking_name") or box.get("detection_name") for box in boxes]
    except (KeyError, TypeError, AttributeError):
        return None
    if centers is None or sizes is None or rotations is None or None in names:
        return None
    if not (np.isfinite(centers).all() and np.isfinite(sizes).all() and np.isfinite(rotations).all()):
        return None
    return centers, sizes, rotations, names


def _stack_vectors(values: list[Any], length: int) -> np.ndarray | None:
    """An (n, length) float array when every value is a list of ``length`` numbers, else None."""
    count = len(values)
    if count == 0:
        return np.zeros((0, length))
    if set(map(type, values)) != {list} or set(map(len, values)) != {length}:
        return None
    try:
        flat = np.fromiter(chain.from_iterable(values), dtype=np.float64, count=count * length)
    except (TypeError, ValueError):
        return None
    return flat.reshape(count, length)


def _drop_unusable_boxes(
    boxes: list[Any], counts: list[int], tokens: list[str], issues: IssueLog
) -> tuple[list[Any], list[int]]:
    """Find the boxes that lack a usable required field, report each, and keep the rest."""
    kept: list[Any] = []
    kept_counts: list[int] = []
    start = 0
    for token, count in zip(tokens, counts, strict=True):
        before = len(kept)
        for position, box in enumerate(boxes[start : start + count]):
            problem = _box_problem(box)
            if problem is None:
                kept.append(box)
            else:
                issues.add(f"frame {token}, box {position}: {problem}; box skipped", "box")
        kept_counts.append(len(kept) - before)
        start += count
    return kept, kept_counts


def _box_problem(box: Any) -> str | None:
    if not isinstance(box, dict):
        return f"expected an object, got {type(box).__name__}"
    for key, length in _REQUIRED_VECTORS:
        value = box.get(key)
        if value is None:
            return f"missing field '{key}'"
        if not isinstance(value, list) or len(value) != length:
            return f"field '{key}' should be a list of {length} numbers"
        if not all(_is_finite_number(v) for v in value):
            return f"field '{key}' should hold finite numbers"
    if "tracking_name" not in box and "detection_name" not in box:
        return "missing field 'detection_name'"
    return None


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dense_ids(values: list[Any]) -> tuple[np.ndarray, list[str]]:
    """Map values (strings or ints; None = no id) to 0..K-1 in order of first appearance; None -> -1."""
    lookup: dict[str, int] = {}
    ids = np.fromiter(
        (-1 if value is None else lookup.setdefault(str(value), len(lookup)) for value in values),
        dtype=np.int64,
        count=len(values),
    )
    return ids, list(lookup)


def _optional_vectors(values: list[Any], length: int, key: str, issues: IssueLog) -> np.ndarray:
    """An (n, length) float array; entries that are missing or malformed become NaN."""
    stacked = _stack_vectors(values, length)
    if stacked is not None:
        return stacked
    array = np.full((len(values), length), np.nan)
    bad = 0
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            array[index] = np.asarray(value, dtype=np.float64).reshape(length)
        except (TypeError, ValueError):
            bad += 1
    if bad:
        issues.add(f"{bad} boxes have a malformed '{key}'; shown as unknown", "field")
    return array


def _scores(boxes: list[dict[str, Any]], issues: IssueLog) -> np.ndarray:
    """``tracking_score``, else ``detection_score``, else NaN."""
    scores = _optional_scalars([box.get("tracking_score") for box in boxes], "tracking_score", issues)
    missing = np.isnan(scores)
    if missing.any():
        fallback = [box.get("detection_score") for box in boxes]
        detection = _optional_scalars(fallback, "detection_score", issues)
        scores = np.where(missing, detection, scores)
    return scores


def _optional_scalars(values: list[Any], key: str, issues: IssueLog) -> np.ndarray:
    """An (n,) float array; None becomes NaN, and so does anything that is not a number."""
    try:
        array = np.array(values, dtype=np.float64)
        if array.shape == (len(values),):
            return array
    except (TypeError, ValueError):
        pass
    numbers = [value if _is_finite_number(value) else None for value in values]
    bad = sum(1 for value in values if value is not None and not _is_finite_number(value))
    if bad:
        issues.add(f"{bad} boxes have a malformed '{key}'; shown as unknown", "field")
    return np.array(numbers, dtype=np.float64).reshape(len(values))


def _box_arrays(
    boxes: list[dict[str, Any]],
    required: tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]],
    issues: IssueLog,
) -> dict[str, Any]:
    count = len(boxes)
    centers, sizes, rotations, names = required
    velocities = _optional_vectors([box.get("velocity") for box in boxes], 2, "velocity", issues)
    missing_velocity = int(np.isnan(velocities[:, 0]).sum())
    if missing_velocity:
        issues.add(f"{missing_velocity} boxes have no 'velocity'; their speed is unknown", "field")
    scores = _scores(boxes, issues)
    class_ids, class_names = _dense_ids(names)
    order = np.argsort(class_names)
    class_indices = np.argsort(order)[class_ids] if count else class_ids
    track_ids, track_names = _dense_ids([box.get("tracking_id") for box in boxes])
    untracked = int((track_ids < 0).sum())
    if track_names and untracked:
        issues.add(f"{untracked} boxes have no 'tracking_id' while others do; they are in no track", "field")
    return {
        "centers": centers,
        "sizes": sizes,
        "yaws": yaw_from_quaternions(rotations),
        "velocities": velocities,
        "scores": scores,
        "class_indices": class_indices,
        "track_ids": track_ids,
        "class_names": [class_names[i] for i in order],
        "track_names": track_names,
    }


def yaw_from_quaternions(quaternions: np.ndarray) -> np.ndarray:
    """Yaw (rotation about z, radians) of ``[w, x, y, z]`` quaternions, shape (n, 4) -> (n,)."""
    w, x, y, z = (quaternions[:, i] for i in range(4))
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
