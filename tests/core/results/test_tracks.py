"""results_nusc.json: the bundled sample against a plain JSON read, ordering, and tolerant parsing."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.results.infos import load_infos
from app.core.results.nusc_boxes import yaw_from_quaternions
from app.core.results.tracks import ResultsError, load_tracks

SCENE = "Warehouse_014+bev-sensor-random-0"


def _box(token: str, x: float, track: str | None = "1", **changes: Any) -> dict[str, Any]:
    box: dict[str, Any] = {
        "sample_token": token,
        "translation": [x, 2.0, 0.9],
        "size": [0.6, 0.5, 1.8],
        "rotation": [1.0, 0.0, 0.0, 0.0],
        "velocity": [0.5, 0.0],
        "detection_name": "person",
        "detection_score": 0.7,
        "attribute_name": "person.moving",
        "tracking_name": "person",
        "tracking_score": 0.8,
        "tracking_id": track,
    }
    if track is None:
        for key in ("tracking_id", "tracking_name", "tracking_score"):
            del box[key]
    box.update(changes)
    return {key: value for key, value in box.items() if value is not ...}


def _results(frames: dict[str, Any]) -> bytes:
    return json.dumps({"meta": {"use_camera": True, "use_lidar": False}, "results": frames}).encode()


def _token(frame: int, scene: str = SCENE) -> str:
    return f"{scene}__{frame:09d}"


def test_the_sample_matches_a_plain_json_read(samples_dir: Path, sample_infos_path: Path) -> None:
    path = samples_dir / "sparse4d" / "results_nusc.json"
    raw = json.loads(path.read_text())["results"]
    infos = load_infos(sample_infos_path)
    tracks = load_tracks(path, infos=infos)
    assert tracks.warnings == []
    assert tracks.tokens == [frame.token for frame in infos.frames]
    np.testing.assert_allclose(tracks.timestamps, infos.timestamps)
    assert tracks.class_names == sorted({box["detection_name"] for boxes in raw.values() for box in boxes})
    seen_ids: dict[str, int] = {}
    for index, token in enumerate(tracks.tokens):
        frame, boxes = tracks.frame(index), raw[token]
        assert len(frame) == len(boxes)
        np.testing.assert_allclose(frame.centers, [box["translation"] for box in boxes])
        np.testing.assert_allclose(frame.sizes, [box["size"] for box in boxes])
        np.testing.assert_allclose(frame.scores, [box["tracking_score"] for box in boxes])
        expected_yaws = [2 * math.atan2(box["rotation"][3], box["rotation"][0]) for box in boxes]
        np.testing.assert_allclose(np.cos(frame.yaws), np.cos(expected_yaws), atol=1e-9)
        np.testing.assert_allclose(np.sin(frame.yaws), np.sin(expected_yaws), atol=1e-9)
        assert [tracks.class_names[i] for i in frame.class_indices] == [
            box["detection_name"] for box in boxes
        ]
        for track, box in zip(frame.track_ids, boxes, strict=True):
            assert seen_ids.setdefault(box["tracking_id"], int(track)) == track
            assert tracks.track_names[track] == box["tracking_id"]
    assert tracks.num_tracks == len(seen_ids)


def test_a_track_lists_its_appearances_in_frame_order(samples_dir: Path) -> None:
    tracks = load_tracks(samples_dir / "sparse4d" / "results_nusc.json")
    lengths = tracks.track_lengths()
    assert lengths.sum() == tracks.num_boxes
    longest = int(np.argmax(lengths))
    track = tracks.track(longest)
    assert np.all(np.diff(track.frame_indices) > 0)
    assert np.all(tracks.track_ids[track.box_indices] == longest)
    np.testing.assert_array_equal(track.centers, tracks.centers[track.box_indices])
    np.testing.assert_allclose(track.speeds, np.hypot(*track.velocities.T))
    assert tracks.class_names[track.class_index] in tracks.class_names


def test_frames_are_ordered_by_scene_and_frame_number_without_infos() -> None:
    frames = {
        _token(30): [_box(_token(30), 3.0)],
        _token(4, "Alpha+g"): [_box(_token(4, "Alpha+g"), 1.0)],
        _token(7): [_box(_token(7), 2.0)],
        _token(100): [],
    }
    tracks = load_tracks(_results(frames))
    assert tracks.tokens == [_token(4, "Alpha+g"), _token(7), _token(30), _token(100)]
    assert tracks.frame_numbers.tolist() == [4, 7, 30, 100]
    assert tracks.scenes == ["Alpha+g", SCENE, SCENE, SCENE]
    assert np.isnan(tracks.timestamps).all()
    assert tracks.frame(3).centers.shape == (0, 3)


def test_infos_give_the_frame_order_and_unknown_tokens_come_last(sample_infos_path: Path) -> None:
    infos = load_infos(sample_infos_path)
    first, second = infos.frames[0].token, infos.frames[1].token
    stray = "Other_scene__000000001"
    tracks = load_tracks(_results({stray: [_box(stray, 1.0)], second: [_box(second, 2.0)]}), infos=infos)
    assert tracks.tokens[: len(infos.frames)] == [frame.token for frame in infos.frames]
    assert tracks.tokens[-1] == stray
    assert len(tracks.frame(tracks.token_index[first])) == 0
    assert len(tracks.frame(tracks.token_index[second])) == 1
    assert any(stray in warning and "not frames of the infos" in warning for warning in tracks.warnings)


def test_bad_boxes_are_skipped_with_a_warning_naming_token_and_field() -> None:
    token = _token(1)
    frames = {
        token: [
            _box(token, 1.0),
            _box(token, 2.0, translation=...),
            _box(token, 3.0, size=[1.0, 2.0]),
            _box(token, 4.0, rotation=[1.0, 0.0, "x", 0.0]),
            "not a box",
            _box(token, 5.0),
        ],
        _token(2): {"not": "a list"},
    }
    tracks = load_tracks(_results(frames), "run/results_nusc.json")
    assert tracks.centers[:, 0].tolist() == [1.0, 5.0]
    text = "\n".join(tracks.warnings)
    assert f"frame {token}, box 1: missing field 'translation'" in text
    assert f"frame {token}, box 2: field 'size'" in text
    assert f"frame {token}, box 3: field 'rotation'" in text
    assert f"frame {token}, box 4: expected an object" in text
    assert f"frame {_token(2)}: expected a list of boxes" in text


def test_optional_fields_may_be_missing() -> None:
    token = _token(1)
    frames = {token: [_box(token, 1.0, velocity=...), _box(token, 2.0, tracking_score=...)]}
    tracks = load_tracks(_results(frames))
    assert np.isnan(tracks.velocities[0]).all() and tracks.velocities[1].tolist() == [0.5, 0.0]
    assert tracks.scores.tolist() == [0.8, 0.7]  # falls back to detection_score
    assert any("no 'velocity'" in warning for warning in tracks.warnings)


def test_nan_velocities_as_python_writes_them_load() -> None:
    token = _token(1)
    text = _results({token: [_box(token, 1.0, velocity=[float("nan"), float("nan")])]})
    assert b"NaN" in text
    assert np.isnan(load_tracks(text).velocities).all()


def test_detection_only_results_have_no_tracks() -> None:
    token = _token(1)
    tracks = load_tracks(_results({token: [_box(token, 1.0, track=None), _box(token, 2.0, track=None)]}))
    assert tracks.track_ids.tolist() == [-1, -1]
    assert tracks.num_tracks == 0
    assert tracks.warnings == []
    assert tracks.scores.tolist() == [0.7, 0.7]


def test_tokens_without_a_frame_number_are_ordered_by_name_with_a_warning() -> None:
    tracks = load_tracks(_results({"b-token": [], "a-token": [_box("a-token", 1.0)]}))
    assert tracks.tokens == ["a-token", "b-token"]
    assert tracks.frame_numbers.tolist() == [-1, -1]
    assert any("do not end in '__<frame number>'" in warning for warning in tracks.warnings)


def test_empty_results_are_a_warning_not_an_error(sample_infos_path: Path) -> None:
    tracks = load_tracks(_results({}))
    assert tracks.num_frames == 0 and tracks.num_boxes == 0
    assert any("empty" in warning for warning in tracks.warnings)
    infos = load_infos(sample_infos_path)
    with_infos = load_tracks(_results({}), infos=infos)
    assert with_infos.num_frames == len(infos.frames) and with_infos.num_boxes == 0


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "results_nusc.json"
    path.write_text('{"meta": {},\n "results": {\n  "a__000000001": [,]\n }}')
    with pytest.raises(ResultsError, match=r"results_nusc\.json: not valid JSON at line 3, column 20"):
        load_tracks(path)


@pytest.mark.parametrize(
    "document",
    [b"[1, 2]", b'{"meta": {}}', b'{"results": [1]}'],
)
def test_documents_without_results_are_errors(document: bytes) -> None:
    with pytest.raises(ResultsError, match="'results' object"):
        load_tracks(document, "x.json")


def test_nothing_usable_is_one_error(tmp_path: Path) -> None:
    token = _token(1)
    with pytest.raises(ResultsError, match="none of the boxes could be read"):
        load_tracks(_results({token: [_box(token, 1.0, translation=...), "junk"]}))
    with pytest.raises(ResultsError, match="cannot read"):
        load_tracks(tmp_path / "missing.json")


def test_streams_and_the_size_limit(samples_dir: Path) -> None:
    data = (samples_dir / "sparse4d" / "results_nusc.json").read_bytes()
    stream = io.BytesIO(data)
    stream.name = "sftp://host/results_nusc.json"
    assert load_tracks(stream).num_boxes == load_tracks(data).num_boxes
    with pytest.raises(ResultsError, match=r"sftp://host/results_nusc\.json: larger than"):
        load_tracks(io.BytesIO(data), "sftp://host/results_nusc.json", max_bytes=1000)


def test_yaw_from_quaternions_recovers_the_rotation_about_z() -> None:
    yaws = np.linspace(-3.1, 3.1, 25)
    quaternions = np.column_stack([np.cos(yaws / 2), np.zeros(25), np.zeros(25), np.sin(yaws / 2)])
    np.testing.assert_allclose(yaw_from_quaternions(quaternions), yaws, atol=1e-12)
    np.testing.assert_allclose(yaw_from_quaternions(-quaternions), yaws, atol=1e-12)  # same rotation
    np.testing.assert_allclose(yaw_from_quaternions(quaternions * 1.3), yaws, atol=1e-12)  # not unit length


def test_track_ids_with_the_same_text_are_one_track() -> None:
    token = _token(1)
    tracks = load_tracks(
        _results({token: [_box(token, 1.0, tracking_id=...), _box(token, 2.0), _box(token, 3.0)]})
    )
    assert tracks.track_ids.tolist() == [-1, 0, 0]
    same_text = [_box(token, 1.0, tracking_id=7), _box(token, 2.0, tracking_id="7")]
    mixed = load_tracks(_results({token: same_text}))
    assert mixed.track_ids.tolist() == [0, 0] and mixed.track_names == ["7"]
    unhashable = [_box(token, 1.0, tracking_id=[1]), _box(token, 2.0, tracking_id="a")]
    odd = load_tracks(_results({token: unhashable}))
    assert odd.track_names == ["[1]", "a"]


def test_trails_end_at_the_current_frame() -> None:
    frames = {_token(n): [_box(_token(n), float(n))] if n != 2 else [] for n in range(6)}
    tracks = load_tracks(_results(frames))
    assert tracks.trail(0, 3)[:, 0].tolist() == [0.0, 1.0, 3.0]  # frame 2 has no box
    assert tracks.trail(0, 4, max_frames=2)[:, 0].tolist() == [3.0, 4.0]
    assert tracks.trail(0, 0)[:, 0].tolist() == [0.0]
