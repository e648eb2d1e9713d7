"""AutoML scheduling overhead (printed figures): from a trial being proposed to its container running.

Run: ``python -m tests.benchmarks.bench_automl [--trials N] [--parallel N]`` (needs Docker and the
stand-in image). A small pose study (learning rate only, TPE, no pruning) runs on the local engine;
each trial records when it was asked for, when its values were drawn and checked, and when its
container was running. The reference is a plain ``JobManager.launch`` of the same spec, measured in
the same run: the ratio says what AutoML adds on top of launching a job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from app.core.automl.scheduler import StudyScheduler
from app.core.automl.service import create_study
from app.core.automl.snapshot import read_snapshot
from app.core.automl.study import StudyStore
from app.core.hosts.settings import HostStore
from app.core.jobs.manager import JobManager, LaunchRequest
from app.core.jobs.store import JobStore
from app.core.skills import load_banks
from app.core.specs.service import render_spec
from tests.infra.automl import POSE, pose_study_config
from tests.infra.jobs import REPO, local_host, pose_overrides
from tests.standin.make_pose_data import make_pose_dataset

REFERENCE_RUNS = 5


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:6.0f} ms (min {min(values) * 1000:.0f}, "
        f"max {max(values) * 1000:.0f}, n={len(values)})"
    )


def _plain_launches(manager: JobManager, overrides: list[str]) -> list[float]:
    skill = manager.bank.skill(POSE)
    samples = []
    for _ in range(REFERENCE_RUNS):
        spec = render_spec(skill, "train", overrides=overrides)
        start = time.perf_counter()
        job = manager.launch(LaunchRequest(POSE, "train", "local", spec))
        samples.append(time.perf_counter() - start)
        manager.wait(job.id, poll_seconds=0.2, timeout=120)
        manager.delete(job.id)
    return samples


def _container_seconds(manager: JobManager, job_id: str) -> float:
    """How long a job's container ran, from the engine's own start and finish times."""
    job = manager.store.get(job_id)
    state = manager.session(job.host).docker.containers.get(job.container_id).attrs["State"]
    started, finished = (_instant(state[key]) for key in ("StartedAt", "FinishedAt"))
    return max(0.0, finished - started)


def _instant(text: str) -> float:
    """Docker's RFC 3339 time with nanoseconds, as seconds since the epoch."""
    from datetime import datetime

    head, _, fraction = text.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head + "+00:00").timestamp()
    return whole + float(f"0.{fraction or 0}")


def main() -> None:
    """Run the reference launches and a study; print the per-trial overhead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        os.environ["TAODESK_CONFIG_DIR"] = str(base / "config")
        os.environ["TAODESK_DATA_DIR"] = str(base / "data")
        data = make_pose_dataset(base / "pose", 64, 24, 24, 4, frames=60, seed=1)
        hosts = HostStore()
        hosts.put(local_host(base / "workspace"))
        manager = JobManager(JobStore(), load_banks([REPO / "skills"]), hosts)
        reference = _plain_launches(manager, pose_overrides(data, epochs=2))

        studies = StudyStore(manager.store)
        config = pose_study_config(manager, data, trials=args.trials, epochs=2, parallel=args.parallel)
        config.pruner = "none"
        created = create_study(manager, studies, config)
        scheduler = StudyScheduler(manager, studies, created.record.id, poll_seconds=0.2)
        started = time.perf_counter()
        record = scheduler.run()
        wall = time.perf_counter() - started
        trials = [t for t in read_snapshot(studies, record.id).trials if t.counted and "asked_at" in t.attrs]
        overhead = [float(t.attrs["running_at"]) - float(t.attrs["asked_at"]) for t in trials]
        sampling = [float(t.attrs["sampling_seconds"]) for t in trials]
        launching = [float(t.attrs["launch_seconds"]) for t in trials]
        print(
            f"study: {len(trials)} trials ({args.trials} + baseline), {args.parallel} at a time, "
            f"{record.state.value} in {wall:.1f} s"
        )
        print(f"plain launch (reference)          : {_ms(reference)}")
        print(f"trial proposed -> container running: {_ms(overhead)}")
        print(f"  of which: propose + check values: {_ms(sampling)}")
        print(f"            launch the job        : {_ms(launching)}")
        ratio = statistics.median(overhead) / statistics.median(reference)
        print(
            f"AutoML overhead / plain launch     : {ratio:.2f}x "
            f"(propose + check adds {statistics.median(sampling) * 1000:.0f} ms per trial)"
        )
        busy = sum(_container_seconds(manager, t.job_id) for t in trials)
        print(
            f"slot use: containers ran {busy:.1f} s of {wall * args.parallel:.1f} slot-seconds "
            f"({busy / (wall * args.parallel):.0%}); the rest is launching, polling and start-up"
        )
        for job_id in studies.job_ids(record.id):
            manager.delete(job_id)
        manager.close()


if __name__ == "__main__":
    main()
