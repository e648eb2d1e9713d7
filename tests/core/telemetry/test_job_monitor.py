"""JobMonitor, progress_for and MetricsSampler on job folders in TAO's layout (local, SSH, Docker)."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.hosts.errors import HostPathNotFound
from app.core.hosts.local import LocalHostSession
from app.core.hosts.session import CommandResult, open_session
from app.core.hosts.settings import HostConfig
from app.core.jobs.model import Job, JobStatus
from app.core.telemetry.files import LocalFiles
from app.core.telemetry.job_monitor import (
    JobMonitor,
    describe_progress,
    format_seconds,
    job_event_dir,
    progress_for,
    status_file_candidates,
)
from app.core.telemetry.system_metrics import BoundedSeries, MetricsSampler, container_sample
from tests.infra.monitor import EVENT_SUBDIR, GrowingFile, TaoRun, tao_job, write_tao_train
from tests.infra.tfevents_writer import tensorboard_scalars


def local_session(tmp_path: Path) -> LocalHostSession:
    return LocalHostSession(HostConfig(name="local", kind="local", workspace=str(tmp_path)))


def assert_matches_tensorboard(monitor: JobMonitor, run_dir: Path) -> None:
    reference = tensorboard_scalars(run_dir)
    assert monitor.tags() == sorted(reference)
    for tag, events in reference.items():
        series = monitor.series(tag)
        assert series.steps.tolist() == [step for step, _, _ in events], tag
        assert series.wall_times.tolist() == [wall for _, wall, _ in events], tag
        assert series.values.tolist() == [value for _, _, value in events], tag


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> TaoRun:
    staging = tmp_path_factory.mktemp("staging")
    return write_tao_train(staging / "job", num_epochs=6, steps_per_epoch=8, seed=4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_growing_run_cut_at_random_offsets_is_read_incrementally(
    tmp_path: Path, finished_run: TaoRun, seed: int
) -> None:
    job_dir = tmp_path / "job"
    job = tao_job(job_dir, JobStatus.RUNNING)
    events = GrowingFile(finished_run.event_file, job_dir / EVENT_SUBDIR / finished_run.event_file.name, seed)
    status = GrowingFile(finished_run.status_file, job_dir / "results" / "train" / "status.json", seed + 10,
                         largest_piece=90)
    monitor = JobMonitor(job, local_session(tmp_path))
    assert not monitor.poll().changed, "nothing written yet"
    seen_epochs: list[int] = []
    changed_tags: set[str] = set()
    while not (events.done and status.done):
        events.grow()
        status.grow()
        update = monitor.poll()
        changed_tags |= set(update.series)
        for data in update.series.values():
            assert np.all(np.diff(data.steps) >= 0), "steps stay sorted"
        if update.progress is not None and update.progress.epoch is not None:
            seen_epochs.append(update.progress.epoch)
    assert changed_tags == set(tensorboard_scalars(job_dir / EVENT_SUBDIR))
    assert seen_epochs == sorted(seen_epochs) and seen_epochs[-1] == 5
    assert_matches_tensorboard(monitor, job_dir / EVENT_SUBDIR)
    assert monitor.progress.epoch == 5 and monitor.progress.max_epoch == 5
    assert monitor.status.kpis == finished_run.kpis
    assert not monitor.poll().changed, "a second poll of an unchanged folder reports nothing"
    assert monitor.finish().problems == []


def record_starts(data: bytes) -> list[int]:
    """Where each TFRecord of an event file starts (length, crc, data, crc)."""
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        position += 12 + int.from_bytes(data[position : position + 8], "little") + 4
    return starts


def test_an_update_holds_only_the_changed_tags_as_read_only_copies(
    tmp_path: Path, finished_run: TaoRun
) -> None:
    job_dir = tmp_path / "job"
    events = GrowingFile(finished_run.event_file, job_dir / EVENT_SUBDIR / finished_run.event_file.name)
    assert [tag for tag, _, _ in finished_run.points[-2:]] == ["val_loss", "val_acc@1"]
    last_two = set(tensorboard_scalars(finished_run.event_file.parent)) - {
        tag for tag, _, _ in finished_run.points[:-2]
    }
    events.grow(record_starts(events.data)[-2])  # all but the last two records
    monitor = JobMonitor(tao_job(job_dir, JobStatus.RUNNING), LocalFiles())
    first = monitor.poll()
    held = first.series["val_loss"]
    assert not held.values.flags.writeable
    before = held.values.tolist()
    events.grow(len(events.data))
    second = monitor.poll()
    assert set(second.series) == {"val_loss"} | last_two
    assert held.values.tolist() == before, "a copy handed out earlier does not change"
    assert second.series["val_loss"].values.tolist() == finished_run.values("val_loss")
    assert len(before) == len(finished_run.values("val_loss")) - 1


def test_status_in_the_results_folder_of_a_data_services_task(tmp_path: Path) -> None:
    job = Job(id="j", skill="tao-train-sparse4d", action="dataset_convert", host="local", spec_yaml="",
              job_dir=str(tmp_path / "job"))
    results = tmp_path / "job" / "results"
    results.mkdir(parents=True)
    assert status_file_candidates(job) == [f"{results}/dataset_convert/status.json", f"{results}/status.json"]
    assert progress_for(job, LocalFiles()) is None
    (results / "status.json").write_text(
        json.dumps({"date": "1/2/2026", "time": "3:4:5", "status": "STARTED", "verbosity": "INFO",
                    "message": "Starting annotations convert."}) + "\n"
        + json.dumps({"date": "1/2/2026", "time": "3:4:9", "status": "RUNNING", "verbosity": "INFO",
                      "message": "Convert finished successfully.", "kpi": {"Number of objects": 412}}) + "\n"
    )
    progress = progress_for(job, LocalFiles())
    assert progress is not None and progress.last_message == "Convert finished successfully."
    monitor = JobMonitor(job, LocalFiles())
    assert monitor.poll().kpis == {"Number of objects": 412}


def test_a_task_results_dir_set_in_the_spec_is_where_the_monitor_looks(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    run = write_tao_train(tmp_path / "staging", num_epochs=2, steps_per_epoch=3)
    shutil.copytree(run.job_dir / "results" / "train", elsewhere)
    job = tao_job(tmp_path / "job", spec_yaml=f"results_dir: /ignored\ntrain:\n  results_dir: {elsewhere}\n")
    assert job_event_dir(job) == f"{elsewhere}/lightning_logs/version_1"
    monitor = JobMonitor(job, LocalFiles())
    update = monitor.finish()
    assert update.series["val_loss"].values.tolist() == run.values("val_loss")
    assert monitor.progress.epoch == 1


def test_corrupt_and_truncated_files_are_reported_and_skipped(tmp_path: Path, finished_run: TaoRun) -> None:
    job_dir = tmp_path / "job"
    event_path = job_dir / EVENT_SUBDIR / finished_run.event_file.name
    event_path.parent.mkdir(parents=True)
    data = bytearray(finished_run.event_file.read_bytes())
    middle = data.find(b"train_loss_step", len(data) // 2)
    data[middle + 3] ^= 0xFF  # a flipped bit: the record's checksum no longer matches
    event_path.write_bytes(bytes(data[:-7]))  # and the last record cut short
    status_lines = finished_run.status_file.read_bytes().splitlines(keepends=True)
    status_lines.insert(3, b'{"epoch": 0, "status": "RUNN\n')
    (job_dir / "results" / "train" / "status.json").write_bytes(b"".join(status_lines))
    monitor = JobMonitor(tao_job(job_dir), LocalFiles())
    update = monitor.finish()
    messages = [str(problem) for problem in update.problems]
    assert any(event_path.name in text and "byte offset" in text for text in messages), messages
    assert any("status.json at line 4" in text for text in messages), messages
    written = finished_run.steps("train_loss_step")
    read = update.series["train_loss_step"].steps.tolist()
    assert len(read) == len(written) - 1 and set(read) < set(written), "only the corrupt record is lost"
    assert monitor.status.kpis == finished_run.kpis


def test_a_replaced_status_file_is_read_again(tmp_path: Path) -> None:
    first = write_tao_train(tmp_path / "a", num_epochs=4, steps_per_epoch=2)
    job = tao_job(first.job_dir, JobStatus.RUNNING)
    monitor = JobMonitor(job, LocalFiles())
    monitor.poll()
    assert monitor.progress.epoch == 3
    first.status_file.write_text(first.status_file.read_text().splitlines()[0] + "\n")
    assert monitor.poll().progress is not None
    assert monitor.progress.epoch is None, "the shorter file replaced the longer one"


def test_progress_lines_for_tables_and_terminals(tmp_path: Path) -> None:
    run = write_tao_train(tmp_path / "job", num_epochs=6, steps_per_epoch=8, epochs_done=2)
    job = tao_job(run.job_dir, JobStatus.RUNNING)
    progress = progress_for(job, LocalFiles())
    assert progress is not None
    assert (progress.epoch, progress.num_epochs, progress.step, progress.max_step) == (1, 6, 16, 48)
    assert describe_progress(progress, JobStatus.RUNNING) == "epoch 2/6 · step 16/48 · ETA 0:00:08"
    assert describe_progress(progress, JobStatus.FAILED, with_step=False) == "epoch 2/6"
    assert describe_progress(None) == "-"
    assert format_seconds(90061) == "1d 1:01:01" and format_seconds(None) == "-"


@pytest.mark.ssh
def test_the_monitor_reads_a_growing_run_over_ssh(
    ssh_host_config: HostConfig, finished_run: TaoRun, tmp_path: Path
) -> None:
    job_dir = Path(ssh_host_config.workspace) / "job"
    job = tao_job(job_dir, JobStatus.RUNNING, host="lab")
    events = GrowingFile(finished_run.event_file, job_dir / EVENT_SUBDIR / finished_run.event_file.name, 7)
    status = GrowingFile(finished_run.status_file, job_dir / "results" / "train" / "status.json", 8, 120)
    with open_session(ssh_host_config) as session:
        monitor = JobMonitor(job, session)
        while not (events.done and status.done):
            for _ in range(5):
                events.grow()
                status.grow()
            monitor.poll()
        monitor.finish()
        assert_matches_tensorboard(monitor, job_dir / EVENT_SUBDIR)
        assert monitor.status.kpis == finished_run.kpis
        assert monitor.status.path == str(job_dir / "results" / "train" / "status.json")


# -- GPUs and the container ------------------------------------------------------------------------


def test_cpu_and_memory_are_computed_as_docker_stats_does() -> None:
    cgroup_v1 = {
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000, "percpu_usage": [1, 2]},
                      "system_cpu_usage": 20_000_000_000, "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000}, "system_cpu_usage": 18_000_000_000},
        "memory_stats": {"usage": 600 << 20, "limit": 8 << 30,
                         "stats": {"total_inactive_file": 100 << 20, "inactive_file": 1}},
    }
    sample = container_sample(cgroup_v1, when=5.0)
    assert sample.cpu_percent == pytest.approx(0.5e9 / 2e9 * 2 * 100)  # 50%: half of one core
    assert sample.memory_used_bytes == 500 << 20, "page cache is not counted"
    assert sample.memory_percent == pytest.approx(100 * 500 / (8 * 1024))
    cgroup_v2 = {
        "cpu_stats": {"cpu_usage": {"total_usage": 9_000_000_000}, "system_cpu_usage": 40_000_000_000,
                      "online_cpus": 4},
        "precpu_stats": {"cpu_usage": {}, "system_cpu_usage": 0},
        "memory_stats": {"usage": 300 << 20, "limit": 4 << 30, "stats": {"inactive_file": 50 << 20}},
    }
    assert container_sample(cgroup_v2).cpu_percent is None, "no earlier reading yet"
    earlier = {"cpu_usage": {"total_usage": 8_000_000_000}, "system_cpu_usage": 36_000_000_000}
    later = container_sample(cgroup_v2, previous_cpu=earlier)
    assert later.cpu_percent == pytest.approx(1e9 / 4e9 * 4 * 100)
    assert later.memory_used_bytes == 250 << 20


class NvidiaSmiHost:
    """A host session whose nvidia-smi reports two GPUs (a unit-test stand-in for the GPU query)."""

    name = "gpu-box"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def run(self, argv: list[str], timeout: float | None = 60.0) -> CommandResult:
        self.calls.append(argv)
        rows = {0: "0, 97, 30100, 81559", 1: "1, 12, 2048, 81559"}
        chosen = [int(i) for i in argv[argv.index("-i") + 1].split(",")] if "-i" in argv else list(rows)
        return CommandResult(0, "\n".join(rows[index] for index in chosen) + "\n", "")


def test_gpu_samples_cover_the_jobs_gpus_only() -> None:
    host = NvidiaSmiHost()
    job = Job(id="j", skill="s", action="train", host="gpu-box", spec_yaml="", job_dir="/x", gpus=[1])
    sampler = MetricsSampler(job, host)  # type: ignore[arg-type]
    sampler._sample_gpus(100.0)
    sampler._sample_gpus(102.0)
    snapshot = sampler.snapshot()
    assert list(snapshot.gpu_utilisation) == [1]
    times, values = snapshot.gpu_utilisation[1]
    assert times.tolist() == [100.0, 102.0] and values.tolist() == [12.0, 12.0]
    assert snapshot.gpu_memory_total_mib == {1: 81559}
    assert host.calls[-1][-2:] == ["-i", "1"]
    cpu_job = Job(id="k", skill="s", action="train", host="gpu-box", spec_yaml="", job_dir="/x")
    idle = MetricsSampler(cpu_job, host)  # type: ignore[arg-type]
    idle.probe()
    assert idle.gpu_note == "This job uses no GPU."


def test_bounded_series_keeps_the_latest_samples() -> None:
    series = BoundedSeries(capacity=3)
    for when in range(5):
        series.append(float(when), None if when == 4 else when * 10.0)
    times, values = series.arrays()
    assert times.tolist() == [2.0, 3.0, 4.0]
    assert values[:2].tolist() == [20.0, 30.0] and math.isnan(values[2])
    assert series.last() is None


BUSY_LOOP = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"
IDLE = "import time\ntime.sleep(60)"


@pytest.fixture
def containers(tmp_path: Path) -> Iterator[dict[str, tuple[Any, Job]]]:
    """A container that keeps one core busy and one that sleeps, each with a job record."""
    from tests.infra.jobs import STANDIN_IMAGE, standin_available

    if not standin_available():
        pytest.skip("Docker engine or stand-in image not available")
    import docker

    client = docker.from_env()
    started = {}
    try:
        for name, program in (("busy", BUSY_LOOP), ("idle", IDLE)):
            container = client.containers.run(STANDIN_IMAGE, ["python3", "-c", program], entrypoint="",
                                              detach=True, labels={"taodesk.test": "monitor"})
            started[name] = container, Job(id=name, skill="s", action="train", host="local", spec_yaml="",
                                           job_dir=str(tmp_path), container_id=container.id,
                                           status=JobStatus.RUNNING)
        yield started
    finally:
        for container, _ in started.values():
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        client.close()


@pytest.mark.docker
def test_a_busy_containers_cpu_and_memory_are_sampled(
    containers: dict[str, tuple[Any, Job]], tmp_path: Path
) -> None:
    with local_session(tmp_path) as session:
        samplers = {name: MetricsSampler(job, session) for name, (_, job) in containers.items()}
        for _ in range(3):
            snapshots = {name: sampler.sample() for name, sampler in samplers.items()}
            time.sleep(0.7)  # CPU is measured between two readings
        busy, idle = snapshots["busy"], snapshots["idle"]
        assert busy.cpu_percent[0].size == 3
        busy_cpu, idle_cpu = float(busy.cpu_percent[1][-1]), float(idle.cpu_percent[1][-1])
        cores = session.docker.info()["NCPU"]
        # On a loaded machine the loop gets less than a core, but always far more than a sleeper.
        assert idle_cpu < 5.0 < 25.0 < busy_cpu <= 100.0 * cores + 10.0, (busy_cpu, idle_cpu)
        _, memory = busy.memory_bytes
        assert 1 << 20 < memory[-1] < 1 << 30
        assert busy.memory_limit_bytes and busy.memory_limit_bytes >= memory[-1]
        if shutil.which("nvidia-smi") is None:
            assert busy.gpu_note == "No GPUs on host 'local': the job runs on the CPU."
        container, _ = containers["busy"]
        sampler = samplers["busy"]
        container.kill()
        container.wait(timeout=30)
        sampler.sample()
        assert sampler.container_note == "The container is not running."
        container.remove(force=True)
        time.sleep(0.2)
        sampler.sample()
        assert sampler.container_note == "The job's container is gone."


def test_a_missing_folder_is_no_error(tmp_path: Path) -> None:
    job = tao_job(tmp_path / "nothing-yet", JobStatus.RUNNING)
    with local_session(tmp_path) as session:
        with pytest.raises(HostPathNotFound):
            session.list_dir(str(tmp_path / "nothing-yet"))
        update = JobMonitor(job, session).poll()
    assert not update.changed and not update.status_found
