"""Launch latency (printed figures): from ``JobManager.launch`` to a running container, locally and over SSH.

Run: ``python -m tests.benchmarks.bench_launch`` (needs Docker, the stand-in image and OpenSSH's sshd).
Each launch writes the job folder and spec on the host, checks the image, creates and starts the
container; the job itself is the stand-in's pose train on a small generated dataset.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from app.core.hosts.settings import HostStore
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.store import JobStore
from app.core.skills import load_banks
from app.core.specs.service import render_spec
from tests.infra.jobs import REPO, SKILLS, STANDIN_IMAGE, local_host, pose_overrides
from tests.infra.sshd import start_sshd, stop_sshd
from tests.standin.make_pose_data import make_pose_dataset

POSE = "tao-train-pose-classification"
RUNS = 5


def _measure(manager: JobManager, host: str, overrides: list[str]) -> list[float]:
    skill = manager.bank.skill(POSE)
    samples = []
    for _ in range(RUNS):
        spec = render_spec(skill, "train", overrides=overrides)
        start = time.perf_counter()
        job = manager.launch(LaunchRequest(POSE, "train", host, spec))
        samples.append(time.perf_counter() - start)
        manager.wait(job.id, poll_seconds=0.2, timeout=120)
        manager.delete(job.id)
    return samples


def main() -> None:
    """Print launch latency for a local and an SSH host."""
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        os.environ["TAODESK_CONFIG_DIR"] = str(base / "config")
        os.environ["TAODESK_DATA_DIR"] = str(base / "data")
        data = make_pose_dataset(base / "data" / "pose", 64, 24, 24, 4, frames=60, seed=1)
        overrides = pose_overrides(data, epochs=1)
        hosts = HostStore()
        hosts.put(local_host(base / "ws-local"))
        server, process = start_sshd(base / "sshd")
        try:
            server.accept_host_key()
            (base / "ws-ssh").mkdir()
            hosts.put(server.host_config(base / "ws-ssh", shm_size="256m",
                                         default_images={s: STANDIN_IMAGE for s in SKILLS}))
            manager = JobManager(JobStore(), load_banks([REPO / "skills"]), hosts)
            for host in ("local", "lab"):
                start = time.perf_counter()
                manager.session(host).docker.ping()
                connect = time.perf_counter() - start
                samples = _measure(manager, host, overrides)
                print(f"{host:5s} connect {connect * 1000:6.0f} ms, launch to running: median "
                      f"{statistics.median(samples) * 1000:6.0f} ms (min {min(samples) * 1000:.0f}, "
                      f"max {max(samples) * 1000:.0f}, n={len(samples)})")
            manager.close()
        finally:
            stop_sshd(process)


if __name__ == "__main__":
    main()
