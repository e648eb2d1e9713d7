"""Checks every action gets: mandatory keys, paths on the host, permissions, spec rules, GPUs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from app.core.datasets import checks_common
from app.core.datasets.context import PreflightOptions
from app.core.datasets.findings import SET_VALUE, WARNING
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.hosts.gpus import GpuInfo, GpuInventory
from app.core.hosts.local import LocalHostSession
from app.core.hosts.session import FileStat, HostPath
from app.core.hosts.settings import HostConfig
from app.core.skills.model import Skill
from app.core.specs.service import render_spec
from tests.infra.preflight_data import pose_spec_overrides, small_pose_dataset, train_dataset
from tests.standin.make_pose_data import PoseDataset

NO_GPU_CHECK = PreflightOptions(check_gpus=False)


@pytest.fixture
def data(tmp_path: Path) -> PoseDataset:
    return small_pose_dataset(tmp_path / "pose")


def _train(
    pose: Skill,
    session: LocalHostSession,
    data: PoseDataset,
    extra: list[str] | None = None,
    options: PreflightOptions = NO_GPU_CHECK,
    with_dataset: bool = True,
) -> PreflightReport:
    spec = render_spec(pose, "train", overrides=pose_spec_overrides(data) + (extra or []))
    datasets = [train_dataset(data.folder, host=session.name)] if with_dataset else []
    return run_preflight(pose, "train", spec, session, datasets=datasets, options=options)


def test_missing_mandatory_rows_say_how_to_fill_them(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    report = _train(pose, local, data, with_dataset=False)
    missing = {f.spec_key: f for f in report.errors if f.check == "mandatory"}
    assert set(missing) == {
        "dataset.train_dataset.data_path",
        "dataset.train_dataset.label_path",
        "dataset.val_dataset.data_path",
        "dataset.val_dataset.label_path",
    }
    assert (
        "taodesk datasets add NAME --host local --role train" in missing["dataset.val_dataset.data_path"].fix
    )


def test_typed_paths_relative_missing_or_of_the_wrong_kind(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    report = _train(
        pose,
        local,
        data,
        extra=[
            "dataset.train_dataset.data_path=pose/train_data.npy",
            f"dataset.val_dataset.data_path={data.folder}/nothing.npy",
            f"dataset.val_dataset.label_path={data.folder}",
        ],
    )
    messages = {f.spec_key: f.message for f in report.errors}
    assert "is a relative path" in messages["dataset.train_dataset.data_path"]
    assert "does not exist on host 'local'" in messages["dataset.val_dataset.data_path"]
    assert "should be a file but is a folder" in messages["dataset.val_dataset.label_path"]


def test_permissions_for_the_uid_the_container_runs_as(
    pose: Skill, local: LocalHostSession, data: PoseDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LocalHostSession, "uid_gid", lambda self: (4242, 4242))
    os.chmod(data.data_path("train"), 0o600)
    locked = data.folder.parent / "locked"
    locked.mkdir()
    os.chmod(locked, 0o700)
    hidden = locked / "val_data.npy"
    hidden.write_bytes(data.data_path("val").read_bytes())
    os.chmod(hidden, 0o644)
    report = _train(pose, local, data, extra=[f"dataset.val_dataset.data_path={hidden}"])
    messages = {f.spec_key: f for f in report.errors}
    assert (
        "not readable by 4242:4242, the user the job runs as"
        in messages["dataset.train_dataset.data_path"].message
    )
    assert "chmod o+r" in messages["dataset.train_dataset.data_path"].fix
    assert (
        f"the folder {locked} cannot be entered by 4242:4242"
        in messages["dataset.val_dataset.data_path"].message
    )


class _RemoteView(LocalHostSession):
    """This machine's files seen as an SSH host that lacks one folder (unit-test stand-in for a remote)."""

    def __init__(self, hidden: Path) -> None:
        super().__init__(
            HostConfig(name="lab", kind="ssh", ssh_host="lab.example", workspace=tempfile.gettempdir())
        )
        self.hidden = str(hidden)

    def stat(self, path: HostPath) -> FileStat | None:
        return None if os.fspath(path).startswith(self.hidden) else super().stat(path)


def test_a_path_only_on_this_computer_is_flagged_on_a_remote_host(pose: Skill, data: PoseDataset) -> None:
    remote = _RemoteView(data.folder)
    report = _train(pose, remote, data)
    finding = next(f for f in report.errors if f.spec_key == "dataset.train_dataset.data_path")
    assert "exists on this computer but not on host 'lab'" in finding.message
    assert "paths are paths on 'lab'" in finding.fix


def test_spec_rules_and_gpu_id_mismatch(pose: Skill, local: LocalHostSession, data: PoseDataset) -> None:
    report = _train(
        pose,
        local,
        data,
        extra=["train.num_epochs=3", "train.validation_interval=5", "train.num_gpus=2", "train.gpu_ids=[0]"],
    )
    rule = next(f for f in report.errors if f.spec_key == "train.validation_interval")
    assert "must not exceed the number of epochs" in rule.message
    ids = next(f for f in report.warnings if f.spec_key == "train.gpu_ids")
    assert "TAO uses the larger (2)" in ids.message
    assert (ids.fix_action, ids.fix_value) == (SET_VALUE, [0, 1])


def _inventory(*memories: int) -> GpuInventory:
    gpus = [GpuInfo(i, "Test GPU", memory, 0, 0, f"GPU-{i}") for i, memory in enumerate(memories)]
    return GpuInventory(gpus, "" if gpus else "No NVIDIA GPUs found on 'local': CPU work only")


def test_gpus_on_the_host_and_minimum_hardware(
    pose: Skill, sparse4d: Skill, local: LocalHostSession, data: PoseDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks_common, "list_gpus", lambda session: _inventory(4096))
    report = _train(
        pose, local, data, extra=["train.num_gpus=2", "train.gpu_ids=[0, 1]"], options=PreflightOptions()
    )
    too_many = next(f for f in report.errors if f.check == "gpus")
    assert "asks for 2 GPUs; host 'local' has 1" in too_many.message and too_many.fix_value == 1
    assert any(f.check == "hardware" and "less than 8 GB" in f.message for f in report.warnings)
    chosen = _train(pose, local, data, options=PreflightOptions(gpus=[3]))
    assert any("GPU(s) 3 are not on host 'local' (it has: 0)" in f.message for f in chosen.errors)
    sparse = run_preflight(
        sparse4d, "train", render_spec(sparse4d, "train"), local, options=PreflightOptions()
    )
    assert any(f.check == "hardware" and "needs at least 2 GPUs" in f.message for f in sparse.warnings)
    monkeypatch.setattr(checks_common, "list_gpus", lambda session: _inventory())
    none = _train(pose, local, data, options=PreflightOptions())
    assert [f.message for f in none.findings if f.check == "gpus"] == [
        "No NVIDIA GPUs found on 'local': CPU work only"
    ]
    assert none.warnings[0].severity == WARNING and not none.errors


def test_the_real_gpu_probe_answers_on_this_machine(
    pose: Skill, local: LocalHostSession, data: PoseDataset
) -> None:
    from app.core.hosts.gpus import list_gpus

    report = _train(pose, local, data, options=PreflightOptions())
    gpu_findings = [(f.severity, f.spec_key) for f in report.findings if f.check == "gpus"]
    expected = [] if list_gpus(local).gpus else [("warning", "train.num_gpus")]
    assert gpu_findings == expected
