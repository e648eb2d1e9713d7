"""Small skeleton datasets in TAO's pose-classification formats, with classes a classifier can learn.

`make_pose_dataset` writes `{train,val,test}_data.npy` (N, C, T, V, M) float32 and
`{train,val,test}_label.pkl` holding `(sample_names, labels)`; `make_bodypose_json` writes a
DeepStream BodyPose JSON file for `dataset_convert`. Usable from tests and from the command line:

    python -m tests.standin.make_pose_data OUT_DIR --train 64 --val 24 --test 24 --classes 4
"""

from __future__ import annotations

import argparse
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Joints (V) and persons (M) per graph layout, as in TAO's ST-GCN graphs.
LAYOUTS: dict[str, tuple[int, int]] = {
    "nvidia": (34, 1),
    "openpose": (18, 2),
    "human3.6m": (17, 1),
    "ntu-rgb+d": (25, 2),
    "ntu_edge": (24, 2),
    "coco": (17, 1),
}
NVIDIA_CLASSES = ["sitting_down", "getting_up", "sitting", "standing", "walking", "jumping"]
SPLITS = ("train", "val", "test")


@dataclass
class PoseDataset:
    """Where a generated dataset is and what a spec needs to use it."""

    folder: Path
    label_map: dict[str, int]
    shape: tuple[int, int, int, int]
    labels: dict[str, list[int]] = field(default_factory=dict)

    def data_path(self, split: str) -> Path:
        """`<split>_data.npy`."""
        return self.folder / f"{split}_data.npy"

    def label_path(self, split: str) -> Path:
        """`<split>_label.pkl`."""
        return self.folder / f"{split}_label.pkl"


def class_names(num_classes: int) -> list[str]:
    """NVIDIA's sample class names where there are enough, then action_<i>."""
    return [NVIDIA_CLASSES[i] if i < len(NVIDIA_CLASSES) else f"action_{i}" for i in range(num_classes)]


def make_pose_dataset(
    folder: Path | str,
    n_train: int,
    n_val: int,
    n_test: int,
    num_classes: int,
    layout: str = "nvidia",
    seed: int = 0,
    frames: int = 300,
    channels: int = 3,
    noise: float = 0.3,
    separation: float = 0.1,
    label_noise: float = 0.1,
) -> PoseDataset:
    """Write the three splits; each class has its own mean pose and motion (frequency and amplitude).

    Classes differ by `separation` (in units of the spread between sequences of one class); sequences
    vary in pose, swing, pace, phase, length (zero padding at the end) and noise, and a `label_noise`
    share of them moves like a random class, so that the task is learnable but not separable: a
    learning rate that is too small underfits and one that is too large overfits.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown graph layout '{layout}' (choose from {', '.join(LAYOUTS)})")
    joints, persons = LAYOUTS[layout]
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shared_pose = rng.normal(0.0, 1.0, size=(channels, joints))
    base_pose = shared_pose + rng.normal(0.0, separation, size=(num_classes, channels, joints))
    amplitude = np.abs(rng.normal(0.5, separation, size=(num_classes, channels, joints)))
    frequency = 1.0 + rng.normal(0.0, separation, size=num_classes)
    counts = {"train": n_train, "val": n_val, "test": n_test}
    written: dict[str, list[int]] = {}
    for split_index, split in enumerate(SPLITS):
        count = counts[split]
        split_rng = np.random.default_rng([seed, split_index])
        labels = np.arange(count) % num_classes
        split_rng.shuffle(labels)
        looks_like = labels.copy()
        confused = split_rng.random(count) < label_noise
        looks_like[confused] = split_rng.integers(0, num_classes, size=int(confused.sum()))
        data = np.zeros((count, channels, frames, joints, persons), dtype=np.float32)
        time_axis = np.arange(frames) / 30.0
        for index, label in enumerate(looks_like):
            length = int(split_rng.integers(max(2, frames // 2), frames + 1))
            phase = split_rng.uniform(0, 2 * np.pi)
            pose = base_pose[label] + split_rng.normal(0.0, 1.0, size=(channels, joints))
            swing = amplitude[label] * split_rng.uniform(0.5, 1.5)
            pace = abs(frequency[label]) * split_rng.uniform(0.8, 1.25)
            wave = np.sin(2 * np.pi * pace * time_axis[:length] + phase)
            motion = pose[:, None, :] + swing[:, None, :] * wave[None, :, None]
            for person in range(persons):
                jitter = split_rng.normal(0.0, noise, size=(channels, length, joints))
                data[index, :, :length, :, person] = motion + jitter
        np.save(root / f"{split}_data.npy", data)
        names = [f"{split}_{index:05d}" for index in range(count)]
        with open(root / f"{split}_label.pkl", "wb") as stream:
            written[split] = [int(label) for label in labels]
            pickle.dump((names, written[split]), stream, protocol=4)
    label_map = {name: index for index, name in enumerate(class_names(num_classes))}
    return PoseDataset(root, label_map, (channels, frames, joints, persons), written)


def make_bodypose_json(
    path: Path | str, num_objects: int = 2, num_frames: int = 60, num_joints: int = 34, seed: int = 0
) -> Path:
    """A DeepStream BodyPose JSON file: one single-frame batch per frame, `pose25d` and `pose3d` per object.

    Objects enter at different frames; a few joints have zero confidence.
    """
    rng = np.random.default_rng(seed)
    batches = []
    skeletons = rng.normal(0.0, 300.0, size=(num_objects, num_joints, 3))
    for frame in range(num_frames):
        objects = []
        for object_id in range(num_objects):
            if frame < object_id * 5:
                continue
            sway = np.sin(frame / 10.0 + object_id)
            world = skeletons[object_id] + np.array([sway * 100.0, 0.0, 3500.0 + 200.0 * object_id])
            confidence = (rng.random(num_joints) > 0.05).astype(float)
            pose3d = np.column_stack([world, confidence])
            pixels = 960.0 + 1200.0 * world[:, :2] / world[:, 2:3]
            pose25d = np.column_stack([pixels, world[:, 2] - world[0, 2], confidence])
            objects.append(
                {
                    "object_id": object_id,
                    "pose25d": [round(float(v), 4) for v in pose25d.ravel()],
                    "pose3d": [round(float(v), 4) for v in pose3d.ravel()],
                }
            )
        batches.append(
            {
                "num_frames_in_batch": 1,
                "batches": [
                    {
                        "batch_id": 0,
                        "frame_num": frame,
                        "ntp_timestamp": 1639431716322229000 + frame * 33_333_333,
                        "num_obj_meta": len(objects),
                        "objects": objects,
                    }
                ],
            }
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(batches), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command-line front end."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--train", type=int, default=64)
    parser.add_argument("--val", type=int, default=24)
    parser.add_argument("--test", type=int, default=24)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--layout", default="nvidia", choices=sorted(LAYOUTS))
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bodypose-json", type=Path, help="also write a BodyPose JSON sample here")
    args = parser.parse_args(argv)
    dataset = make_pose_dataset(
        args.folder, args.train, args.val, args.test, args.classes, args.layout, args.seed, args.frames
    )
    print(f"wrote {dataset.folder}: (N, {', '.join(map(str, dataset.shape))}), label_map {dataset.label_map}")
    if args.bodypose_json:
        print(f"wrote {make_bodypose_json(args.bodypose_json, seed=args.seed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
