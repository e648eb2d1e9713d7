"""Job folders in TAO's layout for the monitoring tests: real tensorboardX event files, TAO status lines.

`write_tao_train(job_dir, ...)` writes what a finished TAO pose-classification train leaves in
`<job_dir>/results/train/`: `lightning_logs/version_1/events.out.tfevents.*` (tensorboardX, TAO's tag
names) and `status.json` (the stand-in's copy of TAO's status logger). `GrowingFile` replays a
finished file into place in chunks cut at random byte offsets, as a training writes it.
"""

from __future__ import annotations

import math
import random
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.jobs.model import Job, JobStatus
from tests.infra.tfevents_writer import ScalarTriple, write_simple_scalars
from tests.standin.tao_standin.status import STARTED, StatusLogger, epoch_progress

POSE = "tao-train-pose-classification"
EVENT_SUBDIR = Path("results") / "train" / "lightning_logs" / "version_1"


def train_points(epochs: int, steps_per_epoch: int, seed: int = 0) -> list[ScalarTriple]:
    """Scalars in the order TAO's pose train logs them (per-step loss, then the epoch's metrics)."""
    rng = random.Random(seed)
    points: list[ScalarTriple] = []
    for epoch in range(epochs):
        for batch in range(steps_per_epoch):
            step = epoch * steps_per_epoch + batch
            points.append(("train_loss_step", step, 1.5 * math.exp(-step / 40) + rng.uniform(0, 0.3)))
        last = (epoch + 1) * steps_per_epoch - 1
        points.append(("lr-SGD", last, 0.01 * (0.1 if epoch >= epochs * 0.7 else 1.0)))
        points.append(("epoch", last, float(epoch)))
        points.append(("train_loss_epoch", last, 1.2 * math.exp(-epoch / 3) + rng.uniform(0, 0.05)))
        points.append(("train_acc_1", last, 1 - 0.7 * math.exp(-epoch / 2)))
        points.append(("val_loss", last, 1.4 * math.exp(-epoch / 4) + rng.uniform(0, 0.08)))
        points.append(("val_acc@1", last, 0.9 - 0.6 * math.exp(-epoch / 3)))
    return points


@dataclass
class TaoRun:
    """A written run: where its files are, and what was written."""

    job_dir: Path
    event_file: Path
    status_file: Path
    points: list[ScalarTriple]
    kpis: dict[str, float] = field(default_factory=dict)

    def values(self, tag: str) -> list[float]:
        """The values written for a tag, in order, as stored (`simple_value` is a float32)."""
        return [float(np.float32(value)) for name, _, value in self.points if name == tag]

    def steps(self, tag: str) -> list[int]:
        """The steps written for a tag, in order."""
        return [step for name, step, _ in self.points if name == tag]


def write_status(path: Path, epochs_done: int, num_epochs: int, steps_per_epoch: int,
                 points: list[ScalarTriple], finished: bool) -> dict[str, float]:
    """TAO's status lines for the epochs done; returns the last (sticky) kpis."""
    logger = StatusLogger(path)
    logger.write("Starting Pose Classification train.", status=STARTED)
    logger.write("Starting Training Loop.", status=STARTED)
    by_epoch: dict[int, dict[str, float]] = {}
    for tag, step, value in points:
        by_epoch.setdefault(step // steps_per_epoch, {})[tag] = value
    kpis: dict[str, float] = {}
    for epoch in range(epochs_done):
        values = by_epoch.get(epoch, {})
        step, max_step = (epoch + 1) * steps_per_epoch, num_epochs * steps_per_epoch
        progress = epoch_progress(epoch, step, num_epochs, max_step, 2.0, steps_per_epoch)
        logger.write("Training loop in progress", data=progress)
        train = {"train_loss": values.get("train_loss_epoch", 0.0),
                 "train_acc": values.get("train_acc_1", 0.0)}
        logger.write("Train metrics generated.", kpi=train)
        val = {"val_loss": values.get("val_loss", 0.0), "val_acc": values.get("val_acc@1", 0.0)}
        logger.write("Eval metrics generated.", kpi=val)
        kpis.update(train)
        kpis.update(val)
    if finished:
        logger.write("Training loop complete.")
        logger.write("Train finished successfully.")
    return kpis


def write_tao_train(job_dir: Path, num_epochs: int = 6, steps_per_epoch: int = 8, seed: int = 0,
                    epochs_done: int | None = None, start_time: float = 1_700_000_000.0) -> TaoRun:
    """A pose train's results folder as TAO leaves it after `epochs_done` epochs (all by default)."""
    done = num_epochs if epochs_done is None else epochs_done
    points = train_points(done, steps_per_epoch, seed)
    event_file = write_simple_scalars(job_dir / EVENT_SUBDIR, points, start_time=start_time)
    status_file = job_dir / "results" / "train" / "status.json"
    kpis = write_status(status_file, done, num_epochs, steps_per_epoch, points, finished=done == num_epochs)
    return TaoRun(job_dir, event_file, status_file, points, kpis)


def tao_job(job_dir: Path, status: JobStatus = JobStatus.COMPLETED, job_id: str | None = None,
            host: str = "local", spec_yaml: str = "") -> Job:
    """A job record for a folder written by `write_tao_train`."""
    now = time.time()
    return Job(
        id=job_id or f"20260101-000000-train-{zlib.crc32(str(job_dir).encode()) & 0xFFFF:04x}",
        skill=POSE, action="train", host=host, spec_yaml=spec_yaml, job_dir=str(job_dir),
        status=status, created_at=now - 60, started_at=now - 60,
        finished_at=None if status is JobStatus.RUNNING else now,
    )


class GrowingFile:
    """Copies a finished file into place piece by piece, cut at random byte offsets."""

    def __init__(self, source: Path, target: Path, seed: int = 0, largest_piece: int = 700) -> None:
        self.data = source.read_bytes()
        self.target = target
        self.position = 0
        self._random = random.Random(seed)
        self.largest_piece = largest_piece
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"")

    @property
    def done(self) -> bool:
        """True once every byte is in place."""
        return self.position >= len(self.data)

    def grow(self, size: int | None = None) -> int:
        """Append the next piece (random size unless given); returns its size."""
        size = size if size is not None else self._random.randint(1, self.largest_piece)
        piece = self.data[self.position : self.position + size]
        with open(self.target, "ab") as stream:
            stream.write(piece)
        self.position += len(piece)
        return len(piece)
