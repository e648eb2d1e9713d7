"""Ground truth against predictions: distance matching, counts and identity switches."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.results.infos import load_infos
from app.core.results.matching import match_by_distance, match_results
from app.core.results.tracks import load_tracks

SCENE = "S+g"


def test_the_nearest_prediction_within_two_metres_matches() -> None:
    gt = np.array([[0.0, 0.0, 1.0], [10.0, 0.0, 1.0]])
    preds = np.array([[0.5, 0.0, 5.0], [12.5, 0.0, 1.0]])  # z is ignored; second is 2.5 m away
    assert match_by_distance(gt, preds, np.array([0.9, 0.9])).tolist() == [0, -1]


def test_higher_scores_choose_first() -> None:
    gt = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0]])
    preds = np.array([[0.3, 0.0, 0.0], [0.2, 0.0, 0.0]])
    # the 0.9 prediction takes the nearest GT (0); the 0.5 one gets the other within range
    assert match_by_distance(gt, preds, np.array([0.5, 0.9])).tolist() == [1, 0]


def test_classes_must_agree_when_given() -> None:
    gt = np.array([[0.0, 0.0, 0.0]])
    preds = np.array([[0.1, 0.0, 0.0], [1.0, 0.0, 0.0]])
    result = match_by_distance(
        gt, preds, np.array([0.9, 0.5]), gt_classes=np.array([1]), pred_classes=np.array([0, 1])
    )
    assert result.tolist() == [1]


def test_empty_frames() -> None:
    assert match_by_distance(np.zeros((0, 3)), np.ones((2, 3)), np.ones(2)).tolist() == []
    assert match_by_distance(np.ones((2, 3)), np.zeros((0, 3)), np.zeros(0)).tolist() == [-1, -1]


def _scene_files(
    tmp_path: Path, gt_names: tuple[str, str] = ("Person", "Person"), pred_name: str = "person"
) -> tuple[Path, Path]:
    """Two GT people over 5 frames; person 7's track id changes at frame 2, is missed at frame 3,
    and comes back with the new id at frame 4 (one switch); frame 4 also has a false positive."""
    infos, results = [], {}
    for frame in range(5):
        token = f"{SCENE}__{frame:09d}"
        infos.append(
            {
                "token": token,
                "scene_name": SCENE,
                "frame_idx": frame,
                "timestamp": frame / 10,
                "cams": {},
                "gt_boxes": np.array(
                    [[frame, 0.0, 0.9, 0.5, 0.6, 1.8, 0.0], [frame, 5.0, 0.9, 0.5, 0.6, 1.8, 0.0]]
                ),
                "gt_names": np.array(gt_names),
                "instance_inds": np.array([7, 8]),
            }
        )
        boxes: list[dict[str, Any]] = []
        if frame != 3:
            boxes.append(_box(token, frame + 0.2, 0.0, "1" if frame < 2 else "3", pred_name))
        boxes.append(_box(token, frame - 0.1, 5.1, "2", pred_name))
        if frame == 4:
            boxes.append(_box(token, 30.0, 30.0, "9", pred_name, score=0.3))
        results[token] = boxes
    infos_path = tmp_path / "S_infos_val.pkl"
    infos_path.write_bytes(pickle.dumps({"infos": infos}))
    results_path = tmp_path / "results_nusc.json"
    results_path.write_text(json.dumps({"results": results}))
    return infos_path, results_path


def _box(token: str, x: float, y: float, track: str, name: str, score: float = 0.8) -> dict[str, Any]:
    return {
        "sample_token": token,
        "translation": [x, y, 0.9],
        "size": [0.6, 0.5, 1.8],
        "rotation": [1, 0, 0, 0],
        "velocity": [1, 0],
        "detection_name": name,
        "detection_score": score,
        "tracking_name": name,
        "tracking_score": score,
        "tracking_id": track,
    }


def test_counts_and_identity_switches_over_a_scene(tmp_path: Path) -> None:
    infos_path, results_path = _scene_files(tmp_path)
    infos = load_infos(infos_path)
    summary = match_results(load_tracks(results_path, infos=infos), infos)
    per_frame = summary.per_frame()
    assert per_frame["tp"].tolist() == [2, 2, 2, 1, 2]
    assert per_frame["fn"].tolist() == [0, 0, 0, 1, 0]
    assert per_frame["fp"].tolist() == [0, 0, 0, 0, 1]
    assert per_frame["idsw"].tolist() == [0, 0, 1, 0, 0]
    assert summary.frames[2].switched_gt.tolist() == [0]
    assert summary.totals() == {"tp": 9, "fp": 1, "fn": 1, "idsw": 1, "gt": 10}
    assert summary.mota == pytest.approx(1 - 3 / 10)


def test_class_names_are_compared_loosely_and_unmatched_vocabularies_fall_back(tmp_path: Path) -> None:
    infos_path, results_path = _scene_files(tmp_path, gt_names=("GR1-T2", "GR1-T2"), pred_name="gr1_t2")
    infos = load_infos(infos_path)
    assert match_results(load_tracks(results_path, infos=infos), infos).totals()["tp"] == 9
    infos_path, results_path = _scene_files(tmp_path, gt_names=("Forklift", "Forklift"), pred_name="person")
    infos = load_infos(infos_path)
    summary = match_results(load_tracks(results_path, infos=infos), infos)
    assert summary.totals()["tp"] == 9
    assert any("regardless of class" in warning for warning in summary.warnings)


def test_the_sample_scene_adds_up(samples_dir: Path, sample_infos_path: Path) -> None:
    infos = load_infos(sample_infos_path)
    tracks = load_tracks(samples_dir / "sparse4d" / "results_nusc.json", infos=infos)
    summary = match_results(tracks, infos)
    totals = summary.totals()
    assert totals["gt"] == sum(len(frame.gt_names) for frame in infos.frames)
    assert totals["tp"] + totals["fn"] == totals["gt"]
    assert totals["tp"] + totals["fp"] == tracks.num_boxes
    assert totals["idsw"] >= 2 and totals["fp"] >= 1 and totals["fn"] >= 1
