"""Fixtures for the telemetry tests: event files written by real writers, and Docker."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.infra.docker_engine import docker_client, standin_image  # noqa: F401
from tests.infra.tfevents_writer import ScalarTriple, write_simple_scalars

LARGE_RUN_STEPS = 4000  # ~8,000 scalars: a file of several hundred KB


def lightning_like_points(steps: int) -> list[ScalarTriple]:
    """Points in the order Lightning logs them: loss and lr each step, val_loss every 50 steps,
    with a NaN and an infinity, a step past 2**40 and a negative step."""
    points: list[ScalarTriple] = []
    for step in range(steps):
        loss = 2.0 / (1.0 + 0.01 * step) + 0.05 * math.sin(step)
        if step == 10:
            loss = math.nan
        elif step == 11:
            loss = math.inf
        points.append(("train_loss_step", step, loss))
        points.append(("lr", step, 1e-3 * 0.999**step))
        if step % 50 == 0:
            points.append(("val_loss", step, 1.5 / (1.0 + 0.01 * step)))
    points.append(("big_step", 2**40 + 1, 0.25))
    points.append(("negative_step", -5, -2.5))
    return points


@pytest.fixture(scope="session")
def large_event_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tensorboardX event file of LARGE_RUN_STEPS steps in a run folder of its own."""
    folder = tmp_path_factory.mktemp("large_run")
    return write_simple_scalars(folder, lightning_like_points(LARGE_RUN_STEPS), start_time=1_700_000_000.0)


@pytest.fixture(scope="session")
def small_event_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tensorboardX event file of 40 steps (small enough to be read record by record)."""
    folder = tmp_path_factory.mktemp("small_run")
    return write_simple_scalars(folder, lightning_like_points(40), start_time=1_700_000_000.0)
