"""Pose classification preflight on real files: a valid dataset passes, each broken variant is caught."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from app.core.datasets.context import PreflightOptions
from app.core.datasets.findings import INFO, SET_VALUE, WARNING, Finding
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.datasets.registry import Dataset
from app.core.hosts.local import LocalHostSession
from app.core.jobs.model import Job
from app.core.skills.model import Skill
from app.core.specs.service import render_spec
from tests.infra.preflight_data import hostile_pickle, pose_spec_overrides, small_pose_dataset, train_dataset
from tests.standin.make_pose_data import PoseDataset, make_bodypose_json, make_pose_dataset

NO_GPU_CHECK = PreflightOptions(check_gpus=False)
TRAIN_JOB = Job(
    id="20260101-000000-train-0001",
    skill="tao-train-pose-classification",
    action="train",
    host="local",
    spec_yaml="",
    job_dir="/srv/jobs/20260101-000000-train-0001",
)


@pytest.fixture
def data(tmp_path: Path) -> PoseDataset:
    return small_pose_dataset(tmp_path / "pose")


def _run(
    pose: Skill,
    session: LocalHostSession,
    data: PoseDataset,
    action: str = "train",
    extra: list[str] | None = None,
    options: PreflightOptions = NO_GPU_CHECK,
    datasets: list[Dataset] | None = None,
) -> PreflightReport:
    spec = render_spec(pose, action, overrides=pose_spec_overrides(data) + (extra or []))
    chosen = datasets if datasets is not None else [train_dataset(data.folder)]
    parent = None if action == "train" else TRAIN_JOB
    return run_preflight(pose, action, spec, session, datasets=chosen, options=options, parent=parent)


def _errors(report: PreflightReport, key: str) -> list[Finding]:
    return [f for f in report.errors if f.spec_key == key]


@pytest.mark.parametrize("action", ["train", "evaluate", "inference"])
def test_a_consistent_dataset_passes(
    pose: Skill, local: LocalHostSession, data: PoseDataset, action: str
) -> None:
    report = _run(pose, local, data, action)
    assert report.errors == [], [f.line() for f in report.errors]
    assert report.spec.get(
        f"{'dataset.train_dataset' if action == 'train' else action + '.test_dataset'}.data_path"
    ).startswith(str(data.folder))


def test_train_reports_the_preconverted_dataset_and_checks_gpus(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    report = _run(pose, local, data, options=PreflightOptions())
    assert any(f.severity == INFO and "not run: preconverted dataset" in f.message for f in report.findings)
    assert "gpus" in report.checks and "pose_data" in report.checks


def test_float64_and_wrong_axes_are_errors(pose: Skill, local: LocalHostSession, data: PoseDataset) -> None:
    np.save(data.data_path("train"), np.zeros((40, 3, 30, 34, 1), dtype=np.float64))
    np.save(data.data_path("val"), np.zeros((16, 3, 30, 34), dtype=np.float32))
    report = _run(pose, local, data)
    assert "float64" in _errors(report, "dataset.train_dataset.data_path")[0].message
    assert "expected 5 axes" in _errors(report, "dataset.val_dataset.data_path")[0].message


def test_joints_against_the_graph_layout_with_a_one_click_fix(
    pose: Skill, local: LocalHostSession, tmp_path: Path
) -> None:
    openpose = make_pose_dataset(tmp_path / "openpose", 40, 16, 16, 4, layout="openpose", frames=30)
    report = _run(pose, local, openpose)
    layout = _errors(report, "model.graph_layout")
    assert layout and "V=18 joints; graph layout 'nvidia' has 34" in layout[0].message
    assert (layout[0].fix_action, layout[0].fix_value) == (SET_VALUE, "openpose")
    fixed = _run(pose, local, openpose, extra=["model.graph_layout=openpose"])
    assert not _errors(fixed, "model.graph_layout")


def test_channels_against_model_input_channels(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    report = _run(pose, local, data, extra=["model.input_channels=2"])
    finding = _errors(report, "model.input_channels")[0]
    assert "C=3 channels" in finding.message and finding.fix_value == 3


def test_a_truncated_array_is_caught_from_its_size(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    path = data.data_path("train")
    path.write_bytes(path.read_bytes()[:5000])
    assert "cut short" in _errors(_run(pose, local, data), "dataset.train_dataset.data_path")[0].message


def test_sequences_against_batch_times_gpus_for_every_action(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    two_gpus = PreflightOptions(check_gpus=False, gpus=[0, 1])
    report = _run(pose, local, data, extra=["dataset.batch_size=24"], options=two_gpus)
    batch = _errors(report, "dataset.batch_size")
    assert len(batch) == 2, "train (40 < 48) and val (16 < 48)"
    assert "24 x 2 GPUs" in batch[0].message and batch[0].fix_value == 20
    assert {finding.also_at for finding in batch} == {
        ("dataset.train_dataset.data_path",),
        ("dataset.val_dataset.data_path",),
    }, "each names the data file it is about"
    inference = _run(pose, local, data, "inference", extra=["dataset.batch_size=24"], options=two_gpus)
    assert "16 sequences, fewer than the batch (24)" in _errors(inference, "dataset.batch_size")[0].message
    assert not _errors(
        _run(pose, local, data, "inference", extra=["dataset.batch_size=16"]), "dataset.batch_size"
    )


def test_labels_count_range_structure(pose: Skill, local: LocalHostSession, data: PoseDataset) -> None:
    with open(data.label_path("train"), "wb") as stream:
        pickle.dump(([f"s{i}" for i in range(39)], [0] * 38 + [7]), stream)
    with open(data.label_path("val"), "wb") as stream:
        pickle.dump({"names": [], "labels": []}, stream)
    report = _run(pose, local, data)
    train = " | ".join(f.message for f in _errors(report, "dataset.train_dataset.label_path"))
    assert "39 labels but" in train and "has 40 sequences" in train
    assert "labels outside [0, 4): 7" in train
    assert (
        "should hold (sample_names, labels); it holds dict"
        in _errors(report, "dataset.val_dataset.label_path")[0].message
    )


def test_a_hostile_label_file_is_refused_and_never_runs(
    pose: Skill, local: LocalHostSession, data: PoseDataset, tmp_path: Path
) -> None:
    marker = tmp_path / "payload-ran"
    hostile_pickle(data.label_path("train"), marker)
    finding = _errors(_run(pose, local, data), "dataset.train_dataset.label_path")[0]
    assert "refused to load: the pickle asks for" in finding.message and "system" in finding.message
    assert not marker.exists()


def test_label_map_against_num_classes(pose: Skill, local: LocalHostSession, data: PoseDataset) -> None:
    report = _run(pose, local, data, extra=["dataset.num_classes=5"])
    finding = _errors(report, "dataset.num_classes")[0]
    assert "label_map names 4 classes" in finding.message and finding.fix_value == 4
    values = _run(pose, local, data, extra=["dataset.label_map={a: 0, b: 1, c: 2, d: 5}"])
    assert "values must be 0..3" in _errors(values, "dataset.label_map")[0].message
    unused = _run(
        pose,
        local,
        data,
        extra=["dataset.num_classes=6", "dataset.label_map={a: 0, b: 1, c: 2, d: 3, e: 4, f: 5}"],
    )
    assert any(f.severity == WARNING and "classes 4, 5 never appear" in f.message for f in unused.findings)


def test_export_file_must_not_exist_and_inference_output_needs_a_writable_folder(
    pose: Skill, local: LocalHostSession, data: PoseDataset, tmp_path: Path
) -> None:
    existing = tmp_path / "model.onnx"
    existing.write_bytes(b"onnx")
    export = _run(pose, local, data, "export", extra=[f"export.onnx_file={existing}"])
    assert "already exists" in _errors(export, "export.onnx_file")[0].message
    fresh = _run(pose, local, data, "export", extra=[f"export.onnx_file={tmp_path / 'new.onnx'}"])
    assert not _errors(fresh, "export.onnx_file")
    missing = _run(
        pose, local, data, "inference", extra=[f"inference.output_file={tmp_path}/nowhere/out.txt"]
    )
    assert "does not exist" in _errors(missing, "inference.output_file")[0].message
    ok = _run(pose, local, data, "inference", extra=[f"inference.output_file={tmp_path}/out.txt"])
    assert not _errors(ok, "inference.output_file")
    assert any(
        "set at launch" in f.message for f in _run(pose, local, data, "inference").at("inference.output_file")
    )


def test_json_given_as_skeleton_data_asks_for_conversion(
    pose: Skill, local: LocalHostSession, data: PoseDataset, tmp_path: Path
) -> None:
    json_file = make_bodypose_json(tmp_path / "poses.json", num_frames=20)
    report = _run(pose, local, data, extra=[f"dataset.train_dataset.data_path={json_file}"])
    assert "convert it first" in _errors(report, "dataset.train_dataset.data_path")[0].fix


def test_dataset_convert_checks_the_bodypose_json(
    pose: Skill, local: LocalHostSession, tmp_path: Path
) -> None:
    good = make_bodypose_json(tmp_path / "good.json", num_objects=2, num_frames=20)
    spec = render_spec(pose, "dataset_convert", overrides=[f"dataset_convert.data={good}"])
    report = run_preflight(pose, "dataset_convert", spec, local, options=NO_GPU_CHECK)
    assert report.errors == []
    assert any("20 frames, 2 objects" in f.message for f in report.at("dataset_convert.data"))
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text().replace('"num_frames_in_batch": 1', '"num_frames_in_batch": 2', 1))
    spec.set("dataset_convert.data", str(bad))
    broken = run_preflight(pose, "dataset_convert", spec, local, options=NO_GPU_CHECK)
    assert "[0].num_frames_in_batch is 2 but it has 1 batches" in broken.errors[0].message
    spec.set("dataset_convert.num_joints", 17)
    spec.set("dataset_convert.data", str(good))
    joints = run_preflight(pose, "dataset_convert", spec, local, options=NO_GPU_CHECK)
    assert "expected 68 (17 joints x 4)" in joints.errors[0].message
    spec.set("dataset_convert.data", str(tmp_path / "good.json.gz"))
    assert (
        "does not exist"
        in run_preflight(pose, "dataset_convert", spec, local, options=NO_GPU_CHECK).errors[0].message
    )
