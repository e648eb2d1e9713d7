"""What the tracks viewer shows: boxes above the score threshold in the visible classes, and the
ground-truth matching of exactly those boxes (so the counts describe what is on screen).

Plain numpy over the core readers; no Qt.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from app.core.results.infos import InfosData
from app.core.results.matching import FrameMatch, MatchSummary, match_results, normalized_class_name
from app.core.results.tracks import TrackResults


@dataclass(frozen=True)
class BoxFilter:
    """The score threshold and the class names the user hid."""

    score_threshold: float = 0.0
    hidden_classes: frozenset[str] = frozenset()

    @property
    def hidden_normalized(self) -> frozenset[str]:
        """Hidden class names compared loosely (as matching compares them)."""
        return frozenset(normalized_class_name(name) for name in self.hidden_classes)


def shown_box_mask(tracks: TrackResults, box_filter: BoxFilter, part: slice | None = None) -> np.ndarray:
    """Boolean per box (of ``part`` of the flat arrays, or all): score high enough, class visible."""
    part = part if part is not None else slice(0, tracks.num_boxes)
    keep = tracks.scores[part] >= box_filter.score_threshold
    if box_filter.hidden_classes:
        hidden = np.array([name in box_filter.hidden_classes for name in tracks.class_names], dtype=bool)
        if hidden.any():
            keep &= ~hidden[tracks.class_indices[part]]
    return np.asarray(keep, dtype=bool)


def shown_ground_truth_mask(gt_names: list[str], box_filter: BoxFilter) -> np.ndarray:
    """Boolean per ground-truth box of one frame: its class is not hidden."""
    hidden = box_filter.hidden_normalized
    if not hidden:
        return np.ones(len(gt_names), dtype=bool)
    return np.array([normalized_class_name(name) not in hidden for name in gt_names], dtype=bool)


def subset_tracks(tracks: TrackResults, keep: np.ndarray) -> TrackResults:
    """The same frames, class and track tables, with only the boxes where ``keep`` is true."""
    counts = np.bincount(tracks.frame_of_box[keep], minlength=tracks.num_frames).astype(np.int64)
    return TrackResults(
        source=tracks.source,
        tokens=tracks.tokens,
        scenes=tracks.scenes,
        frame_numbers=tracks.frame_numbers,
        timestamps=tracks.timestamps,
        frame_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        class_names=tracks.class_names,
        track_names=tracks.track_names,
        warnings=tracks.warnings,
        **tracks.select_boxes(keep),
    )


def subset_infos(infos: InfosData, box_filter: BoxFilter) -> InfosData:
    """The same frames with the ground truth of hidden classes left out."""
    if not box_filter.hidden_classes:
        return infos
    frames = []
    for frame in infos.frames:
        keep = shown_ground_truth_mask(frame.gt_names, box_filter)
        frames.append(
            dataclasses.replace(
                frame,
                gt_boxes=frame.gt_boxes[keep],
                gt_names=[name for name, kept in zip(frame.gt_names, keep, strict=True) if kept],
                instance_inds=frame.instance_inds[keep],
            )
        )
    return InfosData(frames, infos.sources, infos.warnings)


@dataclass
class FilteredMatch:
    """Ground truth matched against the boxes one filter lets through, frame by frame."""

    box_filter: BoxFilter
    summary: MatchSummary
    by_token: dict[str, FrameMatch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_token = {frame.token: frame for frame in self.summary.frames}


def match_filtered(tracks: TrackResults, infos: InfosData, box_filter: BoxFilter) -> FilteredMatch:
    """Match the ground truth against the shown boxes (2 m centre distance, same class)."""
    shown = subset_tracks(tracks, shown_box_mask(tracks, box_filter))
    return FilteredMatch(box_filter, match_results(shown, subset_infos(infos, box_filter)))
