"""Ground truth against predictions, frame by frame: hits, false positives, misses, identity switches.

Matching is by centre distance in the ground plane (x, y), as nuScenes' ``center_distance``, with a
2 m threshold (TAO's ``dist_th_tp``), between boxes of the same class. Class names are compared
without case, spaces, ``_`` or ``-`` (``Person`` = ``person``, ``gr1_t2`` = ``GR1T2``); when no
predicted class matches any ground-truth class at all, matching falls back to ignoring classes
(with a warning). Predictions are taken in descending score order and each takes the nearest
unmatched ground-truth box within the threshold.
An identity switch is a ground-truth instance whose matched track id differs from the track id of
its previous match (its previous match in any earlier frame of the same scene).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.core.results.infos import InfosData
from app.core.results.tracks import TrackResults

DEFAULT_DISTANCE_THRESHOLD = 2.0


def match_by_distance(
    gt_centers: np.ndarray,
    pred_centers: np.ndarray,
    pred_scores: np.ndarray,
    threshold: float = DEFAULT_DISTANCE_THRESHOLD,
    gt_classes: np.ndarray | None = None,
    pred_classes: np.ndarray | None = None,
) -> np.ndarray:
    """For each ground-truth box, the index of its matched prediction, or -1 (a miss).

    With ``gt_classes`` and ``pred_classes`` (ints in one vocabulary), only equal classes match.
    """
    gt_xy = np.asarray(gt_centers, dtype=np.float64).reshape(-1, 3)[:, :2]
    pred_xy = np.asarray(pred_centers, dtype=np.float64).reshape(-1, 3)[:, :2]
    gt_to_pred = np.full(len(gt_xy), -1, dtype=np.int64)
    if len(gt_xy) == 0 or len(pred_xy) == 0:
        return gt_to_pred
    distances = np.linalg.norm(pred_xy[:, None, :] - gt_xy[None, :, :], axis=2)
    if gt_classes is not None and pred_classes is not None:
        distances[np.asarray(pred_classes)[:, None] != np.asarray(gt_classes)[None, :]] = np.inf
    scores = np.nan_to_num(np.asarray(pred_scores, dtype=np.float64), nan=-np.inf)
    taken = np.zeros(len(gt_xy), dtype=bool)
    for pred in np.argsort(-scores, kind="stable"):
        candidates = np.where(taken, np.inf, distances[pred])
        nearest = int(np.argmin(candidates))
        if candidates[nearest] <= threshold:
            taken[nearest] = True
            gt_to_pred[nearest] = pred
    return gt_to_pred


@dataclass(frozen=True)
class FrameMatch:
    """The outcome for one frame; indices refer to the frame's GT boxes and predicted boxes."""

    token: str
    gt_to_pred: np.ndarray
    pred_matched: np.ndarray
    switched_gt: np.ndarray

    @property
    def true_positives(self) -> int:
        """Ground-truth boxes with a matching prediction."""
        return int((self.gt_to_pred >= 0).sum())

    @property
    def false_positives(self) -> int:
        """Predictions that match no ground-truth box."""
        return int((~self.pred_matched).sum())

    @property
    def misses(self) -> int:
        """Ground-truth boxes without a matching prediction (false negatives)."""
        return int((self.gt_to_pred < 0).sum())

    @property
    def id_switches(self) -> int:
        """Ground-truth instances whose track id changed at this frame."""
        return len(self.switched_gt)


@dataclass
class MatchSummary:
    """Per-frame matches for the frames that have ground truth, and their totals."""

    frames: list[FrameMatch]
    num_gt: int
    threshold: float
    warnings: list[str] = field(default_factory=list)

    def per_frame(self) -> dict[str, np.ndarray]:
        """Arrays over evaluated frames: ``tp``, ``fp``, ``fn`` and ``idsw``."""
        return {
            "tp": np.array([f.true_positives for f in self.frames], dtype=np.int64),
            "fp": np.array([f.false_positives for f in self.frames], dtype=np.int64),
            "fn": np.array([f.misses for f in self.frames], dtype=np.int64),
            "idsw": np.array([f.id_switches for f in self.frames], dtype=np.int64),
        }

    def totals(self) -> dict[str, int]:
        """Totals over all evaluated frames: ``tp``, ``fp``, ``fn``, ``idsw`` and ``gt``."""
        sums = {key: int(values.sum()) for key, values in self.per_frame().items()}
        return {**sums, "gt": self.num_gt}

    @property
    def mota(self) -> float:
        """1 - (misses + false positives + identity switches) / ground-truth boxes (NaN without GT)."""
        totals = self.totals()
        if not self.num_gt:
            return float("nan")
        return 1.0 - (totals["fn"] + totals["fp"] + totals["idsw"]) / self.num_gt


def normalized_class_name(name: str) -> str:
    """A class name compared loosely: lower case, without spaces, ``_`` or ``-``."""
    return "".join(char for char in name.lower() if char not in " _-")


def match_results(
    tracks: TrackResults,
    infos: InfosData,
    threshold: float = DEFAULT_DISTANCE_THRESHOLD,
    class_aware: bool = True,
) -> MatchSummary:
    """Match every infos frame that has ground truth against the predictions for the same token."""
    frames: list[FrameMatch] = []
    last_track: dict[tuple[str, int], int] = {}
    num_gt = 0
    evaluated = [frame for frame in infos.frames if frame.has_ground_truth]
    warnings = [] if evaluated else ["the infos hold no ground truth: nothing to compare against"]
    vocabulary = {normalized_class_name(name): index for index, name in enumerate(tracks.class_names)}
    pred_class_ids = np.array(
        [vocabulary[normalized_class_name(name)] for name in tracks.class_names], dtype=np.int64
    )
    gt_names = {normalized_class_name(name) for frame in evaluated for name in frame.gt_names}
    if class_aware and tracks.class_names and not gt_names & set(vocabulary):
        warnings.append(
            f"no predicted class ({', '.join(tracks.class_names)}) matches a ground-truth class "
            f"({', '.join(sorted(gt_names))}); boxes are matched regardless of class"
        )
        class_aware = False
    for info in evaluated:
        index = tracks.token_index.get(info.token)
        if index is None:
            centers, scores, track_ids = np.zeros((0, 3)), np.zeros(0), np.zeros(0, dtype=np.int64)
            pred_classes = np.zeros(0, dtype=np.int64)
        else:
            boxes = tracks.frame(index)
            centers, scores, track_ids = boxes.centers, boxes.scores, boxes.track_ids
            pred_classes = pred_class_ids[boxes.class_indices]
        if class_aware:
            gt_classes = np.array(
                [vocabulary.get(normalized_class_name(name), -1) for name in info.gt_names], dtype=np.int64
            )
            gt_to_pred = match_by_distance(
                info.gt_boxes[:, :3], centers, scores, threshold, gt_classes, pred_classes
            )
        else:
            gt_to_pred = match_by_distance(info.gt_boxes[:, :3], centers, scores, threshold)
        pred_matched = np.zeros(len(scores), dtype=bool)
        pred_matched[gt_to_pred[gt_to_pred >= 0]] = True
        switched = []
        for gt_index in np.flatnonzero(gt_to_pred >= 0):
            instance = int(info.instance_inds[gt_index])
            track = int(track_ids[gt_to_pred[gt_index]])
            if instance < 0 or track < 0:
                continue
            key = (info.scene_name, instance)
            previous = last_track.get(key)
            if previous is not None and previous != track:
                switched.append(gt_index)
            last_track[key] = track
        num_gt += len(gt_to_pred)
        frames.append(FrameMatch(info.token, gt_to_pred, pred_matched, np.asarray(switched, dtype=np.int64)))
    return MatchSummary(frames, num_gt, threshold, warnings)
