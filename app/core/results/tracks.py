"""Sparse4D ``results_nusc.json`` (TAO_FACTS 2.7) as array-backed boxes per frame and tracks over time.

All boxes of all frames live in flat arrays in frame order; ``frame_offsets`` slices them per
frame. Sizes are kept as the file gives them (nuScenes ``[w, l, h]``); ``extents`` gives them along
the box's own x (heading), y and z axes. Yaw comes from the rotation quaternion ``[w, x, y, z]``.

Reading is tolerant: problems become ``warnings`` on the result. :class:`ResultsError` is raised
only when nothing usable remains (unreadable file, malformed JSON, no ``results`` object, or boxes
of which none could be read).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from app.core.gc_pause import garbage_collection_paused
from app.core.results.infos import InfosData, split_token
from app.core.results.issues import IssueLog
from app.core.results.nusc_boxes import box_arrays, drop_unusable_boxes, required_fields

ResultsSource = str | os.PathLike[str] | bytes | BinaryIO
DEFAULT_MAX_BYTES = 4 * 1024**3


class ResultsError(ValueError):
    """Nothing usable could be read from a results file; the message names the file and the cause."""


@dataclass(frozen=True)
class BoxArrays:
    """Per-box arrays of the same length, one row per predicted box."""

    centers: np.ndarray
    sizes: np.ndarray
    yaws: np.ndarray
    velocities: np.ndarray
    scores: np.ndarray
    class_indices: np.ndarray
    track_ids: np.ndarray

    def select_boxes(self, selection: slice | np.ndarray) -> dict[str, np.ndarray]:
        """Every per-box array indexed by ``selection`` (a slice gives views), by field name."""
        return {name: getattr(self, name)[selection] for name in _BOX_FIELDS}


_BOX_FIELDS = tuple(box_field.name for box_field in fields(BoxArrays))


@dataclass(frozen=True)
class FrameBoxes(BoxArrays):
    """The predicted boxes of one frame (views into the flat arrays)."""

    token: str

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


@dataclass(frozen=True)
class TrackResults(BoxArrays):
    """Predicted boxes of every frame in flat arrays, with frame order, class and track tables."""

    source: str
    tokens: list[str]
    scenes: list[str]
    frame_numbers: np.ndarray
    timestamps: np.ndarray
    frame_offsets: np.ndarray
    class_names: list[str]
    track_names: list[str]
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def token_index(self) -> dict[str, int]:
        """Frame index by frame token."""
        return {token: index for index, token in enumerate(self.tokens)}

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
        return FrameBoxes(token=self.tokens[index], **self.select_boxes(part))

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

    def trail(self, track_id: int, frame_index: int, max_frames: int | None = None) -> np.ndarray:
        """(k, 3) centres of a track in frames up to ``frame_index``, oldest first; with ``max_frames``,
        only those within the last ``max_frames`` frames."""
        track = self.track(track_id)
        first = -1 if max_frames is None else frame_index - max_frames
        keep = (track.frame_indices <= frame_index) & (track.frame_indices > first)
        return track.centers[keep]

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
    with garbage_collection_paused():
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
    required = required_fields(boxes)
    if required is None:
        boxes, counts = drop_unusable_boxes(boxes, counts, tokens, issues)
        required = required_fields(boxes)
        if not boxes or required is None:
            first_problems = "; ".join(issues.messages()[:3])
            raise ResultsError(f"{source_name}: none of the boxes could be read ({first_problems})")
    if not results:
        issues.add(f"{source_name}: 'results' is empty: the model reported no boxes", "empty")
    arrays = box_arrays(boxes, required, issues)
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
