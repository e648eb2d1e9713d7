"""Pushing one frame's scene into the 3D view: boxes with headings, trails, ground truth, selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.render.geometry import box_edge_segments, heading_segments
from app.ui.viewers.frame_scene import FrameScene
from app.ui.viewers.palette import GROUND_TRUTH, MISS, PALETTE_RGBA, hex_to_rgba

if TYPE_CHECKING:
    from app.render.tracks_3d import TracksScene3D

_MISS = np.array(hex_to_rgba(MISS))
_GROUND_TRUTH = np.array(hex_to_rgba(GROUND_TRUTH, 0.7))


def show_scene_in_3d(view: TracksScene3D, scene: FrameScene) -> None:
    """Replace what the 3D view shows with ``scene`` (one line batch per kind) and ask for a repaint."""
    pairs = np.concatenate([box_edge_segments(scene.corners), heading_segments(scene.corners)])
    colours = PALETTE_RGBA[scene.colour_keys % len(PALETTE_RGBA)]
    view.set_boxes(pairs, np.concatenate([np.repeat(colours, 24, axis=0), np.repeat(colours, 2, axis=0)]))
    trail_colours = PALETTE_RGBA[scene.trail_keys % len(PALETTE_RGBA)]
    view.set_trails(scene.trail_pairs, np.repeat(trail_colours, 2, axis=0))
    missed = np.repeat(scene.gt_missed, 24)[:, None]
    view.set_ground_truth(box_edge_segments(scene.gt_corners), np.where(missed, _MISS, _GROUND_TRUTH))
    if scene.selected >= 0:
        chosen = scene.corners[[scene.selected]]
        anchor = chosen[0, 4:8].mean(axis=0) + np.array([0.0, 0.0, 0.45])
        selection = np.concatenate([box_edge_segments(chosen), scene.selected_trail_pairs])
        view.set_selection(selection, f"track {scene.labels[scene.selected]}", anchor)
    else:
        view.set_selection(scene.selected_trail_pairs)
    view.update()
