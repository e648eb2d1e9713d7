"""One frame of the tracks viewer, computed once and handed to every view (top view, 3D, cameras).

Plain numpy over the core readers; no Qt. All per-box work is done on whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from app.core.results.infos import InfosData
from app.core.results.projection import box_corners
from app.core.results.tracks import TrackResults
from app.render.geometry import polyline_pairs
from app.ui.viewers.palette import class_colour_keys, track_colour_keys
from app.ui.viewers.track_filter import BoxFilter, FilteredMatch, shown_box_mask, shown_ground_truth_mask

ColourBy = Literal["track", "class"]


@dataclass(frozen=True)
class SceneSettings:
    """How the user wants the frames drawn."""

    box_filter: BoxFilter = field(default_factory=BoxFilter)
    colour_by: ColourBy = "track"
    trail_frames: int = 15
    show_ground_truth: bool = True
    selected_track: int | None = None


@dataclass(frozen=True)
class FrameCounts:
    """Ground truth against the shown predictions in one frame."""

    true_positives: int
    false_positives: int
    misses: int
    id_switches: int


def _empty_corners() -> np.ndarray:
    return np.zeros((0, 8, 3))


@dataclass
class FrameScene:
    """Everything the views draw for one frame; box arrays are aligned with ``box_indices``."""

    frame: int
    token: str
    box_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    corners: np.ndarray = field(default_factory=_empty_corners)
    colour_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    labels: list[str] = field(default_factory=list)
    false_positive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    id_switch: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    trail_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    trail_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    selected_trail_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    selected: int = -1
    gt_corners: np.ndarray = field(default_factory=_empty_corners)
    gt_missed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    counts: FrameCounts | None = None

    @property
    def num_boxes(self) -> int:
        """How many predicted boxes are shown."""
        return len(self.box_indices)


class FrameSceneBuilder:
    """Builds :class:`FrameScene` objects for one set of results (and optional ground truth)."""

    def __init__(self, tracks: TrackResults, infos: InfosData | None = None) -> None:
        self.tracks = tracks
        self.infos = infos
        self.extents = tracks.extents
        self.track_keys = track_colour_keys(tracks.track_names)
        self.class_keys = class_colour_keys(len(tracks.class_names))
        self.frame_of_box = tracks.frame_of_box
        _, self.scene_of_frame = np.unique(np.asarray(tracks.scenes, dtype=object), return_inverse=True)
        self.track_names = np.asarray(tracks.track_names, dtype=object)

    def bounds(
        self, margin: float = 2.0, extra_points: np.ndarray | None = None
    ) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of every box, ground-truth box and extra point, with a margin."""
        points = [self.tracks.centers[:, :2]]
        if extra_points is not None and len(extra_points):
            points.append(np.asarray(extra_points, dtype=np.float64).reshape(-1, 2))
        if self.infos is not None:
            points += [frame.gt_boxes[:, :2] for frame in self.infos.frames if len(frame.gt_boxes)]
        xy = np.concatenate(points) if points else np.zeros((0, 2))
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not len(xy):
            return -10.0, 10.0, -10.0, 10.0
        low, high = xy.min(axis=0) - margin, xy.max(axis=0) + margin
        return float(low[0]), float(high[0]), float(low[1]), float(high[1])

    def build(self, frame: int, settings: SceneSettings, match: FilteredMatch | None = None) -> FrameScene:
        """The scene of ``frame`` under ``settings``; ``match`` is used only if made with the same filter."""
        tracks = self.tracks
        token = tracks.tokens[frame]
        start, stop = int(tracks.frame_offsets[frame]), int(tracks.frame_offsets[frame + 1])
        shown = start + np.flatnonzero(shown_box_mask(tracks, settings.box_filter, slice(start, stop)))
        track_ids = tracks.track_ids[shown]
        keys = (
            self.track_keys[np.maximum(track_ids, 0)]
            if settings.colour_by == "track" and len(self.track_keys)
            else self.class_keys[tracks.class_indices[shown]]
        )
        labels = (
            [str(name) for name in self.track_names[track_ids]]
            if len(shown) and len(self.track_names)
            else []
        )
        scene = FrameScene(
            frame=frame,
            token=token,
            box_indices=shown,
            corners=box_corners(tracks.centers[shown], self.extents[shown], tracks.yaws[shown]),
            colour_keys=keys,
            track_ids=track_ids,
            labels=[label if track >= 0 else "" for label, track in zip(labels, track_ids, strict=False)],
            false_positive=np.zeros(len(shown), dtype=bool),
            id_switch=np.zeros(len(shown), dtype=bool),
        )
        if settings.selected_track is not None:
            hits = np.flatnonzero(track_ids == settings.selected_track)
            scene.selected = int(hits[0]) if len(hits) else -1
        self._add_trails(scene, settings)
        if settings.show_ground_truth:
            self._add_ground_truth(scene, settings, match)
        return scene

    def _add_trails(self, scene: FrameScene, settings: SceneSettings) -> None:
        wanted = np.unique(scene.track_ids[scene.track_ids >= 0])
        if settings.selected_track is not None:
            wanted = np.union1d(wanted, [settings.selected_track])
        if settings.trail_frames <= 0 or not len(wanted):
            return
        tracks = self.tracks
        first = max(0, scene.frame - settings.trail_frames + 1)
        start, stop = int(tracks.frame_offsets[first]), int(tracks.frame_offsets[scene.frame + 1])
        window = start + np.flatnonzero(np.isin(tracks.track_ids[start:stop], wanted))
        window = window[np.lexsort((self.frame_of_box[window], tracks.track_ids[window]))]
        ids = tracks.track_ids[window]
        groups = (
            ids * (int(self.scene_of_frame.max(initial=0)) + 1)
            + self.scene_of_frame[self.frame_of_box[window]]
        )
        points = tracks.centers[window].copy()
        points[:, 2] -= self.extents[window, 2] / 2
        pairs, pair_groups = polyline_pairs(points, groups)
        pair_ids = pair_groups // (int(self.scene_of_frame.max(initial=0)) + 1)
        if settings.colour_by == "track":
            scene.trail_keys = self.track_keys[pair_ids]
        else:
            scene.trail_keys = self.class_keys[self.track_class[pair_ids]]
        scene.trail_pairs = pairs
        if settings.selected_track is not None:
            chosen = np.repeat(pair_ids == settings.selected_track, 2)
            scene.selected_trail_pairs = pairs[chosen]

    @cached_property
    def track_class(self) -> np.ndarray:
        """(T,) a class index per track (the class of its last box), for colouring trails by class."""
        table = np.zeros(max(self.tracks.num_tracks, 1), dtype=np.int64)
        tracked = self.tracks.track_ids >= 0
        table[self.tracks.track_ids[tracked]] = self.tracks.class_indices[tracked]
        return table

    def _add_ground_truth(
        self, scene: FrameScene, settings: SceneSettings, match: FilteredMatch | None
    ) -> None:
        info = self.infos.frame_for_token(scene.token) if self.infos is not None else None
        if info is None or not info.has_ground_truth:
            return
        keep = shown_ground_truth_mask(info.gt_names, settings.box_filter)
        boxes = info.gt_boxes[keep]
        scene.gt_corners = box_corners(boxes[:, :3], boxes[:, 3:6], boxes[:, 6])
        scene.gt_missed = np.zeros(len(boxes), dtype=bool)
        frame_match = (
            match.by_token.get(scene.token) if match and match.box_filter == settings.box_filter else None
        )
        if frame_match is None or len(frame_match.gt_to_pred) != len(boxes):
            return
        if len(frame_match.pred_matched) != scene.num_boxes:
            return
        scene.gt_missed = frame_match.gt_to_pred < 0
        scene.false_positive = ~frame_match.pred_matched
        switched_preds = frame_match.gt_to_pred[frame_match.switched_gt]
        scene.id_switch[switched_preds[switched_preds >= 0]] = True
        scene.counts = FrameCounts(
            frame_match.true_positives,
            frame_match.false_positives,
            frame_match.misses,
            frame_match.id_switches,
        )

    def nearest_track(self, scene: FrameScene, x: float, y: float, radius: float = 1.5) -> int | None:
        """The track of the shown box whose centre is nearest to (x, y), within ``radius`` metres."""
        if not scene.num_boxes:
            return None
        centres = self.tracks.centers[scene.box_indices, :2]
        distances = np.hypot(centres[:, 0] - x, centres[:, 1] - y)
        nearest = int(np.argmin(distances))
        if distances[nearest] > radius or scene.track_ids[nearest] < 0:
            return None
        return int(scene.track_ids[nearest])
