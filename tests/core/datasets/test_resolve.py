"""Resolving requirement rows: typed values win, convert jobs, datasets, template; where each came from."""

from __future__ import annotations

from app.core.datasets.registry import Dataset
from app.core.datasets.resolve import Origin, Resolution, ResolvedRow, find_convert_job, resolve_requirements
from app.core.jobs.model import Job
from app.core.skills.model import Skill
from app.core.specs.service import render_spec

CONVERT_SPEC = "aicity:\n  root: /data/aicity\n  split: train\n"


def _row(resolution: Resolution, key: str) -> ResolvedRow:
    row = resolution.row(key)
    assert row is not None, f"{key} is not in the table"
    return row


def _convert_job(spec: str = CONVERT_SPEC, job_id: str = "conv-1") -> Job:
    return Job(
        id=job_id,
        skill="tao-train-sparse4d",
        action="dataset_convert",
        host="lab",
        spec_yaml=spec,
        job_dir=f"/srv/jobs/{job_id}",
    )


def test_pose_rows_fill_from_the_hosts_train_dataset_and_typed_values_win(pose: Skill) -> None:
    datasets = [Dataset("pose", "lab", "train", "/data/pose"), Dataset("elsewhere", "other", "train", "/x")]
    spec = render_spec(pose, "train", overrides=["dataset.val_dataset.label_path=/mine/val_label.pkl"])
    resolution = resolve_requirements(pose, "train", spec, host="lab", datasets=datasets)
    by_key = {row.spec_key: row for row in resolution.rows}
    assert by_key["dataset.train_dataset.data_path"].value == "/data/pose/train_data.npy"
    assert by_key["dataset.train_dataset.data_path"].origin_label == "dataset pose"
    assert by_key["dataset.val_dataset.label_path"].value == "/mine/val_label.pkl"
    assert by_key["dataset.val_dataset.label_path"].origin_label == "typed by you"
    filled = resolution.apply(spec)
    assert spec.get("dataset.train_dataset.label_path") == "/data/pose/train_label.pkl"
    assert "dataset.val_dataset.label_path" not in filled
    again = resolve_requirements(pose, "train", spec, host="lab", datasets=datasets, filled=filled)
    assert _row(again, "dataset.train_dataset.data_path").origin is Origin.DATASET, (
        "what we filled is not 'typed'"
    )


def test_a_dataset_removed_later_puts_the_filled_value_back_to_the_template(pose: Skill) -> None:
    spec = render_spec(pose, "train")
    filled = resolve_requirements(
        pose, "train", spec, host="lab", datasets=[Dataset("pose", "lab", "train", "/data/pose")]
    ).apply(spec)
    resolution = resolve_requirements(pose, "train", spec, host="lab", datasets=[], filled=filled)
    row = resolution.row("dataset.train_dataset.data_path")
    assert row is not None and row.origin is Origin.UNSET
    assert "no train dataset registered on this host" in row.note
    resolution.apply(spec)
    assert spec.get("dataset.train_dataset.data_path") == ""


def test_chosen_dataset_beats_the_first_and_several_candidates_are_noted(pose: Skill) -> None:
    datasets = [Dataset("a", "lab", "train", "/a"), Dataset("b", "lab", "train", "/b")]
    spec = render_spec(pose, "evaluate")
    first = resolve_requirements(pose, "evaluate", spec, host="lab", datasets=datasets)
    assert _row(first, "evaluate.test_dataset.data_path").value == "/a/val_data.npy"
    assert any("also on host 'lab' with role train: b" in note for note in first.notes)
    chosen = resolve_requirements(pose, "evaluate", spec, host="lab", datasets=datasets, chosen=["b"])
    assert _row(chosen, "evaluate.test_dataset.data_path").value == "/b/val_data.npy"
    assert not chosen.notes


def test_sparse4d_rows_come_from_the_convert_job(sparse4d: Skill) -> None:
    spec = render_spec(sparse4d, "train")
    job = _convert_job()
    resolution = resolve_requirements(sparse4d, "train", spec, host="lab", parent=job)
    values = {row.spec_key: (row.value, row.origin_label) for row in resolution.rows}
    assert values["dataset.data_root"] == ("/data/aicity/train", "convert job conv-1")
    assert values["model.head.instance_bank.anchor"] == (
        "/srv/jobs/conv-1/results/anchor_init.npy",
        "convert job conv-1",
    )
    assert values["dataset.train_dataset.ann_file"][0] == "/srv/jobs/conv-1/results/train"
    val = resolution.row("dataset.val_dataset.ann_file")
    assert val is not None and val.value == "/srv/jobs/conv-1/results/train"
    assert "converted 'train' only" in val.note


def test_sparse4d_prefers_the_split_of_the_rows_role(sparse4d: Skill) -> None:
    job = _convert_job("aicity:\n  root: /data/aicity\n  split: train,val,test\n")
    resolution = resolve_requirements(
        sparse4d, "evaluate", render_spec(sparse4d, "evaluate"), host="lab", convert_job=job
    )
    assert _row(resolution, "dataset.data_root").value == "/data/aicity/val"
    assert _row(resolution, "dataset.val_dataset.ann_file").value == "/srv/jobs/conv-1/results/val"
    assert _row(resolution, "dataset.test_dataset.ann_file").value == "/srv/jobs/conv-1/results/test"
    assert _row(resolution, "dataset.train_dataset.ann_file").value == "/srv/jobs/conv-1/results/train"


def test_without_a_convert_job_the_converted_rows_say_where_to_get_them(sparse4d: Skill) -> None:
    spec = render_spec(sparse4d, "train")
    datasets = [Dataset("scenes", "lab", "train", "/data/aicity/train")]
    resolution = resolve_requirements(sparse4d, "train", spec, host="lab", datasets=datasets)
    assert _row(resolution, "dataset.data_root").value == "/data/aicity/train"
    anchor = resolution.row("model.head.instance_bank.anchor")
    assert anchor is not None and anchor.origin is Origin.UNSET and "dataset_convert job" in anchor.note
    ann = resolution.row("dataset.train_dataset.ann_file")
    assert ann is not None and not ann.is_set and "dataset_convert job" in ann.note


def test_convert_job_found_up_the_lineage_and_mandatory_keys_inherited(sparse4d: Skill) -> None:
    convert = _convert_job()
    train = Job(
        id="train-1",
        skill=sparse4d.name,
        action="train",
        host="lab",
        parent_id="conv-1",
        spec_yaml="dataset:\n  data_root: /data/aicity/train\n  train_dataset:\n    ann_file: /x/train\n"
        "encryption_key: '********'\n",
        job_dir="/srv/jobs/train-1",
    )
    jobs = {job.id: job for job in (convert, train)}
    assert find_convert_job(train, jobs.get) is convert
    assert find_convert_job(None, jobs.get) is None
    spec = render_spec(sparse4d, "export")
    resolution = resolve_requirements(sparse4d, "export", spec, host="lab", parent=train, convert_job=convert)
    assert resolution.inherited["dataset.data_root"] == "/data/aicity/train"
    assert resolution.inherited["dataset.train_dataset.ann_file"] == "/x/train"
    assert "export.checkpoint" not in resolution.inherited, "launch fills the checkpoint from the parent"
    resolution.apply(spec)
    assert spec.get("dataset.data_root") == "/data/aicity/train"
