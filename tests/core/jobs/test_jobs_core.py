"""Job core pieces without Docker: store, checkpoints, spec parameters, the container plan, lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.jobs.checkpoints import checkpoints_in, default_checkpoint, parse_checkpoint_name
from app.core.jobs.lifecycle import ContainerOutcome, failure_hint, status_from_container
from app.core.jobs.model import Job, JobStatus, new_job_id
from app.core.jobs.params import ParentCheckpointError, infer_spec_params, resolve_parent_checkpoint
from app.core.jobs.plan import LaunchError, MountSpec, build_plan, masked_spec, merge_mounts
from app.core.jobs.store import SCHEMA_VERSION, JobStore
from app.core.skills import Skill, load_banks
from app.core.specs.service import render_spec

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pose() -> Skill:
    return load_banks([REPO / "skills"]).skill("tao-train-pose-classification")


class Folder:
    """A host folder listing backed by a local directory (the LocalHostSession does the same)."""

    def list_dir(self, path: str) -> list[object]:
        return [type("Entry", (), {"name": p.name})() for p in sorted(Path(path).iterdir())]


def _job(tmp_path: Path, action: str = "train", **kwargs: Any) -> Job:
    job_id = new_job_id(action)
    return Job(
        id=job_id,
        skill="tao-train-pose-classification",
        action=action,
        host="local",
        spec_yaml="",
        job_dir=str(tmp_path / job_id),
        **kwargs,
    )


def _train_results(tmp_path: Path, parent: Job, names: list[str]) -> None:
    folder = Path(parent.results_dir) / "train"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"x")


def test_store_round_trip_lineage_and_schema_version(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    assert store.schema_version == SCHEMA_VERSION
    train = store.add(_job(tmp_path, gpus=[0, 1], extra={"warnings": ["w"]}))
    child = store.add(_job(tmp_path, "evaluate", parent_id=train.id))
    store.update(train.id, status=JobStatus.COMPLETED, exit_code=0)
    store.close()
    again = JobStore(tmp_path / "jobs.sqlite3")
    loaded = again.get(train.id)
    assert (
        loaded.status is JobStatus.COMPLETED and loaded.gpus == [0, 1] and loaded.extra == {"warnings": ["w"]}
    )
    assert [j.id for j in again.lineage(child.id)] == [train.id, child.id]
    assert [j.id for j in again.children(train.id)] == [child.id]
    assert again.get(child.id.rsplit("-", 1)[0].rsplit("-", 1)[0] + "-evaluate").id == child.id, (
        "unique prefix"
    )
    again.remove(train.id)
    assert again.get(child.id).parent_id is None


def test_checkpoint_names_and_default_never_the_latest_link(tmp_path: Path) -> None:
    assert parse_checkpoint_name("model_epoch_004_step_00265.pth") == (4, 265)
    assert parse_checkpoint_name("pc_model_latest.pth") is None
    parent = _job(tmp_path)
    _train_results(
        tmp_path,
        parent,
        [
            "model_epoch_009_step_00090.pth",
            "model_epoch_010_step_00100.pth",
            "pc_model_latest.pth",
            "status.json",
        ],
    )
    found = checkpoints_in(Folder(), f"{parent.results_dir}/train")
    assert [c.name for c in found] == [
        "model_epoch_009_step_00090.pth",
        "model_epoch_010_step_00100.pth",
        "pc_model_latest.pth",
    ]
    best = default_checkpoint(found)
    assert best is not None and best.name == "model_epoch_010_step_00100.pth"
    with pytest.raises(ParentCheckpointError, match="link"):
        resolve_parent_checkpoint(Folder(), parent, "pc_model_latest.pth")
    assert resolve_parent_checkpoint(
        Folder(), parent, "pc_model_latest.pth", allow_latest_link=True
    ).is_latest_link
    with pytest.raises(ParentCheckpointError, match="not in job"):
        resolve_parent_checkpoint(Folder(), parent, "model_epoch_001_step_00001.pth")


def test_spec_params_fill_folders_and_checkpoint(tmp_path: Path, pose: Skill) -> None:
    parent = _job(tmp_path)
    _train_results(tmp_path, parent, ["model_epoch_000_step_00007.pth", "model_epoch_001_step_00014.pth"])
    job = _job(tmp_path, "export", parent_id=parent.id)
    spec = render_spec(pose, "export")
    inferred = infer_spec_params(pose, "export", spec, job, files=Folder(), parent=parent)
    assert spec.get("results_dir") == job.results_dir
    assert spec.get("export.checkpoint").endswith("model_epoch_001_step_00014.pth")
    assert spec.get("export.onnx_file") == f"{job.results_dir}/export/pose_classification.onnx"
    assert set(inferred.values) >= {"results_dir", "export.checkpoint", "export.onnx_file"}
    inference = _job(tmp_path, "inference", parent_id=parent.id)
    spec = render_spec(pose, "inference")
    infer_spec_params(
        pose,
        "inference",
        spec,
        inference,
        files=Folder(),
        parent=parent,
        checkpoint="model_epoch_000_step_00007.pth",
        encryption_key="s3cret",
    )
    assert spec.get("inference.checkpoint").endswith("model_epoch_000_step_00007.pth")
    assert spec.get("inference.output_file") == f"{inference.results_dir}/inference/results.txt"
    assert spec.get("encryption_key") == "s3cret" and masked_spec(spec).get("encryption_key") == "********"


def test_plan_mounts_data_read_only_and_remaps_gpus(tmp_path: Path, pose: Skill) -> None:
    job = _job(tmp_path)
    spec = render_spec(
        pose,
        "train",
        overrides=[
            "dataset.train_dataset.data_path=/data/pose/train_data.npy",
            "dataset.val_dataset.data_path=/data/pose/val_data.npy",
            "dataset.train_dataset.label_path=/data/pose/train_label.pkl",
            "dataset.val_dataset.label_path=/data/other/val_label.pkl",
        ],
    )
    plan = build_plan(pose, job, spec, uid=1000, gid=1000, host_user="ann", host_gpus=[2, 3], shm_size="16G")
    assert [(m.path, m.read_only) for m in plan.mounts] == [
        ("/data/other", True),
        ("/data/pose", True),
        (job.job_dir, False),
    ]
    assert plan.device_ids == ["2", "3"]
    written = yaml.safe_load(plan.spec_text)["train"]
    assert (written["num_gpus"], written["gpu_ids"]) == (2, [0, 1]), "host GPUs 2,3 are 0,1 in the container"
    assert plan.command == ["pose_classification", "train", "-e", job.spec_path]
    assert plan.user == "1000:1000" and plan.environment["HOME"] == f"{job.job_dir}/.home"
    assert plan.labels == {
        "taodesk.job": job.id,
        "taodesk.skill": pose.name,
        "taodesk.action": "train",
        "taodesk.host": "local",
    }
    options = plan.container_options()
    assert options["name"] == f"taodesk-{job.id}" and options["shm_size"] == "16G"
    assert {u["Name"]: u["Soft"] for u in options["ulimits"]} == {"memlock": -1, "stack": 67108864}
    assert options["device_requests"][0]["DeviceIDs"] == ["2", "3"]
    spec.set("dataset.train_dataset.data_path", "/etc/passwd")
    with pytest.raises(LaunchError, match="cannot be mounted"):
        build_plan(pose, job, spec, uid=1000, gid=1000, host_user="ann", host_gpus=[], shm_size="1G")


def test_merge_mounts_keeps_a_writable_folder_inside_a_read_only_one() -> None:
    merged = merge_mounts(
        [
            MountSpec("/data/a", True),
            MountSpec("/data", True),
            MountSpec("/data/ws/job", False),
            MountSpec("/data/ws/job", True),
        ]
    )
    assert [(m.path, m.read_only) for m in merged] == [("/data", True), ("/data/ws/job", False)]


def test_lifecycle_and_hints(pose: Skill) -> None:
    assert status_from_container(ContainerOutcome("running")) is JobStatus.RUNNING
    assert status_from_container(ContainerOutcome("exited", 0)) is JobStatus.COMPLETED
    assert status_from_container(ContainerOutcome("exited", 1)) is JobStatus.FAILED
    assert (
        status_from_container(ContainerOutcome("exited", 137), cancel_requested=True) is JobStatus.CANCELLED
    )
    oom = ContainerOutcome("exited", 137, oom_killed=True)
    assert status_from_container(oom) is JobStatus.FAILED
    assert "out of memory" in failure_hint(pose, "train", oom, "").lower()
    log = "ValueError: Dataset size (3) is smaller than the total batch size (16). Not enough data for train."
    assert "batch" in failure_hint(pose, "train", ContainerOutcome("exited", 1), log).lower()
