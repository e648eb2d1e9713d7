"""Preflight through the real paths: the taodesk command, files over a real sshd, converted artifacts
from a real dataset_convert job of the stand-in image, and `taodesk run` refusing or launching."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.datasets.context import MiB, PreflightOptions
from app.core.datasets.depth_paths import apply_depth_fix, preview_depth_fix
from app.core.datasets.findings import NORMALIZE_DEPTH_PATHS
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.datasets.registry import Dataset, DatasetRegistry
from app.core.hosts.local import LocalHostSession
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig, HostStore
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import Job, JobStatus
from app.core.skills import load_banks
from app.core.skills.model import Skill
from app.core.specs.service import render_spec
from tests.infra.jobs import local_host, needs_standin
from tests.infra.preflight_data import (
    POSE,
    REPO,
    SPARSE4D,
    converted_scenes,
    hostile_pickle,
    pose_spec_overrides,
    small_pose_dataset,
    sparse4d_overrides,
)
from tests.standin.make_scenes import make_aicity_root

NO_GPU_CHECK = PreflightOptions(check_gpus=False)


def taodesk(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m app ARGS`` with the test's isolated user folders."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=dict(os.environ),
    )


@pytest.fixture(scope="module")
def skills() -> dict[str, Skill]:
    bank = load_banks([REPO / "skills"])
    return {name: bank.skill(name) for name in (POSE, SPARSE4D)}


def _lines(report: PreflightReport) -> list[str]:
    return [f"{f.severity} {f.spec_key}: {f.message}" for f in report.findings if f.check != "gpus"]


def test_cli_registers_datasets_and_preflight_exits_1_on_errors(tmp_path: Path) -> None:
    data = small_pose_dataset(tmp_path / "pose")
    HostStore().put(HostConfig(name="local", workspace=str(tmp_path / "workspace")))
    added = taodesk(
        "datasets", "add", "pose", "--host", "local", "--role", "train", "--path", str(data.folder)
    )
    assert added.returncode == 0, added.stderr
    missing = taodesk(
        "datasets", "add", "gone", "--host", "local", "--role", "eval", "--path", "/no/such/dir"
    )
    assert missing.returncode == 2 and "does not exist on host 'local'" in missing.stderr
    listed = taodesk("datasets", "list", "--json")
    assert [d["name"] for d in json.loads(listed.stdout)] == ["pose"]

    overrides = [arg for o in pose_spec_overrides(data) for arg in ("--set", o)]
    good = taodesk("preflight", "pose-classification", "train", "--host", "local", *overrides)
    assert good.returncode == 0, good.stdout + good.stderr
    assert (
        good.stdout.strip()
        .splitlines()[-1]
        .startswith("tao-train-pose-classification/train on 'local': 0 errors")
    )
    bad = taodesk(
        "preflight",
        "pose-classification",
        "train",
        "--host",
        "local",
        *overrides,
        "--set",
        "dataset.batch_size=64",
    )
    assert bad.returncode == 1
    errors = [line for line in bad.stdout.splitlines() if line.startswith("error")]
    assert errors and all(line.startswith("error   dataset.batch_size: ") for line in errors)
    as_json = json.loads(
        taodesk("preflight", "pose-classification", "train", "--host", "local", "--json").stdout
    )
    rows = {row["spec_key"]: row for row in as_json["rows"]}
    assert rows["dataset.train_dataset.data_path"]["origin"] == "dataset pose"
    assert taodesk("datasets", "rm", "pose").returncode == 0
    assert taodesk("datasets", "list").stdout.startswith("No datasets registered")
    unknown_host = taodesk("preflight", "pose-classification", "train", "--host", "nowhere")
    assert unknown_host.returncode == 2 and "no host named 'nowhere'" in unknown_host.stderr


@pytest.fixture
def ssh_session(ssh_host_config: HostConfig) -> Iterator[HostSession]:
    session = open_session(ssh_host_config)
    yield session
    session.close()


@pytest.mark.ssh
def test_pose_over_ssh_finds_what_it_finds_locally(
    skills: dict[str, Skill], ssh_session: HostSession, tmp_path: Path
) -> None:
    data = small_pose_dataset(tmp_path / "pose")
    marker = tmp_path / "payload-ran"
    hostile_pickle(data.label_path("val"), marker)
    pose = skills[POSE]
    spec = render_spec(pose, "train", overrides=[*pose_spec_overrides(data), "dataset.batch_size=24"])
    reports = []
    for session, host in ((LocalHostSession(HostConfig(name="local")), "local"), (ssh_session, "lab")):
        datasets = [Dataset("pose", host, "train", str(data.folder))]
        reports.append(
            run_preflight(
                pose,
                "train",
                spec,
                session,
                datasets=datasets,
                options=NO_GPU_CHECK,
            )
        )
    local, remote = reports
    assert _lines(remote) == _lines(local)
    assert any("16 sequences, fewer than the batch (24)" in line for line in _lines(remote))
    assert any(
        "refused to load" in f.message for f in remote.errors if f.spec_key.endswith("val_dataset.label_path")
    )
    assert not marker.exists()


@pytest.mark.ssh
def test_sparse4d_over_ssh_checks_infos_and_fixes_depth_paths_by_sftp(
    skills: dict[str, Skill], ssh_session: HostSession, tmp_path: Path
) -> None:
    converted = converted_scenes(tmp_path, hide_depth_maps=True)
    converted.job.host = "lab"
    sparse4d = skills[SPARSE4D]
    spec = render_spec(sparse4d, "train", overrides=sparse4d_overrides())
    report = run_preflight(
        sparse4d,
        "train",
        spec,
        ssh_session,
        parent=converted.job,
        options=NO_GPU_CHECK,
    )
    fixes = [f for f in report.errors if f.fix_action == NORMALIZE_DEPTH_PATHS]
    assert [f.spec_key for f in report.errors] == [f.spec_key for f in fixes], [
        f.line() for f in report.errors
    ]
    for finding in fixes[:2]:
        plan = preview_depth_fix(
            ssh_session,
            finding.fix_value["pickles"],
            finding.fix_value["data_root"],
            max_bytes=64 * MiB,
        )
        apply_depth_fix(ssh_session, plan, max_bytes=64 * MiB)
    assert len(list(converted.results.glob("*/*.pkl.bak"))) == len(list(converted.results.glob("*/*.pkl")))
    again = run_preflight(
        sparse4d,
        "train",
        spec,
        ssh_session,
        parent=converted.job,
        options=NO_GPU_CHECK,
    )
    assert again.errors == [], [f.line() for f in again.errors]


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    """Jobs on the local engine with the stand-in image, in this test's own store."""
    from app.core.jobs.store import JobStore

    HostStore().put(local_host(tmp_path / "workspace"))
    jobs = JobManager(JobStore(), load_banks([REPO / "skills"]))
    yield jobs
    for job in jobs.store.all():
        try:
            jobs.delete(job.id)
        except Exception as error:  # cleanup must not hide the test's own failure
            print(f"cleanup of {job.id}: {error}")
    jobs.close()


def _convert_job(manager: JobManager, root: Path, hide_depth_maps: bool) -> Job:
    sparse4d = manager.bank.skill(SPARSE4D)
    moved = []
    if hide_depth_maps:
        for depth in sorted(root.glob("*/*/depth_maps")):
            depth.rename(depth.with_name("depth_maps_away"))
            moved.append(depth)
    spec = render_spec(
        sparse4d,
        "dataset_convert",
        overrides=[
            f"aicity.root={root}",
            "aicity.split=train,val",
            "aicity.anchor_init_config.num_anchor=16",
        ],
    )
    try:
        job = manager.follow(manager.launch(LaunchRequest(SPARSE4D, "dataset_convert", "local", spec)).id)
    finally:
        for depth in moved:
            depth.with_name("depth_maps_away").rename(depth)
    assert job.status is JobStatus.COMPLETED, manager.log(job.id).text(last=30)
    return job


@pytest.mark.docker
@needs_standin
def test_real_convert_job_then_run_refuses_fixes_and_trains(manager: JobManager, tmp_path: Path) -> None:
    scenes = make_aicity_root(tmp_path / "aicity", scenes=1, cameras=3, frames=8, splits=("train", "val"))
    convert = _convert_job(manager, scenes.root, hide_depth_maps=True)
    settings = ["--set", "train.num_epochs=1", *[a for o in sparse4d_overrides() for a in ("--set", o)]]
    refused = taodesk("run", "sparse4d", "train", "--host", "local", "--parent", convert.id, *settings)
    assert refused.returncode == 1
    assert (
        "refusing to launch" in refused.stderr
        and "depth reference(s) point at a camera folder" in refused.stderr
    )
    assert [j.id for j in manager.store.all()] == [convert.id], "nothing was launched"

    session = manager.session("local")
    report = run_preflight(
        manager.bank.skill(SPARSE4D),
        "train",
        render_spec(manager.bank.skill(SPARSE4D), "train", overrides=sparse4d_overrides()),
        session,
        parent=convert,
        options=NO_GPU_CHECK,
    )
    for finding in [f for f in report.errors if f.fix_action == NORMALIZE_DEPTH_PATHS][:2]:
        plan = preview_depth_fix(
            session, finding.fix_value["pickles"], finding.fix_value["data_root"], max_bytes=64 * MiB
        )
        apply_depth_fix(session, plan, max_bytes=64 * MiB)

    trained = taodesk(
        "run", "sparse4d", "train", "--host", "local", "--parent", convert.id, *settings, "--wait"
    )
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-2000:]
    assert "Execution status: PASS" in trained.stdout
    job = next(j for j in manager.store.all() if j.action == "train")
    assert f"data_root: {scenes.root}/train" in job.spec_yaml
    assert f"anchor: {convert.results_dir}/anchor_init.npy" in job.spec_yaml


@pytest.mark.docker
@needs_standin
def test_run_fills_the_pose_spec_from_the_dataset_and_force_fails_as_predicted(
    manager: JobManager, tmp_path: Path
) -> None:
    data = small_pose_dataset(tmp_path / "pose")
    DatasetRegistry().add(Dataset("pose", "local", "train", str(data.folder)))
    settings = [a for o in [*pose_spec_overrides(data), "train.num_epochs=1"] for a in ("--set", o)]
    done = taodesk("run", "pose-classification", "train", "--host", "local", *settings, "--wait")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    job = manager.store.all()[0]
    assert f"data_path: {data.data_path('train')}" in job.spec_yaml
    forced = taodesk(
        "run",
        "pose-classification",
        "train",
        "--host",
        "local",
        *settings,
        "--set",
        "dataset.batch_size=32",
        "--force",
        "--wait",
    )
    assert "preflight: error   dataset.batch_size: " in forced.stderr
    assert forced.returncode == 1, "the job fails the way preflight said it would"
    assert "Dataset size (16) is smaller than the total batch size (32)" in forced.stdout
