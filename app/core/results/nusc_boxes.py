"""The boxes of a nuScenes-style results file as numpy arrays, one array per field.

The fast path converts every box at once; only when that fails are the boxes checked one by one,
so a few bad boxes are reported by frame and field and dropped while the rest load.
Required per box: ``translation`` (3), ``size`` (3), ``rotation`` (4, ``[w, x, y, z]``) and a class
(``tracking_name`` or ``detection_name``). ``velocity``, scores and ``tracking_id`` are optional.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import Any

import numpy as np

from app.core.results.issues import IssueLog

_REQUIRED_VECTORS = (("translation", 3), ("size", 3), ("rotation", 4))
RequiredFields = tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]]


def required_fields(boxes: list[Any]) -> RequiredFields | None:
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


def drop_unusable_boxes(
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
    """Map values (strings or ints; None = no id) to 0..K-1 in order of first appearance; None -> -1.

    Values with the same text (7 and "7") share an id; the names are those texts.
    """
    lookup: dict[Any, int] = {}
    try:
        first_ids = np.array([lookup.setdefault(value, len(lookup)) for value in values], dtype=np.int64)
    except TypeError:  # an unhashable value (a list, say): fall back to text keys
        lookup = {}
        first_ids = np.array(
            [lookup.setdefault(None if v is None else str(v), len(lookup)) for v in values], dtype=np.int64
        )
    names: list[str] = []
    by_text: dict[str, int] = {}
    remap = np.empty(len(lookup), dtype=np.int64)
    for position, key in enumerate(lookup):
        if key is None:
            remap[position] = -1
            continue
        text = str(key)
        remap[position] = by_text.setdefault(text, len(names))
        if remap[position] == len(names):
            names.append(text)
    return (remap[first_ids] if len(values) else first_ids), names


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


def box_arrays(
    boxes: list[dict[str, Any]],
    required: RequiredFields,
    issues: IssueLog,
) -> dict[str, Any]:
    """Every field as an array (yaws, scores, class and track ids included), keyed as TrackResults."""
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
    """Yaw (rotation about z, radians) of ``[w, x, y, z]`` quaternions, shape (n, 4) -> (n,).

    Written so that quaternions that are not exactly unit length (rounded in the file) give the
    same yaw as their normalised form.
    """
    w, x, y, z = (quaternions[:, i] for i in range(4))
    return np.arctan2(2.0 * (w * z + x * y), w * w + x * x - y * y - z * z)
