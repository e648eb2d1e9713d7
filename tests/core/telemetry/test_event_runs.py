"""EventRunReader over a TAO run folder: growth, restarts (several files), replaced files, SSH."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from app.core.hosts.settings import HostConfig
from app.core.telemetry.event_runs import EventRunReader, tao_event_dir
from app.core.telemetry.files import LocalFiles
from app.core.telemetry.tfevents import read_event_file
from tests.infra.tfevents_writer import ScalarTriple, tensorboard_scalars, write_simple_scalars

FIRST_FILE = "events.out.tfevents.1700000000.trainer.101.0"
RESTART_FILE = "events.out.tfevents.1700000900.trainer.202.0"


class CountingFiles(LocalFiles):
    """Local files, counting the bytes handed out (to check that only new bytes are read)."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def read_range(self, path: str, offset: int, size: int) -> bytes:
        data = super().read_range(path, offset, size)
        self.bytes_read += len(data)
        return data


def training_points(first: int, last: int, loss_offset: float) -> list[ScalarTriple]:
    points: list[ScalarTriple] = []
    for step in range(first, last):
        points.append(("train_loss_step", step, loss_offset + 1.0 / (step + 1)))
        points.append(("lr", step, 1e-3))
        if step % 10 == 0:
            points.append(("val_loss", step, loss_offset + 2.0 / (step + 1)))
    return points


@pytest.fixture(scope="module")
def two_trainings(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A first training (steps 0-59) and a restart from the step-40 checkpoint (steps 40-99)."""
    staging = tmp_path_factory.mktemp("staging")
    first = write_simple_scalars(staging / "first", training_points(0, 60, 0.0), start_time=1_700_000_000.0)
    restart = write_simple_scalars(
        staging / "restart", training_points(40, 100, 10.0), start_time=1_700_000_900.0
    )
    return first.read_bytes(), restart.read_bytes()


@pytest.fixture(scope="module")
def resumed_training(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A training resumed from the last checkpoint of the first one (steps 60-99)."""
    staging = tmp_path_factory.mktemp("staging")
    return write_simple_scalars(
        staging / "resumed", training_points(60, 100, 10.0), start_time=1_700_000_900.0
    ).read_bytes()


def append(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        handle.write(data)


def assert_same_as_tensorboard(reader: EventRunReader, run_dir: Path) -> None:
    reference = tensorboard_scalars(run_dir)
    assert reader.tags() == sorted(reference)
    for tag, events in reference.items():
        series = reader.series(tag)
        assert series.steps.tolist() == [step for step, _, _ in events], tag
        assert series.values.tolist() == [value for _, _, value in events], tag
        assert series.wall_times.tolist() == [wall for _, wall, _ in events], tag


def test_follows_a_run_folder_that_appears_grows_and_gains_a_file(
    tmp_path: Path, two_trainings: tuple[bytes, bytes], resumed_training: bytes
) -> None:
    first, _ = two_trainings
    run_dir = Path(tao_event_dir(str(tmp_path / "results" / "train")))
    assert run_dir == tmp_path / "results" / "train" / "lightning_logs" / "version_1"
    source = CountingFiles()
    reader = EventRunReader(source, str(run_dir))

    assert reader.poll() == set() and reader.problems == []  # the trainer has not started yet
    append(run_dir / FIRST_FILE, first[: len(first) // 3])
    assert reader.poll() == {"train_loss_step", "lr", "val_loss"}
    assert 0 < len(reader.series("train_loss_step")) < 60
    append(run_dir / FIRST_FILE, first[len(first) // 3 :])
    reader.poll()
    assert reader.series("train_loss_step").steps.tolist() == list(range(60))
    assert reader.poll() == set()  # nothing new

    append(run_dir / RESTART_FILE, resumed_training[:1001])
    reader.poll()
    append(run_dir / RESTART_FILE, resumed_training[1001:])
    reader.poll()

    assert reader.files == [FIRST_FILE, RESTART_FILE]
    assert reader.series("train_loss_step").steps.tolist() == list(range(100))
    assert_same_as_tensorboard(reader, run_dir)
    assert source.bytes_read == len(first) + len(resumed_training)
    assert reader.problems == []


def test_a_restart_replaces_the_orphaned_steps_of_the_crashed_run(
    tmp_path: Path, two_trainings: tuple[bytes, bytes]
) -> None:
    first, restart = two_trainings
    run_dir = tmp_path / "version_1"
    append(run_dir / FIRST_FILE, first)
    reader = EventRunReader(LocalFiles(), str(run_dir))
    reader.poll()
    append(run_dir / RESTART_FILE, restart)
    reader.poll()

    loss = reader.series("train_loss_step")
    assert loss.steps.tolist() == list(range(100))
    assert np.all(loss.values[:40] < 10) and np.all(loss.values[40:] > 10)  # 40-59 come from the restart
    assert reader.series("val_loss").steps.tolist() == list(range(0, 100, 10))
    assert np.all(np.diff(loss.wall_times[40:]) > 0) and loss.wall_times[40] > loss.wall_times[39]


@pytest.mark.parametrize("rounds", [1, 3, 17])
def test_files_written_at_the_same_time_merge_the_same_way_whatever_the_poll_timing(
    tmp_path: Path, two_trainings: tuple[bytes, bytes], rounds: int
) -> None:
    first, restart = two_trainings
    run_dir = tmp_path / "version_1"
    reader = EventRunReader(LocalFiles(), str(run_dir))
    for index in range(rounds):  # both files grow between polls
        append(
            run_dir / RESTART_FILE,
            restart[index * len(restart) // rounds : (index + 1) * len(restart) // rounds],
        )
        append(run_dir / FIRST_FILE, first[index * len(first) // rounds : (index + 1) * len(first) // rounds])
        reader.poll()

    loss = reader.series("train_loss_step")
    assert loss.steps.tolist() == list(range(100))
    assert np.all(loss.values[:40] < 10) and np.all(loss.values[40:] > 10)


def test_a_bounded_poll_reads_a_large_run_progressively(large_event_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(large_event_file, run_dir / large_event_file.name)
    reader = EventRunReader(LocalFiles(), str(run_dir), read_chunk=7_000)

    polls = 0
    while reader.poll(max_bytes=50_000):
        polls += 1

    size = large_event_file.stat().st_size
    assert polls >= size // 50_000
    expected, _ = read_event_file(large_event_file)
    assert reader.tags() == sorted(expected)
    for tag, series in expected.items():
        assert np.array_equal(reader.series(tag).values, series.values, equal_nan=True)
        assert np.array_equal(reader.series(tag).steps, series.steps)


def test_a_replaced_shorter_file_is_read_again(tmp_path: Path, two_trainings: tuple[bytes, bytes]) -> None:
    first, restart = two_trainings
    run_dir = tmp_path / "run"
    append(run_dir / FIRST_FILE, first)
    reader = EventRunReader(LocalFiles(), str(run_dir))
    reader.poll()
    kept = reader.series("train_loss_step")

    (run_dir / FIRST_FILE).write_bytes(restart[: len(first) // 2])
    changed = reader.poll()

    assert "train_loss_step" in changed
    assert reader.series("train_loss_step") is kept  # views bound to the series stay valid
    assert kept.steps[0] == 40 and np.all(kept.values > 10)
    assert any("shrank" in problem.message and FIRST_FILE in problem.message for problem in reader.problems)


def test_an_unreadable_run_folder_is_reported_not_raised(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "version_1"
    not_a_folder.write_text("a file where the run folder should be")
    reader = EventRunReader(LocalFiles(), str(not_a_folder))

    assert reader.poll() == set()
    assert reader.poll() == set()
    assert len(reader.problems) == 1 and str(not_a_folder) in str(reader.problems[0])


@pytest.mark.ssh
def test_follows_a_growing_run_on_an_ssh_host(
    ssh_host_config: HostConfig,
    two_trainings: tuple[bytes, bytes],
    resumed_training: bytes,
) -> None:
    from app.core.hosts.session import open_session

    first, _ = two_trainings
    run_dir = Path(tao_event_dir(str(Path(ssh_host_config.workspace) / "results" / "train")))
    with open_session(ssh_host_config) as session:
        reader = EventRunReader(session, str(run_dir))
        assert reader.poll() == set()  # the folder does not exist yet on the host
        append(run_dir / FIRST_FILE, first[:777])
        reader.poll()
        assert 0 < len(reader.series("train_loss_step")) < 60
        append(run_dir / FIRST_FILE, first[777:])
        append(run_dir / RESTART_FILE, resumed_training)
        reader.poll()

    assert reader.problems == []
    assert_same_as_tensorboard(reader, run_dir)
