"""Converted infos pickles: the bundled sample, TAO's variants, and malformed content."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.results.infos import InfosError, load_infos, resolve_image_path, split_token


def _info(scene: str, frame: int, **changes: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "frame_idx": frame,
        "scene_name": scene,
        "timestamp": frame / 30,
        "token": f"{scene}__{frame:09d}",
        "cams": {
            "Camera_01": {
                "data_path": f"/data/{scene}/Camera_01/rgb/{frame:09d}.jpg",
                "depth_map_path": (
                    f"{scene}/depth_maps/Camera_01.h5",
                    f"distance_to_image_plane_{frame:05d}.png",
                ),
                "cam_intrinsic": np.diag([1000.0, 1000.0, 1.0]),
                "sensor2world_transform": np.eye(4),
            }
        },
        "instance_inds": np.array([5, 6]),
        "gt_boxes": np.array([[1.0, 2.0, 0.9, 0.5, 0.6, 1.8, 0.3], [4.0, 5.0, 0.9, 0.5, 0.6, 1.8, -0.3]]),
        "gt_names": np.array(["Person", "Transporter"]),
        "gt_velocity": np.zeros((2, 3)),
        "valid_flag": np.array([True, True]),
    }
    info.update(changes)
    return info


def _write(path: Path, document: Any, protocol: int = 4) -> Path:
    with path.open("wb") as stream:
        pickle.dump(document, stream, protocol=protocol)
    return path


def test_the_sample_infos(sample_infos_path: Path) -> None:
    with sample_infos_path.open("rb") as stream:
        raw = pickle.load(stream)["infos"]
    infos = load_infos(sample_infos_path)
    assert infos.warnings == []
    assert len(infos.frames) == len(raw)
    assert infos.camera_names == list(raw[0]["cams"])
    assert np.all(np.diff(infos.timestamps) > 0)
    by_token = {info["token"]: info for info in raw}
    for frame in infos.frames:
        original = by_token[frame.token]
        np.testing.assert_array_equal(frame.gt_boxes, original["gt_boxes"])
        assert frame.gt_names == list(original["gt_names"])
        np.testing.assert_array_equal(frame.instance_inds, original["instance_inds"])
        for name, camera in frame.cameras.items():
            np.testing.assert_array_equal(camera.intrinsic, original["cams"][name]["cam_intrinsic"])
            np.testing.assert_array_equal(
                camera.world_to_camera, original["cams"][name]["sensor2world_transform"]
            )
    camera = infos.frames[5].cameras[infos.camera_names[0]]
    image = resolve_image_path(camera, [sample_infos_path.parent])
    assert image is not None and image.is_file() and image.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_frames_are_sorted_by_scene_and_timestamp_across_files(tmp_path: Path, protocol: int) -> None:
    first = _write(
        tmp_path / "B_infos_val.pkl",
        {"metadata": {"version": "2025"}, "infos": [_info("B", 9), _info("B", 3)]},
        protocol,
    )
    second = _write(tmp_path / "A_infos_val.pkl", [_info("A", 6), _info("A", 0)], protocol)
    infos = load_infos([first, second])
    assert [frame.token for frame in infos.frames] == [
        "A__000000000",
        "A__000000006",
        "B__000000003",
        "B__000000009",
    ]
    assert infos.sources == [str(first), str(second)]
    frame = infos.frames[0]
    assert frame.has_ground_truth and frame.gt_boxes.shape == (2, 7)
    assert frame.gt_names == ["Person", "Transporter"]
    assert frame.cameras["Camera_01"].image_path == "/data/A/Camera_01/rgb/000000000.jpg"
    assert infos.frame_for_token("B__000000003") is infos.frames[2]


def test_h5_image_paths_are_kept_as_pairs(tmp_path: Path) -> None:
    info = _info("A", 0)
    info["cams"]["Camera_01"]["data_path"] = ("A/videos/Camera_01.h5", "rgb/rgb_00000.jpg")
    camera = load_infos(_write(tmp_path / "a.pkl", [info])).frames[0].cameras["Camera_01"]
    assert camera.data_path == ("A/videos/Camera_01.h5", "rgb/rgb_00000.jpg")
    assert camera.image_path is None


def test_frames_without_annotations_have_no_ground_truth(tmp_path: Path) -> None:
    frames = load_infos(_write(tmp_path / "a.pkl", [_info("A", 0, gt_boxes=None), _info("A", 1)])).frames
    assert not frames[0].has_ground_truth and frames[0].gt_boxes.shape == (0, 7)
    assert frames[1].has_ground_truth


def test_malformed_frames_and_cameras_become_warnings(tmp_path: Path) -> None:
    no_intrinsic = _info("A", 1)
    del no_intrinsic["cams"]["Camera_01"]["cam_intrinsic"]
    three_by_four = _info("A", 2)
    three_by_four["cams"]["Camera_01"]["sensor2world_transform"] = np.eye(4)[:3]
    names_mismatch = _info("A", 3, gt_names=np.array(["Person"]))
    infos = load_infos(
        _write(
            tmp_path / "a.pkl",
            [
                _info("A", 0),
                "junk",
                {"no": "token"},
                no_intrinsic,
                three_by_four,
                names_mismatch,
                _info("A", 0),
            ],
        )
    )
    assert [frame.frame_idx for frame in infos.frames] == [0, 1, 2, 3]
    assert infos.frames[1].cameras == {}
    np.testing.assert_array_equal(infos.frames[2].cameras["Camera_01"].world_to_camera, np.eye(4))
    assert not infos.frames[3].has_ground_truth
    text = "\n".join(infos.warnings)
    assert "infos[1]: expected a dict" in text
    assert "infos[2]: no 'token'" in text
    assert "A__000000001: camera Camera_01 has no usable cam_intrinsic" in text
    assert "A__000000003: gt_names does not match the 2 gt_boxes" in text
    assert "A__000000000 appears more than once" in text


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


def test_one_refused_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.pkl", [_info("A", 0)])
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"infos": [_Payload()]}))
    infos = load_infos([good, evil])
    assert len(infos.frames) == 1
    assert any("evil.pkl" in warning and "posix.system" in warning for warning in infos.warnings)
    with pytest.raises(InfosError, match=r"evil\.pkl: nothing usable.*refused"):
        load_infos(evil)


def test_infos_load_from_bytes_with_a_name(tmp_path: Path) -> None:
    data = pickle.dumps([_info("A", 0)])
    infos = load_infos([data], ["sftp://host/results/A_infos_.pkl"])
    assert infos.sources == ["sftp://host/results/A_infos_.pkl"] and len(infos.frames) == 1


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("Warehouse_014+bev-sensor-random-0__000000123", ("Warehouse_014+bev-sensor-random-0", 123)),
        ("scene__a__000000007", ("scene__a", 7)),
        ("plain-token", ("plain-token", None)),
        ("scene__12x", ("scene__12x", None)),
    ],
)
def test_split_token(token: str, expected: tuple[str, int | None]) -> None:
    assert split_token(token) == expected


def test_container_paths_are_found_under_a_mapped_root(tmp_path: Path) -> None:
    image = tmp_path / "mirror" / "A" / "Camera_01" / "rgb" / "000000000.jpg"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"jpg")
    camera = load_infos(_write(tmp_path / "a.pkl", [_info("A", 0)])).frames[0].cameras["Camera_01"]
    assert resolve_image_path(camera, [tmp_path / "elsewhere", tmp_path / "mirror"]) == image
    assert resolve_image_path(camera, [tmp_path / "elsewhere"]) is None
