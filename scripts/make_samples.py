"""Generate the small synthetic TAO outputs shipped in resources/samples, for trying both viewers
without Docker or a GPU.

Regenerate (deterministic: seeded, so the same files come out every time):

    .venv/bin/python scripts/make_samples.py            # writes resources/samples/
    .venv/bin/python scripts/make_samples.py --out DIR  # writes somewhere else

What it writes, in TAO's formats (see app/core/results for the readers):
- sparse4d/: ``results_nusc.json`` (one sub-scene, 60 frames, ten moving tracks with identity
  switches, misses and false positives), the converted infos pickle with ground truth and 4 cameras,
  the camera images (320x180 palette PNGs drawn with numpy) and ``metrics_summary.json`` (nuScenes
  detection summary computed from the sample itself).
- pose/: ``test_data.npy`` (N, 3, T, 34, 1) float32 in the nvidia layout, ``test_label.pkl``,
  ``results.txt`` (inference output, about 80 % correct) and ``label_map.yaml``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.results.projection import box_corners, project_points

SEED = 20250611
SCENE = "Warehouse_Sample+bev-sensor-random-0"
FPS = 30.0
FRAME_STEP = 3  # every third video frame, so the 60 frames span 6 s
NUM_FRAMES = 60
IMAGE_SIZE = (320, 180)
CLASSES = {  # name: (extent along heading, width, height), speed m/s
    "person": ((0.45, 0.6, 1.75), 1.3),
    "gr1_t2": ((0.45, 0.65, 1.65), 0.9),
    "agility_digit": ((0.5, 0.7, 1.75), 1.0),
    "nova_carter": ((0.75, 0.5, 0.45), 1.6),
}
OBJECT_CLASSES = ["person"] * 6 + ["gr1_t2", "agility_digit", "nova_carter", "nova_carter"]
POSE_CLASSES = ["sitting_down", "getting_up", "sitting", "standing", "walking", "jumping"]
POSE_SEQUENCES, POSE_FRAMES = 90, 30


# ----------------------------------------------------------------------------- scene and tracks


def simulate_objects(rng: np.random.Generator) -> list[dict[str, np.ndarray | str | int]]:
    """Ground-truth trajectories: smooth wandering inside a 20 m square, yaw along the motion."""
    times = np.arange(NUM_FRAMES) * FRAME_STEP / FPS
    objects = []
    for index, name in enumerate(OBJECT_CLASSES):
        extents, speed = CLASSES[name]
        position = rng.uniform(-7, 7, size=2)
        heading = rng.uniform(-np.pi, np.pi)
        turn_rate = rng.uniform(-0.5, 0.5)
        positions, headings = [], []
        for _ in range(NUM_FRAMES):
            to_centre = np.arctan2(-position[1], -position[0])
            if np.linalg.norm(position) > 8:
                heading += 0.3 * np.sin(to_centre - heading)
            heading += turn_rate * FRAME_STEP / FPS + rng.normal(0, 0.03)
            position = position + speed * FRAME_STEP / FPS * np.array([np.cos(heading), np.sin(heading)])
            positions.append(position.copy())
            headings.append(heading)
        xy = np.array(positions)
        centers = np.column_stack([xy, np.full(NUM_FRAMES, extents[2] / 2)])
        velocity = np.gradient(centers, times, axis=0)
        objects.append(
            {
                "name": name,
                "instance": 101 + index,
                "centers": centers,
                "yaws": np.angle(np.exp(1j * np.array(headings))),
                "extents": np.array(extents),
                "velocity": velocity,
            }
        )
    return objects


def frame_token(step: int) -> str:
    """The infos/results token of the step-th sampled frame."""
    return f"{SCENE}__{step * FRAME_STEP:09d}"


def make_predictions(objects: list[dict], rng: np.random.Generator) -> dict[str, list[dict]]:
    """Noisy detections with track ids: a few misses, two track-id changes, some false positives."""
    switch_at = {2: 28, 5: 41}  # object index -> step where its track id changes
    results: dict[str, list[dict]] = {}
    next_false_id = 900
    for step in range(NUM_FRAMES):
        token = frame_token(step)
        boxes = []
        for index, obj in enumerate(objects):
            if rng.random() < 0.05:
                continue
            track_id = obj["instance"] + (500 if step >= switch_at.get(index, NUM_FRAMES) else 0)
            center = obj["centers"][step] + rng.normal(0, [0.12, 0.12, 0.03])
            extents = obj["extents"] * rng.normal(1, 0.04, size=3)
            yaw = obj["yaws"][step] + rng.normal(0, 0.08)
            velocity = obj["velocity"][step, :2] + rng.normal(0, 0.1, size=2)
            boxes.append(
                _nusc_box(
                    token, obj["name"], center, extents, yaw, velocity, rng.uniform(0.55, 0.95), track_id
                )
            )
        if rng.random() < 0.25:
            name = str(rng.choice(list(CLASSES)))
            center = np.array([*rng.uniform(-9, 9, size=2), CLASSES[name][0][2] / 2])
            boxes.append(
                _nusc_box(
                    token,
                    name,
                    center,
                    np.array(CLASSES[name][0]),
                    0.0,
                    np.zeros(2),
                    rng.uniform(0.22, 0.45),
                    next_false_id,
                )
            )
            next_false_id += 1
        results[token] = boxes
    return results


def _nusc_box(
    token: str,
    name: str,
    center: np.ndarray,
    extents: np.ndarray,
    yaw: float,
    velocity: np.ndarray,
    score: float,
    track_id: int,
) -> dict:
    rounded = lambda values: [round(float(v), 4) for v in values]  # noqa: E731
    return {
        "sample_token": token,
        "translation": rounded(center),
        "size": rounded(extents[[1, 0, 2]]),
        "rotation": rounded([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]),
        "velocity": rounded(velocity),
        "detection_name": name,
        "detection_score": round(float(score), 4),
        "attribute_name": f"{name}.moving",
        "tracking_name": name,
        "tracking_score": round(float(score), 4),
        "tracking_id": str(track_id),
    }


# ----------------------------------------------------------------------------- cameras and images


def make_cameras() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Four cameras at the corners of the area, 6.5 m up, looking across it: K, world->camera, position."""
    width, height = IMAGE_SIZE
    intrinsic = np.array([[160.0, 0.0, width / 2], [0.0, 160.0, height / 2], [0.0, 0.0, 1.0]])
    cameras = {}
    for number, (x, y) in enumerate([(10, 10), (-10, 10), (-10, -10), (10, -10)], start=1):
        position = np.array([x, y, 6.5])
        forward = np.array([-0.1 * x, -0.1 * y, 0.0]) - position
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        world_to_camera = np.eye(4)
        world_to_camera[:3, :3] = np.stack([right, down, forward])
        world_to_camera[:3, 3] = -world_to_camera[:3, :3] @ position
        cameras[f"Camera_{number:02d}"] = (intrinsic, world_to_camera, position)
    return cameras


PALETTE: list[tuple[int, ...]] = [(40, 44, 52), (150, 150, 142), (96, 96, 90)]  # backdrop, floor, grid
CLASS_SHADES = {
    "person": (220, 90, 70),
    "gr1_t2": (80, 160, 220),
    "agility_digit": (230, 190, 60),
    "nova_carter": (120, 200, 110),
}
for _shade in CLASS_SHADES.values():
    PALETTE += [tuple(int(c * f) for c in _shade) for f in (1.0, 0.75, 0.55)]
FACES = ((4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7))  # top, then sides


def floor_image(intrinsic: np.ndarray, world_to_camera: np.ndarray) -> np.ndarray:
    """Palette indices of the empty scene: a floor (z=0) with a 2 m grid inside 24 m, dark beyond."""
    width, height = IMAGE_SIZE
    u, v = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    rays_camera = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(intrinsic).T
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    rays_world = rays_camera @ rotation
    origin = -rotation.T @ translation
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = -origin[2] / rays_world[..., 2]
    hits = origin[:2] + distance[..., None] * rays_world[..., :2]
    on_floor = (distance > 0) & (np.abs(hits).max(axis=-1) < 12)
    line = np.min(np.abs(hits - np.round(hits / 2) * 2), axis=-1) < 0.04
    image = np.zeros((height, width), dtype=np.uint8)
    image[on_floor] = 1
    image[on_floor & line] = 2
    return image


def fill_polygon(image: np.ndarray, polygon: np.ndarray, colour: int) -> None:
    """Fill a convex polygon (k, 2) of pixel coordinates with a palette index."""
    height, width = image.shape
    low = np.clip(np.floor(polygon.min(axis=0)).astype(int), 0, [width, height])
    high = np.clip(np.ceil(polygon.max(axis=0)).astype(int), 0, [width, height])
    if (high <= low).any():
        return
    u, v = np.meshgrid(np.arange(low[0], high[0]) + 0.5, np.arange(low[1], high[1]) + 0.5)
    edges = np.roll(polygon, -1, axis=0) - polygon
    cross = edges[:, 0, None, None] * (v - polygon[:, 1, None, None]) - edges[:, 1, None, None] * (
        u - polygon[:, 0, None, None]
    )
    inside = np.all(cross >= 0, axis=0) | np.all(cross <= 0, axis=0)
    image[low[1] : high[1], low[0] : high[0]][inside] = colour


def render_frame(background: np.ndarray, camera: tuple, objects: list[dict], step: int) -> np.ndarray:
    """The background with every ground-truth object drawn as a shaded box, far ones first."""
    intrinsic, world_to_camera, position = camera
    image = background.copy()
    order = sorted(objects, key=lambda o: -np.linalg.norm(o["centers"][step] - position))
    for obj in order:
        corners = box_corners(obj["centers"][step], obj["extents"], obj["yaws"][step])[0]
        uv, depth = project_points(corners, intrinsic, world_to_camera)
        if (depth <= 0.1).any():
            continue
        base = 3 + 3 * list(CLASS_SHADES).index(obj["name"])
        for face_number, face in enumerate(FACES):
            face_corners = corners[list(face)]
            normal = np.cross(face_corners[1] - face_corners[0], face_corners[2] - face_corners[0])
            if np.dot(normal, position - face_corners.mean(axis=0)) <= 0:
                continue
            fill_polygon(image, uv[list(face)], base + (0 if face_number == 0 else 1 + face_number % 2))
    return image


def png_bytes(indices: np.ndarray, palette: list[tuple[int, ...]]) -> bytes:
    """A 4-bit palette PNG (at most 16 colours, even width), written with zlib and struct."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    height, width = indices.shape
    header = struct.pack(">IIBBBBB", width, height, 4, 3, 0, 0, 0)
    packed = (indices[:, 0::2] << 4) | indices[:, 1::2]
    raw = b"".join(b"\x00" + packed[row].tobytes() for row in range(height))
    plte = b"".join(bytes(colour) for colour in palette)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", plte)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------------------- infos and metrics


def make_infos(objects: list[dict], cameras: dict) -> dict:
    """The converted infos pickle content (TAO_FACTS 2.5), image paths relative to the pickle."""
    infos = []
    for step in range(NUM_FRAMES):
        frame_id = step * FRAME_STEP
        token = frame_token(step)
        cams = {
            name: {
                "data_path": f"images/{name}/{frame_id:09d}.png",
                "depth_map_path": (
                    "Warehouse_Sample/depth_maps/" + f"{name}.h5",
                    f"distance_to_image_plane_{frame_id:05d}.png",
                ),
                "sample_data_token": f"{token}+{name}",
                "cam_intrinsic": intrinsic,
                "sensor2world_transform": world_to_camera,
            }
            for name, (intrinsic, world_to_camera, _) in cameras.items()
        }
        gt_boxes = np.array([[*o["centers"][step], *o["extents"], o["yaws"][step]] for o in objects])
        infos.append(
            {
                "frame_idx": frame_id,
                "scene_name": SCENE,
                "group_name": "bev-sensor-random-0",
                "timestamp": frame_id / FPS,
                "token": token,
                "cams": cams,
                "instance_inds": np.array([o["instance"] for o in objects]),
                "asset_inds": np.arange(len(objects)),
                "gt_boxes": gt_boxes,
                "gt_names": np.array([o["name"] for o in objects]),
                "gt_velocity": np.array([o["velocity"][step] for o in objects]),
                "valid_flag": np.ones(len(objects), dtype=bool),
            }
        )
    return {"metadata": {"version": "2025", "split_type": "val"}, "infos": infos}


def detection_summary(objects: list[dict], results: dict[str, list[dict]]) -> dict:
    """A nuScenes-style detection summary (AP at 0.5/1/2/4 m, TP errors at 2 m, NDS) for the sample."""
    label_aps: dict[str, dict[str, float]] = {}
    label_errors: dict[str, dict[str, float]] = {}
    for name in CLASSES:
        gt = [(step, o) for step in range(NUM_FRAMES) for o in objects if o["name"] == name]
        dets = [
            (step, box)
            for step in range(NUM_FRAMES)
            for box in results[frame_token(step)]
            if box["detection_name"] == name
        ]
        dets.sort(key=lambda item: -item[1]["detection_score"])
        label_aps[name] = {}
        for threshold in (0.5, 1.0, 2.0, 4.0):
            hits, errors = _greedy_hits(gt, dets, threshold)
            label_aps[name][str(threshold)] = _average_precision(hits, len(gt))
            if threshold == 2.0:
                label_errors[name] = {
                    key: float(np.mean(values)) if values else 1.0 for key, values in errors.items()
                }
    mean_dist_aps = {name: float(np.mean(list(aps.values()))) for name, aps in label_aps.items()}
    mean_ap = float(np.mean(list(mean_dist_aps.values())))
    tp_errors = {
        key: float(np.mean([errors[key] for errors in label_errors.values()]))
        for key in next(iter(label_errors.values()))
    }
    tp_scores = {key: max(0.0, 1.0 - value) for key, value in tp_errors.items()}
    nd_score = (5 * mean_ap + sum(tp_scores.values())) / (5 + len(tp_scores))
    return {
        "label_aps": label_aps,
        "mean_dist_aps": mean_dist_aps,
        "mean_ap": mean_ap,
        "label_tp_errors": label_errors,
        "tp_errors": tp_errors,
        "tp_scores": tp_scores,
        "nd_score": nd_score,
        "eval_time": 0.0,
        "cfg": {
            "dist_fcn": "center_distance",
            "dist_ths": [0.5, 1.0, 2.0, 4.0],
            "dist_th_tp": 2.0,
            "min_recall": 0.1,
            "min_precision": 0.1,
            "max_boxes_per_sample": 500,
            "mean_ap_weight": 5,
        },
    }


def _greedy_hits(gt: list, dets: list, threshold: float) -> tuple[list[bool], dict[str, list[float]]]:
    taken: set[tuple[int, int]] = set()
    hits: list[bool] = []
    errors: dict[str, list[float]] = {
        "trans_err": [],
        "scale_err": [],
        "orient_err": [],
        "vel_err": [],
        "attr_err": [],
    }
    for step, box in dets:
        candidates = [
            (np.linalg.norm(np.array(box["translation"][:2]) - o["centers"][step, :2]), o["instance"], o)
            for s, o in gt
            if s == step and (step, o["instance"]) not in taken
        ]
        best = min(candidates, key=lambda c: c[0], default=None)
        hit = best is not None and best[0] <= threshold
        hits.append(bool(hit))
        if hit and best is not None:
            distance, instance, obj = best
            taken.add((step, instance))
            size = np.array(box["size"])[[1, 0, 2]]
            overlap = np.prod(np.minimum(size, obj["extents"]))
            yaw = 2 * np.arctan2(box["rotation"][3], box["rotation"][0])
            errors["trans_err"].append(float(distance))
            errors["scale_err"].append(
                float(1 - overlap / (np.prod(size) + np.prod(obj["extents"]) - overlap))
            )
            errors["orient_err"].append(float(abs(np.angle(np.exp(1j * (yaw - obj["yaws"][step]))))))
            errors["vel_err"].append(
                float(np.linalg.norm(np.array(box["velocity"]) - obj["velocity"][step, :2]))
            )
            errors["attr_err"].append(0.0)
    return hits, errors


def _average_precision(
    hits: list[bool], num_gt: int, min_recall: float = 0.1, min_precision: float = 0.1
) -> float:
    if not hits or not num_gt:
        return 0.0
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, len(hits) + 1)
    recall = true_positives / num_gt
    grid = np.linspace(0, 1, 101)
    interpolated = np.array([precision[recall >= r].max() if (recall >= r).any() else 0.0 for r in grid])
    kept = interpolated[round(100 * min_recall) + 1 :] - min_precision
    return float(np.clip(kept, 0, None).mean() / (1 - min_precision))


# ----------------------------------------------------------------------------- pose classification


def rest_skeleton() -> np.ndarray:
    """A plausible 34-joint figure in metres (x right, y down, z forward), pelvis at the origin.

    Joint placement follows the bone list of TAO's nvidia layout; it is an assumption made only to
    draw a believable figure (TAO publishes no joint names for this layout).
    """
    joints = np.zeros((34, 3))
    for side, sign in ((0, -1), (1, 1)):
        joints[1 + side] = [0.1 * sign, 0.0, 0.0]  # hip
        joints[4 + side] = [0.11 * sign, 0.45, 0.0]  # knee
        joints[7 + side] = [0.12 * sign, 0.88, 0.0]  # ankle
        joints[9 + side] = [0.13 * sign, 0.93, 0.15]  # toe
        joints[11 + side] = [0.17 * sign, 0.93, 0.12]  # outer toe
        joints[13 + side] = [0.12 * sign, 0.93, -0.05]  # heel
        joints[16 + side] = [0.035 * sign, -0.7, 0.08]  # eye
        joints[18 + side] = [0.075 * sign, -0.68, 0.0]  # ear
        joints[20 + side] = [0.19 * sign, -0.5, 0.0]  # shoulder
        joints[22 + side] = [0.22 * sign, -0.22, 0.0]  # elbow
        joints[24 + side] = [0.23 * sign, 0.04, 0.02]  # wrist
        for finger, offset in enumerate((0.02, 0.0, -0.02, 0.04)):
            joints[26 + 2 * finger + side] = [(0.23 + offset) * sign, 0.12, 0.03]
    joints[3] = [0.0, -0.25, 0.0]  # torso
    joints[6] = [0.0, -0.5, 0.0]  # chest
    joints[15] = [0.0, -0.65, 0.08]  # nose
    return joints


def pose_frame(
    rest: np.ndarray, hip: float, knee: float, arm: float, lean: float, swing: float
) -> np.ndarray:
    """Bend the rest figure: hip/knee flexion (rad), arm raise, torso lean and opposite leg/arm swing."""
    joints = rest.copy()
    for side, sign in ((0, -1), (1, 1)):
        leg = hip + sign * swing
        hip_joint = joints[1 + side]
        thigh = _rotate_x(rest[[4 + side]] - hip_joint, -leg)[0] + hip_joint
        foot_points = [7 + side, 9 + side, 11 + side, 13 + side]
        shank = _rotate_x(rest[foot_points] - rest[4 + side], -leg + knee)
        joints[4 + side] = thigh
        joints[foot_points] = shank + thigh
        arm_points = [22 + side, 24 + side, 26 + side, 28 + side, 30 + side, 32 + side]
        joints[arm_points] = (
            _rotate_x(rest[arm_points] - rest[20 + side], -(arm - sign * swing)) + rest[20 + side]
        )
    upper = [3, 6, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33]
    joints[upper] = _rotate_x(joints[upper], lean)
    return joints


def _rotate_x(points: np.ndarray, angle: float) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[1, 0, 0], [0, cos, -sin], [0, sin, cos]])
    return points @ rotation.T


def action_angles(action: str, phase: np.ndarray, rate: float) -> np.ndarray:
    """(T, 5) hip, knee, arm, lean, swing angles over the normalised time ``phase`` (0..1)."""
    sitting = np.array([1.5, 1.6, 0.3, 0.15, 0.0])
    standing = np.array([0.0, 0.0, 0.05, 0.0, 0.0])
    ease = 0.5 - 0.5 * np.cos(np.pi * np.clip(phase * 1.3, 0, 1))[:, None]
    cycle = np.sin(2 * np.pi * rate * phase)[:, None]
    if action == "sitting_down":
        return standing + ease * (sitting - standing)
    if action == "getting_up":
        return sitting + ease * (standing - sitting)
    if action == "sitting":
        return sitting + 0.03 * cycle * np.array([1, 1, 2, 1, 0])
    if action == "standing":
        return standing + 0.03 * cycle * np.array([0.5, 0.5, 2, 1, 0.5])
    if action == "walking":
        return (
            standing
            + np.array([0.1, 0.3, 0.0, 0.08, 0.0]) * np.abs(cycle)
            + np.array([0, 0, 0, 0, 0.45]) * cycle
        )
    crouch = 0.5 + 0.5 * cycle
    return standing + crouch * np.array([0.9, 1.5, -2.2, 0.3, 0.0])


def make_pose_samples(rng: np.random.Generator) -> tuple[np.ndarray, list[str], list[int], list[str]]:
    """Sequences (N, 3, T, 34, 1), sample names, true labels and inference lines (~80 % correct)."""
    rest = rest_skeleton()
    data = np.zeros((POSE_SEQUENCES, 3, POSE_FRAMES, 34, 1), dtype=np.float32)
    labels = [index % len(POSE_CLASSES) for index in range(POSE_SEQUENCES)]
    confusable = {
        "sitting_down": "sitting",
        "getting_up": "standing",
        "sitting": "sitting_down",
        "standing": "walking",
        "walking": "standing",
        "jumping": "walking",
    }
    predictions = []
    for index, label in enumerate(labels):
        action = POSE_CLASSES[label]
        length = POSE_FRAMES if rng.random() < 0.8 else int(rng.integers(POSE_FRAMES // 2, POSE_FRAMES))
        angles = action_angles(action, np.linspace(0, 1, length), rate=float(rng.uniform(1.5, 2.5)))
        turn = rng.uniform(-np.pi, np.pi)
        rotation = np.array([[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]])
        scale = rng.uniform(0.9, 1.1)
        for frame, angle in enumerate(angles):
            joints = pose_frame(rest, *angle) @ rotation.T * scale + rng.normal(0, 0.008, size=(34, 3))
            joints -= joints[0]
            data[index, :, frame, :, 0] = joints.T
        correct = rng.random() < 0.8
        predictions.append(
            action
            if correct
            else (confusable[action] if rng.random() < 0.7 else str(rng.choice(POSE_CLASSES)))
        )
    names = [f"seq_{index:04d}" for index in range(POSE_SEQUENCES)]
    return data, names, labels, predictions


# ----------------------------------------------------------------------------- main


def write_samples(out: Path) -> None:
    """Write every sample file under ``out``."""
    rng = np.random.default_rng(SEED)
    sparse = out / "sparse4d"
    (sparse / "images").mkdir(parents=True, exist_ok=True)
    objects = simulate_objects(rng)
    results = make_predictions(objects, rng)
    document = {"meta": {"use_camera": True, "use_lidar": False}, "results": results}
    (sparse / "results_nusc.json").write_text(json.dumps(document, separators=(",", ":")))
    (sparse / "metrics_summary.json").write_text(json.dumps(detection_summary(objects, results), indent=2))
    cameras = make_cameras()
    with open(sparse / f"{SCENE}_infos_val.pkl", "wb") as stream:
        pickle.dump(make_infos(objects, cameras), stream, protocol=4)
    for name, camera in cameras.items():
        folder = sparse / "images" / name
        folder.mkdir(exist_ok=True)
        background = floor_image(camera[0], camera[1])
        for step in range(NUM_FRAMES):
            image = render_frame(background, camera, objects, step)
            (folder / f"{step * FRAME_STEP:09d}.png").write_bytes(png_bytes(image, PALETTE))
    pose = out / "pose"
    pose.mkdir(parents=True, exist_ok=True)
    data, names, labels, predictions = make_pose_samples(np.random.default_rng(SEED + 1))
    np.save(pose / "test_data.npy", data)
    with open(pose / "test_label.pkl", "wb") as stream:
        pickle.dump((names, labels), stream, protocol=4)
    (pose / "results.txt").write_text("".join(f"{line}\n" for line in predictions))
    label_map = "".join(f"{name}: {index}\n" for index, name in enumerate(POSE_CLASSES))
    (pose / "label_map.yaml").write_text("# dataset.label_map of the pose classification spec\n" + label_map)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out`` chooses the folder (default: resources/samples of this checkout)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "resources" / "samples"
    )
    args = parser.parse_args(argv)
    write_samples(args.out)
    total = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"wrote samples to {args.out} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
