"""Tiny synthetic AICity (MTMC 2025) scenes: the raw layout that `annotations convert` reads.

    <root>/<split>/<scene>/calibration.json
        {"sensors": [{id, type: "camera", intrinsicMatrix (3x3), extrinsicMatrix (4x4), width, height}]}
    <root>/<split>/<scene>/ground_truth.json
        {"<frame>": [{"object type", "object id", "object name", "3d location", "3d bounding box scale",
                      "3d bounding box rotation", "2d bounding box", "2d bounding box visible"}]}
    <root>/<split>/<scene>/videos/<camera>.mp4
        a placeholder (an MP4 header, no frames)
    <root>/<split>/<scene>/depth_maps/<camera>.h5
        "distance_to_image_plane_%05d.png" -> uint16 depth in mm

Objects (Person, Transporter) move on straight lines at walking pace; the last one enters late.
Cameras stand on a circle around the scene centre and look at it. Usable from tests
(`make_aicity_root`) and from the command line:

    python -m tests.standin.make_scenes OUT_ROOT --scenes 2 --cameras 3 --frames 30
"""

from __future__ import annotations

import argparse
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

FPS = 30
IMAGE_WIDTH, IMAGE_HEIGHT = 1920, 1080
FOCAL_LENGTH = 1000.0
CLASS_SIZES = {"Person": (0.6, 0.6, 1.8), "Transporter": (1.4, 0.9, 0.45)}
DEPTH_KEY = "distance_to_image_plane_{:05d}.png"


@dataclass
class AICityRoot:
    """A generated dataset root and what is in it."""

    root: Path
    splits: list[str]
    scenes: list[str]
    cameras: list[str]
    frames: int
    objects_per_scene: dict[str, int] = field(default_factory=dict)

    def scene_dir(self, split: str, scene: str) -> Path:
        """`<root>/<split>/<scene>`."""
        return self.root / split / scene


def make_aicity_root(
    path: Path | str,
    scenes: int = 2,
    cameras: int = 3,
    frames: int = 30,
    objects: int = 4,
    splits: tuple[str, ...] = ("train",),
    seed: int = 0,
    depth_shape: tuple[int, int] = (27, 48),
) -> AICityRoot:
    """Write `scenes` scenes per split; returns the root with scene and camera names."""
    root = Path(path)
    camera_names = [f"Camera_{index:04d}" for index in range(cameras)]
    scene_names = [f"Warehouse_{index:03d}" for index in range(scenes)]
    counts: dict[str, int] = {}
    for split_index, split in enumerate(splits):
        for scene_index, scene in enumerate(scene_names):
            rng = np.random.default_rng([seed, split_index, scene_index])
            scene_dir = root / split / scene
            centre = np.array([scene_index * 30.0, 5.0, 0.0])
            sensors = [_camera(name, index, cameras, centre) for index, name in enumerate(camera_names)]
            _write_json(scene_dir / "calibration.json", {"sensors": [sensor.as_json() for sensor in sensors]})
            tracks = _tracks(rng, objects, frames, centre, scene_index)
            counts[scene] = len(tracks)
            _write_json(scene_dir / "ground_truth.json", _ground_truth(tracks, frames, sensors))
            for sensor in sensors:
                _write_placeholder_video(scene_dir / "videos" / f"{sensor.name}.mp4")
                _write_depth(scene_dir / "depth_maps" / f"{sensor.name}.h5", sensor, frames, depth_shape)
    return AICityRoot(root, list(splits), scene_names, camera_names, frames, counts)


@dataclass
class _Camera:
    name: str
    intrinsic: np.ndarray
    world_to_camera: np.ndarray

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.name,
            "type": "camera",
            "intrinsicMatrix": self.intrinsic.round(6).tolist(),
            "extrinsicMatrix": self.world_to_camera.round(6).tolist(),
            "width": IMAGE_WIDTH,
            "height": IMAGE_HEIGHT,
        }

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (n, 2) and depth (n,) of world points (n, 3)."""
        homogeneous = np.column_stack([points, np.ones(len(points))])
        in_camera = (self.world_to_camera @ homogeneous.T).T[:, :3]
        pixels = (self.intrinsic @ in_camera.T).T
        depth = in_camera[:, 2]
        return pixels[:, :2] / np.maximum(depth[:, None], 1e-6), depth


def _camera(name: str, index: int, count: int, centre: np.ndarray) -> _Camera:
    angle = 2 * np.pi * index / count
    position = centre + np.array([12.0 * np.cos(angle), 12.0 * np.sin(angle), 4.0])
    forward = centre - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = rotation
    world_to_camera[:3, 3] = -rotation @ position
    intrinsic = np.array([[FOCAL_LENGTH, 0, IMAGE_WIDTH / 2], [0, FOCAL_LENGTH, IMAGE_HEIGHT / 2], [0, 0, 1]])
    return _Camera(name, intrinsic, world_to_camera)


@dataclass
class _Track:
    object_type: str
    object_id: int
    name: str
    start: np.ndarray
    velocity: np.ndarray
    first_frame: int

    def location(self, frame: int) -> np.ndarray:
        size = CLASS_SIZES[self.object_type]
        position = self.start + self.velocity * (frame / FPS)
        return np.array([position[0], position[1], size[2] / 2])


def _tracks(
    rng: np.random.Generator, count: int, frames: int, centre: np.ndarray, scene_index: int
) -> list[_Track]:
    tracks = []
    for index in range(count):
        object_type = "Transporter" if index % 3 == 2 else "Person"
        heading = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(0.6, 1.5)
        start = centre[:2] + rng.uniform(-5.0, 5.0, size=2)
        velocity = speed * np.array([np.cos(heading), np.sin(heading)])
        first_frame = frames // 3 if index == count - 1 and count > 1 else 0
        name = f"{object_type.lower()}_{scene_index:02d}_{index:02d}"
        tracks.append(_Track(object_type, index + 1, name, start, velocity, first_frame))
    return tracks


def _ground_truth(
    tracks: list[_Track], frames: int, cameras: list[_Camera]
) -> dict[str, list[dict[str, object]]]:
    ground_truth: dict[str, list[dict[str, object]]] = {}
    for frame in range(frames):
        entries = []
        for track in tracks:
            if frame < track.first_frame:
                continue
            location = track.location(frame)
            size = CLASS_SIZES[track.object_type]
            yaw = float(np.arctan2(track.velocity[1], track.velocity[0]))
            full, visible = _boxes_2d(location, size, yaw, cameras)
            entries.append(
                {
                    "object type": track.object_type,
                    "object id": track.object_id,
                    "object name": track.name,
                    "3d location": [round(float(v), 4) for v in location],
                    "3d bounding box scale": list(size),
                    "3d bounding box rotation": [0.0, 0.0, round(yaw, 5)],
                    "2d bounding box": full,
                    "2d bounding box visible": visible,
                }
            )
        ground_truth[str(frame)] = entries
    return ground_truth


def _boxes_2d(
    location: np.ndarray, size: tuple[float, float, float], yaw: float, cameras: list[_Camera]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float)
    local = signs * np.array(size) / 2
    rotation = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    corners = local @ rotation.T + location
    full: dict[str, list[float]] = {}
    visible: dict[str, list[float]] = {}
    for camera in cameras:
        pixels, depth = camera.project(corners)
        if (depth <= 0.1).any():
            continue
        box = [
            float(pixels[:, 0].min()),
            float(pixels[:, 1].min()),
            float(pixels[:, 0].max()),
            float(pixels[:, 1].max()),
        ]
        clipped = [max(box[0], 0.0), max(box[1], 0.0), min(box[2], IMAGE_WIDTH), min(box[3], IMAGE_HEIGHT)]
        if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
            continue
        full[camera.name] = [round(v, 2) for v in box]
        visible[camera.name] = [round(v, 2) for v in clipped]
    return full, visible


def _write_depth(path: Path, camera: _Camera, frames: int, shape: tuple[int, int]) -> None:
    """Distance to the image plane of the ground (z = 0), in mm, at a reduced resolution."""
    rows, cols = shape
    u = (np.arange(cols) + 0.5) * IMAGE_WIDTH / cols
    v = (np.arange(rows) + 0.5) * IMAGE_HEIGHT / rows
    grid_u, grid_v = np.meshgrid(u, v)
    rays = np.linalg.inv(camera.intrinsic) @ np.stack([grid_u.ravel(), grid_v.ravel(), np.ones(grid_u.size)])
    camera_to_world = np.linalg.inv(camera.world_to_camera)
    origin = camera_to_world[:3, 3]
    directions = camera_to_world[:3, :3] @ rays
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.where(directions[2] < -1e-6, -origin[2] / directions[2], 65.0)
    depth_mm = np.clip(distance * 1000.0, 0, 65535).astype(np.uint16).reshape(rows, cols)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as store:
        for frame in range(frames):
            store.create_dataset(DEPTH_KEY.format(frame), data=depth_mm)


def _write_placeholder_video(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    brands = b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"
    path.write_bytes(struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + struct.pack(">I", 8) + b"mdat")


def _write_json(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line front end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--scenes", type=int, default=2)
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--objects", type=int, default=4)
    parser.add_argument("--splits", default="train", help="comma-separated, e.g. train,val")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    made = make_aicity_root(
        args.root,
        args.scenes,
        args.cameras,
        args.frames,
        args.objects,
        tuple(args.splits.split(",")),
        args.seed,
    )
    print(f"wrote {made.root}: splits {made.splits}, scenes {made.scenes}, cameras {made.cameras}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
