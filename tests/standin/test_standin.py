"""The stand-in TAO image behaves like TAO's containers: command lines, outputs, status lines, failures."""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from .image import ContainerResult, run_in_container, start_container
from .make_pose_data import PoseDataset, make_bodypose_json, make_pose_dataset
from .make_scenes import make_aicity_root
from .readers import load_infos_pickle, status_lines, tfevent_scalars

pytestmark = pytest.mark.docker

EPOCH_KEYS = ["epoch", "step", "max_epoch", "max_step", "time_per_epoch", "time_per_step", "eta"]
COMMON_KEYS = ["date", "time", "status", "verbosity"]
CHECKPOINT_NAME = re.compile(r"^model_epoch_(\d{3})_step_(\d{5})\.pth$")


def _write_spec(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _pose_spec(tmp_path: Path, data: PoseDataset) -> dict[str, Any]:
    results = tmp_path / "results"
    latest = str(results / "train" / "pc_model_latest.pth")
    return {
        "results_dir": str(results),
        "encryption_key": "nvidia_tao",
        "model": {"model_type": "ST-GCN", "input_channels": 3, "dropout": 0.3, "graph_layout": "nvidia"},
        "dataset": {
            "train_dataset": {
                "data_path": str(data.data_path("train")),
                "label_path": str(data.label_path("train")),
            },
            "val_dataset": {
                "data_path": str(data.data_path("val")),
                "label_path": str(data.label_path("val")),
            },
            "num_classes": len(data.label_map),
            "label_map": data.label_map,
            "batch_size": 16,
        },
        "train": {
            "num_gpus": 1,
            "gpu_ids": [0],
            "num_epochs": 6,
            "checkpoint_interval": 2,
            "validation_interval": 1,
            "seed": 1234,
            "optim": {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "lr_steps": [4, 60], "lr_decay": 0.1},
        },
        "evaluate": {
            "checkpoint": latest,
            "test_dataset": {
                "data_path": str(data.data_path("test")),
                "label_path": str(data.label_path("test")),
            },
        },
        "inference": {
            "checkpoint": latest,
            "output_file": str(results / "inference" / "inference.txt"),
            "test_dataset": {"data_path": str(data.data_path("test"))},
        },
        "export": {"checkpoint": latest, "onnx_file": str(results / "export" / "pc_model.onnx")},
    }


def _pose(client: Any, image: str, tmp_path: Path, *args: str, **options: Any) -> ContainerResult:
    return run_in_container(client, image, ["pose_classification", *args], [tmp_path], **options)


@pytest.fixture
def pose_setup(tmp_path: Path) -> tuple[Path, PoseDataset]:
    """A generated skeleton dataset (64/32/32 sequences, 4 classes) and a spec using it."""
    data = make_pose_dataset(tmp_path / "data", 64, 32, 32, num_classes=4, seed=3)
    spec = _write_spec(tmp_path / "spec.yaml", _pose_spec(tmp_path, data))
    return spec, data


def _assert_tao_status_format(lines: list[dict[str, Any]]) -> None:
    assert lines[0]["status"] == "STARTED"
    for line in lines:
        assert line["status"] in {"STARTED", "RUNNING", "FAILURE", "SKIPPED"}, line
        keys = list(line)
        start = len(EPOCH_KEYS) if keys[: len(EPOCH_KEYS)] == EPOCH_KEYS else 0
        assert keys[start : start + 4] == COMMON_KEYS, keys
        assert re.fullmatch(r"[1-9]\d?/[1-9]\d?/\d{4}", line["date"]), line["date"]
        assert re.fullmatch(r"(0|[1-9]\d?):(0|[1-9]\d?):(0|[1-9]\d?)", line["time"]), line["time"]


def test_pose_train_evaluate_inference_export(
    docker_client: Any, standin_image: str, tmp_path: Path, pose_setup: tuple[Path, PoseDataset]
) -> None:
    spec, data = pose_setup
    results = tmp_path / "results"
    run = _pose(docker_client, standin_image, tmp_path, "train", "-e", str(spec), "train.optim.lr=0.01")
    assert run.exit_code == 0, run.logs
    assert "Execution status: PASS" in run.logs
    assert "TAO_VISIBLE_DEVICES=0" in run.logs

    train_dir = results / "train"
    resolved = yaml.safe_load((train_dir / "experiment.yaml").read_text())
    assert resolved["train"]["optim"]["lr"] == 0.01
    lines = status_lines(train_dir / "status.json")
    _assert_tao_status_format(lines)
    messages = [line.get("message") for line in lines]
    assert messages[:2] == ["Starting Pose Classification train.", "Starting Training Loop."]
    assert messages[-2:] == ["Training loop complete.", "Train finished successfully."]
    epochs = [line for line in lines if line.get("message") == "Training loop in progress"]
    assert [line["epoch"] for line in epochs] == list(range(6))
    assert {line["max_epoch"] for line in epochs} == {5}
    assert epochs[-1]["step"] == epochs[-1]["max_step"] == 6 * (64 // 16)
    train_kpi = [line["kpi"] for line in lines if line.get("message") == "Train metrics generated."]
    val_kpi = [line["kpi"] for line in lines if line.get("message") == "Eval metrics generated."]
    assert set(train_kpi[0]) == {"train_loss", "train_acc"} and set(val_kpi[0]) == {"val_loss", "val_acc"}
    assert train_kpi[-1]["train_loss"] < 0.5 * train_kpi[0]["train_loss"]
    assert min(kpi["val_loss"] for kpi in val_kpi) < val_kpi[0]["val_loss"]
    assert epochs[1]["kpi"] == val_kpi[0], "the kpi is sticky: the next line repeats the last one"

    checkpoints = sorted(path.name for path in train_dir.glob("model_epoch_*.pth"))
    assert [CHECKPOINT_NAME.match(name).group(1) for name in checkpoints] == ["001", "003", "005"]  # type: ignore[union-attr]
    latest = train_dir / "pc_model_latest.pth"
    assert latest.is_symlink() and os.readlink(latest) == checkpoints[-1]

    event_files = list((train_dir / "lightning_logs" / "version_1").glob("events.out.tfevents.*"))
    assert len(event_files) == 1
    scalars = tfevent_scalars(event_files[0])
    assert {"train_loss_step", "train_loss_epoch", "train_acc_1", "val_loss", "val_acc@1", "lr-SGD"} <= set(
        scalars
    )
    assert len(scalars["train_loss_step"]) == 6 * 4
    assert [value for _, value in scalars["val_loss"]] == pytest.approx([kpi["val_loss"] for kpi in val_kpi])
    assert [value for _, value in scalars["lr-SGD"]] == pytest.approx([0.01] * 4 + [0.001] * 2)

    resumed = _pose(
        docker_client,
        standin_image,
        tmp_path,
        "train",
        "-e",
        str(spec),
        "train.optim.lr=0.01",
        "train.num_epochs=8",
    )
    assert resumed.exit_code == 0, resumed.logs
    more = [
        line["epoch"]
        for line in status_lines(train_dir / "status.json")
        if line.get("message") == "Training loop in progress"
    ]
    assert more == [*range(6), 6, 7], (
        "re-running train into the same folder continues from the latest checkpoint"
    )
    assert os.readlink(latest).startswith("model_epoch_007_step_00032")

    (results / "inference").mkdir(parents=True, exist_ok=True)
    inferred = _pose(docker_client, standin_image, tmp_path, "inference", "-e", str(spec))
    assert inferred.exit_code == 0, inferred.logs
    predicted = (results / "inference" / "inference.txt").read_text().splitlines()
    assert len(predicted) == 32
    assert set(predicted) <= set(data.label_map)

    evaluated = _pose(
        docker_client, standin_image, tmp_path, "evaluate", "-e", str(spec), "evaluate.gpu_ids=[0,1]"
    )
    assert evaluated.exit_code == 0, evaluated.logs
    assert "TAO_VISIBLE_DEVICES=0, 1" in evaluated.logs
    assert "does not support multi-GPU evaluation" in evaluated.logs
    for name in data.label_map:
        assert f"Class accuracy: {name}" in evaluated.logs
    assert "Total accuracy" in evaluated.logs and "Average class accuracy" in evaluated.logs
    kpi = status_lines(results / "evaluate" / "status.json")[-1]["kpi"]
    names = {index: name for name, index in data.label_map.items()}
    truth = [names[label] for label in data.labels["test"]]
    agreement = 100 * np.mean([guess == real for guess, real in zip(predicted, truth, strict=True)])
    assert kpi["accuracy"] == pytest.approx(agreement, abs=0.01), "evaluate and inference agree"
    assert 0 <= kpi["avg_accuracy"] <= 100

    exported = _pose(docker_client, standin_image, tmp_path, "export", "-e", str(spec))
    assert exported.exit_code == 0, exported.logs
    onnx = (results / "export" / "pc_model.onnx").read_bytes()
    assert b"pytorch" in onnx[:32] and b"fc_pred" in onnx and b"input" in onnx
    again = _pose(docker_client, standin_image, tmp_path, "export", "-e", str(spec))
    assert again.exit_code == 1
    assert "already exists" in again.logs
    failure = status_lines(results / "export" / "status.json")[-1]
    assert failure["status"] == "FAILURE" and "already exists" in failure["message"]


def test_pose_batch_larger_than_dataset_fails_like_tao(
    docker_client: Any, standin_image: str, tmp_path: Path, pose_setup: tuple[Path, PoseDataset]
) -> None:
    spec, _ = pose_setup
    run = _pose(docker_client, standin_image, tmp_path, "train", "-e", str(spec), "dataset.batch_size=128")
    assert run.exit_code == 1
    message = "Dataset size (64) is smaller than the total batch size (128). Not enough data for train."
    assert f"ValueError: {message}" in run.logs
    assert "Execution status: FAIL" in run.logs
    last = status_lines(tmp_path / "results" / "train" / "status.json")[-1]
    assert last["status"] == "FAILURE" and message in last["message"]


def test_pose_label_out_of_range_names_label_and_classes(
    docker_client: Any, standin_image: str, tmp_path: Path, pose_setup: tuple[Path, PoseDataset]
) -> None:
    spec, _ = pose_setup
    run = _pose(
        docker_client,
        standin_image,
        tmp_path,
        "train",
        "-e",
        str(spec),
        "dataset.num_classes=3",
        "dataset.label_map={sitting_down: 0, getting_up: 1, sitting: 2}",
    )
    assert run.exit_code == 1
    assert re.search(r"Label 3 of sample '\w+' .* out of range for dataset.num_classes=3", run.logs), run.logs


def test_missing_spec_file_is_an_error(docker_client: Any, standin_image: str, tmp_path: Path) -> None:
    for command in (["pose_classification", "train"], ["sparse4d", "train"], ["annotations", "convert"]):
        run = run_in_container(
            docker_client, standin_image, [*command, "-e", str(tmp_path / "absent.yaml")], [tmp_path]
        )
        assert run.exit_code == 1, command
        assert "ERROR: " in run.logs and "absent.yaml" in run.logs
        no_spec = run_in_container(docker_client, standin_image, command, [tmp_path])
        assert no_spec.exit_code == 1 and "ERROR: " in no_spec.logs


def test_memory_hog_is_oom_killed_under_a_limit(
    docker_client: Any, standin_image: str, tmp_path: Path
) -> None:
    spec = _write_spec(tmp_path / "spec.yaml", {"results_dir": str(tmp_path / "results")})
    run = run_in_container(
        docker_client,
        standin_image,
        ["pose_classification", "export", "-e", str(spec)],
        [tmp_path],
        environment={"TAODESK_STANDIN_ALLOCATE_MB": "256"},
        mem_limit="96m",
    )
    assert run.exit_code == 137 and run.oom_killed


def test_pose_dataset_convert(docker_client: Any, standin_image: str, tmp_path: Path) -> None:
    source = make_bodypose_json(tmp_path / "pose.json", num_objects=3, num_frames=80)
    spec = _write_spec(
        tmp_path / "spec.yaml",
        {
            "results_dir": str(tmp_path / "results"),
            "dataset_convert": {
                "data": str(source),
                "pose_type": "3dbp",
                "sequence_length": 40,
                "sequence_overlap": 0.5,
            },
        },
    )
    run = _pose(docker_client, standin_image, tmp_path, "dataset_convert", "-e", str(spec))
    assert run.exit_code == 0, run.logs
    folder = tmp_path / "results" / "dataset_convert"
    arrays = {path.name: np.load(path) for path in folder.glob("object_*.npy")}
    assert sorted(arrays) == ["object_0.npy", "object_1.npy", "object_2.npy"]
    # object 0 is in all 80 frames: windows start at 0, 20, 40 (the last one reaches the end)
    assert arrays["object_0.npy"].shape == (3, 3, 300, 34, 1)
    assert not arrays["object_0.npy"][:, :, 40:].any(), "windows are zero-padded to sequence_length_max"
    assert status_lines(folder / "status.json")[-1]["kpi"] == {"Number of objects": 3}


def _convert_spec(root: Path, results: Path) -> dict[str, Any]:
    return {
        "data": {"input_format": "AICity", "output_format": "OVPKL"},
        "aicity": {
            "root": str(root),
            "version": "2025",
            "split": "train",
            "class_config": {"CLASS_LIST": ["Person", "FourierGR1T2", "AgilityDigit", "Transporter"]},
            "recentering": True,
            "rgb_format": "mp4",
            "depth_format": "h5",
            "camera_grouping_mode": "random",
            "num_frames": -1,
            "anchor_init_config": {"num_anchor": 32, "output_file_name": "anchor_init_kmeans32.npy"},
        },
        "results_dir": str(results),
    }


def _sparse4d_spec(tmp_path: Path, root: Path, converted: Path, val_pkl: Path) -> dict[str, Any]:
    results = tmp_path / "results"
    latest = str(results / "train" / "sparse4d_model_latest.pth")
    return {
        "results_dir": str(results),
        "dataset": {
            "data_root": str(root / "train"),
            "classes": ["Person", "Transporter"],
            "batch_size": 2,
            "num_frames": 40,
            "sequences": {"split_num": 10},
            "train_dataset": {"ann_file": str(converted / "train")},
            "val_dataset": {"ann_file": str(val_pkl)},
            "test_dataset": {"ann_file": str(val_pkl)},
        },
        "model": {
            "head": {
                "instance_bank": {"num_anchor": 900, "anchor": str(converted / "anchor_init_kmeans32.npy")}
            }
        },
        "train": {
            "num_epochs": 4,
            "checkpoint_interval": 2,
            "optim": {"lr": 1e-4, "lr_scheduler": {"warmup_iters": 10, "min_lr_ratio": 0.001}},
        },
        "evaluate": {"checkpoint": latest},
        "inference": {"checkpoint": latest, "jsonfile_prefix": str(results / "inference" / "sparse4d_pred")},
        "export": {"checkpoint": latest, "onnx_file": str(results / "export" / "sparse4d.onnx")},
        "quantize": {"model_path": latest},
    }


def test_sparse4d_convert_train_inference(docker_client: Any, standin_image: str, tmp_path: Path) -> None:
    scenes = make_aicity_root(tmp_path / "aicity", scenes=2, cameras=3, frames=30, objects=4)
    converted = tmp_path / "converted"
    convert_spec = _write_spec(tmp_path / "convert.yaml", _convert_spec(scenes.root, converted))
    run = run_in_container(
        docker_client, standin_image, ["annotations", "convert", "-e", str(convert_spec)], [tmp_path]
    )
    assert run.exit_code == 0, run.logs
    assert status_lines(converted / "status.json")[0]["message"] == "Starting Annotations convert."

    pickles = sorted((converted / "train").glob("*_infos_train.pkl"))
    assert [path.name.split("+")[0] for path in pickles] == ["Warehouse_000"] * 3 + ["Warehouse_001"] * 3
    assert all(
        re.fullmatch(r"Warehouse_00\d\+bev-sensor-random-\d_infos_train\.pkl", p.name) for p in pickles
    )
    document = load_infos_pickle(pickles[0])
    assert document["metadata"] == {"version": "2025", "split_type": "train"}
    infos = document["infos"]
    assert len(infos) == 30
    info = infos[15]
    sub_scene = pickles[0].name.removesuffix("_infos_train.pkl")
    assert info["scene_name"] == sub_scene and info["token"] == f"{sub_scene}__000000015"
    assert info["timestamp"] == pytest.approx(15 / 30)
    assert info["gt_boxes"].shape == (4, 7) and info["gt_velocity"].shape == (4, 3)
    assert set(info["gt_names"]) <= {"Person", "Transporter"} and info["valid_flag"].all()
    assert len(info["instance_inds"]) == 4
    for name, cam in info["cams"].items():
        assert cam["cam_intrinsic"].shape == (3, 3) and cam["sensor2world_transform"].shape == (4, 4)
        assert cam["depth_map_path"] == (
            f"Warehouse_000/depth_maps/{name}.h5",
            "distance_to_image_plane_00015.png",
        )
        assert cam["sample_data_token"] == f"{info['token']}+{name}"
    anchors = np.load(converted / "anchor_init_kmeans32.npy")
    assert anchors.shape == (32, 11)
    assert np.allclose(anchors[:, 7], 1.0) and np.allclose(anchors[:, [6, 8, 9, 10]], 0.0)
    assert np.allclose(anchors[:, 3:6], anchors[0, 3:6]) and (anchors[0, 3:6] < np.log(2.0)).all()
    object_map = json.loads((converted / "map_object_hash_to_object_id.json").read_text())
    assert object_map["no_of_objects"] == sum(scenes.objects_per_scene.values())

    spec = _write_spec(tmp_path / "spec.yaml", _sparse4d_spec(tmp_path, scenes.root, converted, pickles[0]))
    trained = run_in_container(
        docker_client, standin_image, ["sparse4d", "train", "-e", str(spec)], [tmp_path]
    )
    assert trained.exit_code == 0, trained.logs
    train_dir = tmp_path / "results" / "train"
    lines = status_lines(train_dir / "status.json")
    _assert_tao_status_format(lines)
    epochs = [line for line in lines if line.get("message") == "Training loop in progress"]
    assert [line["epoch"] for line in epochs] == [0, 1, 2, 3]
    assert epochs[-1]["kpi"]["loss"] < epochs[0]["kpi"]["loss"]
    assert epochs[-1]["kpi"]["val_mAP"] > epochs[0]["kpi"]["val_mAP"]
    assert "img_bbox_NuScenes/NDS" in epochs[-1]["kpi"]
    assert os.readlink(train_dir / "sparse4d_model_latest.pth") == "model_epoch_003_step_00080.pth"
    scalars = tfevent_scalars(
        next((train_dir / "lightning_logs" / "version_1").glob("events.out.tfevents.*"))
    )
    expected = {
        "loss",
        "lr",
        "loss_cls_0",
        "loss_box_0",
        "loss_cls_5",
        "img_bbox_NuScenes/mAP",
        "img_bbox_NuScenes/NDS",
        "val_mAP",
    }
    assert expected <= set(scalars)
    assert len(scalars["loss"]) == 80 and len(scalars["val_mAP"]) == 4

    inferred = run_in_container(
        docker_client, standin_image, ["sparse4d", "inference", "-e", str(spec)], [tmp_path]
    )
    assert inferred.exit_code == 0, inferred.logs
    predictions = json.loads(
        (tmp_path / "results" / "inference" / "sparse4d_pred" / "img_bbox" / "results_nusc.json").read_text()
    )
    assert predictions["meta"] == {"use_camera": True, "use_lidar": False}
    assert set(predictions["results"]) == {info["token"] for info in infos}
    boxes = [box for frame in predictions["results"].values() for box in frame]
    assert boxes
    for box in boxes:
        assert len(box["translation"]) == 3 and len(box["size"]) == 3 and len(box["rotation"]) == 4
        assert len(box["velocity"]) == 2 and len(box["embedding"]) == 256
        assert (
            box["detection_name"] in {"Person", "Transporter"}
            and box["tracking_name"] == box["detection_name"]
        )
        assert box["attribute_name"] == f"{box['detection_name']}.moving"
        assert 0.2 <= box["detection_score"] <= 1 and math.isclose(
            sum(q * q for q in box["rotation"]), 1, rel_tol=1e-4
        )
    frames_per_track: dict[str, int] = {}
    for box in boxes:
        frames_per_track[box["tracking_id"]] = frames_per_track.get(box["tracking_id"], 0) + 1
    assert sum(1 for count in frames_per_track.values() if count >= 15) >= 3, (
        "track ids are stable across frames"
    )

    evaluated = run_in_container(
        docker_client, standin_image, ["sparse4d", "evaluate", "-e", str(spec)], [tmp_path]
    )
    assert evaluated.exit_code == 0, evaluated.logs
    summary = json.loads(
        (tmp_path / "results" / "evaluate" / "img_bbox" / "metrics_summary.json").read_text()
    )
    assert 0 < summary["mAP"] <= 1 and 0 < summary["NDS"] <= 1
    kpi = status_lines(tmp_path / "results" / "evaluate" / "status.json")[-1]["kpi"]
    assert kpi["img_bbox_NuScenes/mAP"] == pytest.approx(summary["mAP"])

    for subtask, output in (
        ("export", "export/sparse4d.onnx"),
        ("quantize", "quantize/quantized_model_torchao.pth"),
    ):
        finished = run_in_container(
            docker_client, standin_image, ["sparse4d", subtask, "-e", str(spec)], [tmp_path]
        )
        assert finished.exit_code == 0, finished.logs
        assert (tmp_path / "results" / output).stat().st_size > 0


def test_running_train_can_be_watched_and_stopped(
    docker_client: Any, standin_image: str, tmp_path: Path, pose_setup: tuple[Path, PoseDataset]
) -> None:
    spec, _ = pose_setup
    status_file = tmp_path / "results" / "train" / "status.json"
    container = start_container(
        docker_client,
        standin_image,
        ["pose_classification", "train", "-e", str(spec), "train.num_epochs=20"],
        [tmp_path],
        environment={"TAODESK_STANDIN_EPOCH_SECONDS": "0.5"},
    )
    try:
        deadline = time.monotonic() + 30
        progress: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not progress:
            time.sleep(0.2)
            if status_file.exists():
                progress = [line for line in status_lines(status_file) if line.get("epoch") is not None]
        container.reload()
        assert progress and container.status == "running", "status lines arrive while the job runs"
        container.stop(timeout=10)
        assert container.wait(timeout=30)["StatusCode"] == 143
    finally:
        container.remove(force=True)
    last = status_lines(status_file)[-1]
    assert last["status"] == "FAILURE" and last["message"].startswith("User/System interruption")
    train_dir = tmp_path / "results" / "train"
    saved = sorted(path.name for path in train_dir.glob("model_epoch_*.pth"))
    assert saved, "a checkpoint is saved when training is interrupted"
    assert os.readlink(train_dir / "pc_model_latest.pth") == saved[-1]
