"""Benchmark: reading result files for the viewers, with references measured in the same run.

Run: .venv/bin/python -m tests.benchmarks.bench_results_load [--megabytes 100] [--dir PATH]

1. ``results_nusc.json`` of about 100 MB, in two shapes: tracking output with 256-float embeddings
   per box (what TAO writes with tracking on) and plain boxes without embeddings (ten times more
   boxes for the same size, the worst case for per-box work). Prints ``load_tracks`` time against
   ``json.loads`` of the same bytes, with the cycle collector on (as a plain call runs) and paused
   (as ``load_tracks`` runs it). Files are generated once and cached in the temp folder.
2. A converted infos pickle: the restricted unpickler against ``pickle.loads``.
3. Pose statistics for 10,000 sequences: confusion matrix, per-class accuracy and filtered lists,
   against a plain Python loop.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from app.core.datasets.safe_pickle import load_pickle_bytes
from app.core.results.poses import PoseLabels, build_pose_results
from app.core.results.tracks import load_tracks

SCENE = "Warehouse_014+bev-sensor-random-0"
CLASSES = ["person", "gr1_t2", "agility_digit", "nova_carter"]


def timed(function: Callable[[], object], repeats: int = 3) -> float:
    """Median wall time of ``function`` over ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _without_gc(function: Callable[[], object]) -> object:
    gc.disable()
    try:
        return function()
    finally:
        gc.enable()


def results_file(folder: Path, megabytes: int, embeddings: bool) -> Path:
    """A cached ``results_nusc.json`` of about ``megabytes`` MB (written if missing)."""
    path = folder / f"results_nusc_{megabytes}mb_{'embed' if embeddings else 'plain'}.json"
    if path.exists():
        return path
    rng = np.random.default_rng(3)
    embedding = ", ".join(repr(float(v)) for v in rng.normal(size=256).astype(np.float32))
    frames, size, frame = [], 0, 0
    while size < megabytes * 1_000_000:
        token = f"{SCENE}__{frame:09d}"
        boxes = []
        for index in range(40):
            x, y = (repr(float(v)) for v in rng.uniform(-20, 20, size=2))
            yaw = float(rng.uniform(-np.pi, np.pi))
            score = repr(float(rng.uniform(0.2, 1.0)))
            name = CLASSES[index % 4]
            rotation = f"[{math.cos(yaw / 2)!r}, 0.0, 0.0, {math.sin(yaw / 2)!r}]"
            box = (
                f'{{"sample_token": "{token}", "translation": [{x}, {y}, 0.9], "size": [0.6, 0.7, 1.8], '
                f'"rotation": {rotation}, "velocity": [0.5, -0.25], '
                f'"detection_name": "{name}", "detection_score": {score}, "attribute_name": "{name}.moving", '
                f'"tracking_name": "{name}", "tracking_score": {score}, '
                f'"tracking_id": "{index + frame // 300}"'
            )
            boxes.append(box + (f', "embedding": [{embedding}]}}' if embeddings else "}"))
        part = f'"{token}": [' + ", ".join(boxes) + "]"
        frames.append(part)
        size += len(part)
        frame += 1
    text = '{"meta": {"use_camera": true, "use_lidar": false}, "results": {' + ", ".join(frames) + "}}"
    path.write_text(text)
    return path


def bench_results(folder: Path, megabytes: int) -> None:
    for embeddings in (True, False):
        path = results_file(folder, megabytes, embeddings)
        data = path.read_bytes()
        reference = timed(partial(json.loads, data))
        reference_no_gc = timed(partial(_without_gc, partial(json.loads, data)))
        ours = timed(partial(load_tracks, data, str(path)))
        tracks = load_tracks(data, str(path))
        shape = "tracking output with embeddings" if embeddings else "plain boxes, no embeddings"
        print(
            f"results_nusc.json {len(data) / 1e6:.0f} MB, {shape}: {tracks.num_boxes:,} boxes, "
            f"{tracks.num_frames:,} frames, {tracks.num_tracks:,} tracks"
        )
        print(f"  json.loads (reference):  {reference:6.2f} s")
        print(f"  json.loads, gc paused:   {reference_no_gc:6.2f} s")
        print(f"  load_tracks:             {ours:6.2f} s   ({ours / reference:.2f} x json.loads)")


def bench_infos() -> None:
    rng = np.random.default_rng(5)
    infos = [
        {
            "token": f"{SCENE}__{frame:09d}",
            "timestamp": frame / 30,
            "cams": {
                f"Camera_{camera:02d}": {
                    "data_path": f"/data/{SCENE}/Camera_{camera:02d}/rgb/{frame:09d}.jpg",
                    "cam_intrinsic": rng.normal(size=(3, 3)),
                    "sensor2world_transform": rng.normal(size=(4, 4)),
                }
                for camera in range(8)
            },
            "gt_boxes": rng.normal(size=(30, 7)),
            "gt_names": np.array(["Person"] * 30),
            "instance_inds": np.arange(30),
        }
        for frame in range(3000)
    ]
    for protocol in (4, 5):
        data = pickle.dumps({"metadata": {"version": "2025"}, "infos": infos}, protocol=protocol)
        reference = timed(partial(pickle.loads, data))
        ours = timed(partial(load_pickle_bytes, data, "infos.pkl"))
        print(f"infos pickle {len(data) / 1e6:.1f} MB (3,000 frames x 8 cameras), protocol {protocol}:")
        print(f"  pickle.loads (reference, runs code): {reference:5.2f} s")
        print(f"  restricted load_pickle_bytes:        {ours:5.2f} s   ({ours / reference:.1f} x)")


def bench_poses(count: int = 10_000) -> None:
    rng = np.random.default_rng(9)
    classes = ["sitting_down", "getting_up", "sitting", "standing", "walking", "jumping"]
    labels = rng.integers(0, len(classes), size=count)
    wrong = rng.random(count) > 0.8
    predicted = np.where(wrong, rng.integers(0, len(classes), size=count), labels)
    names = [classes[i] for i in predicted]
    results = build_pose_results(classes, names, PoseLabels([f"s{i}" for i in range(count)], labels))

    def ours() -> None:
        results.confusion_matrix()
        results.confusion_matrix(normalize=True)
        results.per_class_accuracy()
        results.mean_class_accuracy()
        results.top1_accuracy()
        for true_class in range(len(classes)):
            results.filter_indices(true_class=true_class, correct=False)
        results.filter_indices(predicted_class="walking")

    def python_loops() -> None:
        matrix = [[0] * len(classes) for _ in classes]
        for label, name in zip(labels.tolist(), names, strict=True):
            matrix[label][classes.index(name)] += 1
        for true_class in range(len(classes)):
            [
                i
                for i, (label, name) in enumerate(zip(labels, names, strict=True))
                if label == true_class and classes[label] != name
            ]

    build = timed(
        lambda: build_pose_results(classes, names, PoseLabels([f"s{i}" for i in range(count)], labels))
    )
    statistics_time = timed(ours, repeats=11)
    reference = timed(python_loops, repeats=3)
    print(f"pose results, {count:,} sequences, {len(classes)} classes:")
    print(f"  combine predictions and labels:                 {build * 1000:7.1f} ms")
    print(f"  confusion (counts + rows), accuracies, 7 filters: {statistics_time * 1000:5.1f} ms")
    print(
        f"  plain Python loops for matrix + 6 filters (ref.): {reference * 1000:5.1f} ms "
        f"({reference / statistics_time:.0f} x slower)"
    )


def main() -> None:
    """Run all three benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description="result-reader benchmarks")
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "taodesk-bench-results")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    bench_results(args.dir, args.megabytes)
    bench_infos()
    bench_poses()


if __name__ == "__main__":
    main()
