"""`annotations convert`: AICity (MTMC 2025) scenes -> OVPKL infos per sub-scene, object ids and anchors.

Writes, in results_dir: `<split>/<scene>[+<group>]_infos_<split>.pkl`, `map_object_hash_to_object_id.json`
and the anchor file named by `aicity.anchor_init_config.output_file_name`. RGB frames are not extracted
from the videos (the stand-in has no video decoder); `data_path` names where they would be.
"""

from __future__ import annotations

import json
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError, require
from ..runtime import TaskContext
from .anchors import anchor_init

FPS = 30
RANDOM_GROUPS = 3
RANDOM_GROUP_SIZE = (5, 10)


@dataclass
class _Camera:
    name: str
    intrinsic: np.ndarray
    world_to_camera: np.ndarray


@dataclass
class _Classes:
    names: list[str]
    sub_classes: dict[str, str]

    def map(self, object_type: str) -> str | None:
        name = self.sub_classes.get(object_type, object_type)
        return name if name in self.names else None


def convert(context: TaskContext) -> None:
    """Convert every scene of every split in aicity.split."""
    input_format = str(context.get("data.input_format", "AICity"))
    output_format = str(context.get("data.output_format", "OVPKL"))
    if input_format.lower() != "aicity" or output_format.upper() != "OVPKL":
        raise NotImplementedError(f"conversion from {input_format} to {output_format} is not supported")
    version = str(context.get("aicity.version", "2025"))
    if version != "2025":
        raise NotImplementedError(f"AICity version {version} is not supported (only 2025)")
    root = Path(str(require(context.cfg, "aicity.root")))
    if not root.is_dir():
        raise FileNotFoundError(f"aicity.root {root} does not exist")
    classes = _Classes(
        list(
            context.get(
                "aicity.class_config.CLASS_LIST", ["Person", "FourierGR1T2", "AgilityDigit", "Transporter"]
            )
        ),
        dict(context.get("aicity.class_config.SUB_CLASS_DICT", {}) or {}),
    )
    splits = [part.strip() for part in str(context.get("aicity.split", "train")).split(",")]
    num_frames = int(context.get("aicity.num_frames", -1))
    object_ids: dict[str, int] = {}
    train_boxes: list[np.ndarray] = []
    for split in splits:
        split_dir = root / split if split else root
        scenes = (
            sorted(path for path in split_dir.iterdir() if (path / "calibration.json").is_file())
            if split_dir.is_dir()
            else []
        )
        if not scenes:
            raise FileNotFoundError(f"no scenes with a calibration.json in {split_dir}")
        for scene_dir in scenes:
            written = _convert_scene(context, scene_dir, split, classes, num_frames, object_ids)
            if split == "train":
                train_boxes.extend(
                    info["gt_boxes"] for infos in written for info in infos if "gt_boxes" in info
                )
    _write_object_ids(context.results_dir, object_ids)
    if "train" in splits:
        _write_anchors(context, train_boxes)


def _convert_scene(
    context: TaskContext,
    scene_dir: Path,
    split: str,
    classes: _Classes,
    num_frames: int,
    object_ids: dict[str, int],
) -> list[list[dict[str, Any]]]:
    cameras = _load_calibration(scene_dir / "calibration.json")
    ground_truth = _load_ground_truth(scene_dir / "ground_truth.json")
    frames = (
        sorted(int(frame) for frame in ground_truth)
        if ground_truth is not None
        else list(range(_frame_count(scene_dir, cameras)))
    )
    if num_frames > 0:
        frames = frames[:num_frames]
    recentre = bool(context.get("aicity.recentering", True))
    output_dir = context.results_dir / split if split else context.results_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group_name, group in _camera_groups(context, scene_dir.name, cameras):
        sub_scene = f"{scene_dir.name}+{group_name}" if group_name else scene_dir.name
        offset = _group_centre(group) if recentre else np.zeros(3)
        infos = []
        previous: dict[int, np.ndarray] = {}
        for frame in frames:
            info = _frame_info(context, scene_dir, sub_scene, group_name, group, frame, offset)
            if ground_truth is not None:
                previous = _add_annotations(
                    info, ground_truth.get(str(frame), []), classes, offset, previous, object_ids
                )
            infos.append(info)
        path = output_dir / f"{sub_scene}_infos_{split}.pkl"
        with open(path, "wb") as stream:
            pickle.dump(
                {"metadata": {"version": "2025", "split_type": split}, "infos": infos}, stream, protocol=4
            )
        written.append(infos)
        message = f"Saved {len(infos)} frames of {sub_scene} ({len(group)} cameras) to {path}"
        print(message, flush=True)
        context.status.write(message)
    return written


def _load_calibration(path: Path) -> list[_Camera]:
    with open(path, encoding="utf-8") as stream:
        calibration = json.load(stream)
    cameras = []
    for sensor in calibration.get("sensors", []):
        if sensor.get("type") != "camera":
            continue
        try:
            intrinsic = np.asarray(sensor["intrinsicMatrix"], dtype=np.float64).reshape(3, 3)
            extrinsic = np.asarray(sensor["extrinsicMatrix"], dtype=np.float64)
        except (KeyError, ValueError) as error:
            raise ConfigError(
                f"{path}: camera {sensor.get('id')} has no usable intrinsic/extrinsic matrix"
            ) from error
        world_to_camera = np.eye(4)
        world_to_camera[: extrinsic.shape[0], :] = extrinsic.reshape(-1, 4)[:4]
        cameras.append(_Camera(str(sensor["id"]), intrinsic, world_to_camera))
    if not cameras:
        raise ConfigError(f"{path} lists no cameras")
    return cameras


def _load_ground_truth(path: Path) -> dict[str, list[dict[str, Any]]] | None:
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as stream:
        content = json.load(stream)
    if not isinstance(content, dict):
        raise ValueError(f"{path} must map frame numbers to lists of objects")
    return content


def _frame_count(scene_dir: Path, cameras: list[_Camera]) -> int:
    import h5py  # only needed for scenes without ground truth

    path = scene_dir / "depth_maps" / f"{cameras[0].name}.h5"
    if not path.is_file():
        raise FileNotFoundError(f"{scene_dir} has neither ground_truth.json nor {path} to count frames")
    with h5py.File(path, "r") as store:
        return len(store.keys())


def _camera_groups(
    context: TaskContext, scene: str, cameras: list[_Camera]
) -> list[tuple[str, list[_Camera]]]:
    modes = [mode.strip() for mode in str(context.get("aicity.camera_grouping_mode", "") or "").split(",")]
    modes = [mode for mode in modes if mode]
    if not modes:
        return [("", cameras)]
    groups: list[tuple[str, list[_Camera]]] = []
    rng = np.random.default_rng(zlib.crc32(scene.encode()))
    for mode in modes:
        if mode == "random":
            low = min(RANDOM_GROUP_SIZE[0], max(1, len(cameras) - 1))
            high = min(RANDOM_GROUP_SIZE[1], len(cameras))
            for index in range(RANDOM_GROUPS):
                size = int(rng.integers(low, high + 1))
                chosen = sorted(rng.choice(len(cameras), size=size, replace=False))
                groups.append((f"bev-sensor-random-{index}", [cameras[i] for i in chosen]))
        elif mode == "training":
            groups.append(("bev-sensor-training-0", list(cameras)))
        else:
            raise NotImplementedError(f"camera_grouping_mode '{mode}' is not supported (random, training)")
    return groups


def _group_centre(group: list[_Camera]) -> np.ndarray:
    positions = [np.linalg.inv(camera.world_to_camera)[:3, 3] for camera in group]
    centre = np.mean(positions, axis=0)
    return np.array([centre[0], centre[1], 0.0])


def _frame_info(
    context: TaskContext,
    scene_dir: Path,
    sub_scene: str,
    group_name: str,
    group: list[_Camera],
    frame: int,
    offset: np.ndarray,
) -> dict[str, Any]:
    token = f"{sub_scene}__{frame:09}"
    rgb_format = str(context.get("aicity.rgb_format", "mp4"))
    shift = np.eye(4)
    shift[:3, 3] = offset
    cams = {}
    for camera in group:
        if rgb_format == "h5":
            data_path: Any = (str(scene_dir / "videos" / f"{camera.name}.h5"), f"rgb/rgb_{frame:05d}.jpg")
        else:
            data_path = str(scene_dir / camera.name / "rgb" / f"rgb_{frame:05d}.jpg")
        cams[camera.name] = {
            "data_path": data_path,
            "depth_map_path": _depth_path(context, scene_dir, camera.name, frame),
            "sample_data_token": f"{token}+{camera.name}",
            "cam_intrinsic": camera.intrinsic.copy(),
            "sensor2world_transform": camera.world_to_camera @ shift,
        }
    info: dict[str, Any] = {"frame_idx": frame, "scene_name": sub_scene}
    if group_name:
        info["group_name"] = group_name
    info.update({"timestamp": frame / FPS, "token": token, "cams": cams})
    return info


def _depth_path(context: TaskContext, scene_dir: Path, camera: str, frame: int) -> Any:
    scene = scene_dir.name
    depth_format = str(context.get("aicity.depth_format", "h5"))
    if depth_format != "h5":
        return (
            f"{scene}/{camera}/distance_to_image_plane_png/distance_to_image_plane_{frame:05d}.{depth_format}"
        )
    if (scene_dir / "depth_maps").is_dir():
        return (f"{scene}/depth_maps/{camera}.h5", f"distance_to_image_plane_{frame:05d}.png")
    return (f"{scene}/{camera}", f"distance_to_image_plane_png/distance_to_image_plane_{frame:05d}.png")


def _add_annotations(
    info: dict[str, Any],
    objects: list[dict[str, Any]],
    classes: _Classes,
    offset: np.ndarray,
    previous: dict[int, np.ndarray],
    object_ids: dict[str, int],
) -> dict[int, np.ndarray]:
    boxes, names, instances, assets, velocities, visibility = [], [], [], [], [], []
    current: dict[int, np.ndarray] = {}
    for item in objects:
        name = classes.map(str(item.get("object type", "")))
        if name is None:
            continue
        instance = int(item["object id"])
        location = np.asarray(item["3d location"], dtype=np.float64) - offset
        scale = np.asarray(item["3d bounding box scale"], dtype=np.float64)
        rotation = np.asarray(item["3d bounding box rotation"], dtype=np.float64)
        velocity = (location - previous[instance]) * FPS if instance in previous else np.zeros(3)
        assert np.all(np.abs(velocity) <= 5), f"object {instance} moves faster than 5 m/s at {info['token']}"
        asset = str(item.get("object name", f"{name}_{instance}"))
        current[instance] = location
        boxes.append([*location, *scale, -rotation[2]])
        names.append(name)
        instances.append(instance)
        assets.append(object_ids.setdefault(asset, len(object_ids)))
        velocities.append(velocity)
        if "2d bounding box" in item and "2d bounding box visible" in item:
            visibility.append(
                _visibility(item["2d bounding box"], item["2d bounding box visible"], info["cams"])
            )
    info["instance_inds"] = np.asarray(instances, dtype=np.int64)
    info["asset_inds"] = np.asarray(assets, dtype=np.int64)
    info["gt_boxes"] = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    info["gt_names"] = np.asarray(names, dtype=str)
    info["gt_velocity"] = np.asarray(velocities, dtype=np.float64).reshape(-1, 3)
    info["valid_flag"] = np.ones(len(boxes), dtype=bool)
    if visibility:
        info["gt_visibility"] = visibility
    return current


def _visibility(
    full: dict[str, list[float]], visible: dict[str, list[float]], cams: dict[str, Any]
) -> dict[str, float]:
    def area(box: list[float]) -> float:
        return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])

    return {
        camera: (
            area(visible[camera]) / area(full[camera])
            if camera in visible and area(full[camera]) > 0
            else 0.0
        )
        for camera in cams
        if camera in full
    }


def _write_object_ids(results_dir: Path, object_ids: dict[str, int]) -> None:
    content = {
        "no_of_objects": len(object_ids),
        "max_object_id": max(object_ids.values(), default=-1),
        "objects": object_ids,
    }
    (results_dir / "map_object_hash_to_object_id.json").write_text(
        json.dumps(content, indent=2), encoding="utf-8"
    )


def _write_anchors(context: TaskContext, boxes: list[np.ndarray]) -> None:
    num_anchor = int(context.get("aicity.anchor_init_config.num_anchor", 900))
    if num_anchor <= 0:
        return
    name = str(context.get("aicity.anchor_init_config.output_file_name", "anchor_init.npy"))
    all_boxes = np.concatenate(boxes, axis=0) if boxes else np.zeros((0, 7))
    anchors = anchor_init(
        all_boxes,
        num_anchor,
        float(context.get("aicity.anchor_init_config.detection_range", -1)),
        float(context.get("aicity.anchor_init_config.sample_ratio", -1)),
    )
    if anchors is None:
        print("WARNING: no ground-truth boxes in the train split; no anchor file written", flush=True)
        context.status.write("No ground-truth boxes for anchor initialisation.", verbosity="WARNING")
        return
    path = context.results_dir / name
    np.save(path, anchors)
    message = f"Saved {len(anchors)} anchors (k-means on {len(all_boxes)} boxes) to {path}"
    print(message, flush=True)
    context.status.write(message)
