"""Jobs over SSH (real sshd, Docker over paramiko, SFTP) and reattaching after an app restart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.hosts.errors import HostError, HostKeyMismatch, UnknownHostKey
from app.core.hosts.known_hosts import forget_host_key
from app.core.hosts.settings import HostConfig, HostStore
from app.core.jobs.logstore import JobLog
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.model import JobStatus
from app.core.jobs.store import JobStore
from app.core.skills import load_banks
from app.core.specs.service import render_spec
from tests.infra.jobs import REPO, local_host, needs_standin, pose_overrides, ssh_manager
from tests.infra.sshd import SshServer
from tests.standin.make_pose_data import PoseDataset

pytestmark = [pytest.mark.docker, needs_standin]
POSE = "tao-train-pose-classification"


@pytest.mark.ssh
def test_train_then_inference_over_ssh(ssh_host_config: HostConfig, pose_data: PoseDataset) -> None:
    manager = ssh_manager(ssh_host_config)
    skill = manager.bank.skill(POSE)
    try:
        train = manager.launch(
            LaunchRequest(
                POSE, "train", "lab", render_spec(skill, "train", overrides=pose_overrides(pose_data))
            )
        )
        seen: list[str] = []
        train = manager.follow(train.id, on_lines=lambda lines: seen.extend(line.text for line in lines))
        assert train.status is JobStatus.COMPLETED, manager.log(train.id).text(last=30)
        assert any("Execution status: PASS" in line for line in seen)
        inference = manager.launch(
            LaunchRequest(
                POSE,
                "inference",
                "lab",
                render_spec(skill, "inference", overrides=pose_overrides(pose_data)),
                parent_id=train.id,
            )
        )
        assert inference.checkpoint.endswith("model_epoch_003_step_00032.pth"), "listed over SFTP"
        inference = manager.follow(inference.id)
        assert inference.status is JobStatus.COMPLETED
        session = manager.session("lab")
        text = session.read_bytes(f"{inference.results_dir}/inference/results.txt").decode()
        assert len(text.splitlines()) == 24
    finally:
        for job in manager.store.all():
            manager.delete(job.id)
        manager.close()


@pytest.mark.ssh
def test_wrong_host_key_and_unreachable_host_are_refused_plainly(
    ssh_server: SshServer, tmp_path: Path
) -> None:
    config = ssh_server.host_config(tmp_path, connect_timeout=3.0)
    forget_host_key(ssh_server.host, ssh_server.port)
    manager = ssh_manager(config)
    request = LaunchRequest(POSE, "train", "lab", render_spec(manager.bank.skill(POSE), "train"))
    with pytest.raises(UnknownHostKey) as unknown:
        manager.launch(request)
    assert unknown.value.fingerprint_sha256.startswith("SHA256:")
    from app.core.hosts.known_hosts import accept_host_key

    accept_host_key(
        ssh_server.host,
        ssh_server.port,
        "ssh-ed25519",
        "AAAAC3NzaC1lZDI1NTE5AAAAIEtcRrnp8W4bv0XlIHDS9sTfxfbafjsjsR9PjAR9vT7i",
    )
    with pytest.raises(HostKeyMismatch, match="CHANGED"):
        manager.launch(request)
    forget_host_key(ssh_server.host, ssh_server.port)
    closed = HostConfig(
        name="gone",
        kind="ssh",
        ssh_host="127.0.0.1",
        ssh_port=1,
        ssh_user="x",
        workspace="/tmp",
        connect_timeout=3.0,
    )
    manager.hosts.put(closed)
    start = time.monotonic()
    with pytest.raises(HostError, match="gone"):
        manager.launch(LaunchRequest(POSE, "train", "gone", render_spec(manager.bank.skill(POSE), "train")))
    assert time.monotonic() - start < 10
    manager.close()


def _epoch_lines(text: str) -> list[int]:
    return [int(m.group(1)) for m in re.finditer(r"^Epoch (\d+)/", text, re.MULTILINE)]


def test_app_restart_while_a_job_runs_reattaches_without_lost_or_repeated_lines(
    tmp_path: Path, pose_data: PoseDataset
) -> None:
    config = local_host(tmp_path / "workspace")
    config.extra_env["TAODESK_STANDIN_EPOCH_SECONDS"] = "0.4"
    hosts = HostStore()
    hosts.put(config)
    store = JobStore()
    first = JobManager(store, load_banks([REPO / "skills"]), hosts)
    skill = first.bank.skill(POSE)
    job = first.launch(
        LaunchRequest(
            POSE,
            "train",
            "local",
            render_spec(skill, "train", overrides=pose_overrides(pose_data, epochs=12)),
        )
    )
    stop = threading.Event()
    follower = threading.Thread(target=first.follow, args=(job.id,), kwargs={"stop": stop})
    follower.start()
    time.sleep(2.0)
    stop.set()  # the app closes while the job runs
    follower.join(timeout=30)
    first.close()
    store.close()
    stored_before = _epoch_lines(stored_log_text(job.id))
    assert stored_before and stored_before[-1] < 11, "the job was still running when the app closed"
    # A new process (the app started again) lists jobs: it reconciles and catches up.
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "app", "jobs", "logs", job.id, "--follow"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    again = JobStore()
    final = JobManager(again, load_banks([REPO / "skills"]), HostStore()).refresh(job.id)
    assert final.status is JobStatus.COMPLETED
    epochs = _epoch_lines(stored_log_text(job.id))
    assert epochs == list(range(12)), f"no lost and no repeated lines: {epochs}"
    assert result.stdout.count("Execution status: PASS") == 1
    JobManager(again, load_banks([REPO / "skills"]), HostStore()).delete(job.id)


def stored_log_text(job_id: str) -> str:
    """Everything the app kept of a job's log."""
    return JobLog(job_id).text()
