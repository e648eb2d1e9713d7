"""Study records in the job store's database: migration, ownership, requests from other processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.automl.space import build_search_space
from app.core.automl.study import (
    StudyConfig,
    StudyRecord,
    StudyRequest,
    StudyState,
    StudyStore,
    new_study_id,
    owner_name,
)
from app.core.jobs.store import _MIGRATIONS, SCHEMA_VERSION, JobStore
from app.core.skills import load_banks

REPO = Path(__file__).resolve().parents[3]


def _record() -> StudyRecord:
    skill = load_banks([REPO / "skills"]).skill("tao-train-pose-classification")
    config = StudyConfig(
        skill=skill.name,
        host="local",
        spec_yaml="train: {}\n",
        space=build_search_space(skill),
        metric="val_loss",
        gpus=[0, 1, 2],
        gpus_per_trial=2,
        name="lr sweep",
    )
    return StudyRecord(id=new_study_id(skill.name), config=config)


def test_version_1_database_gains_the_study_table_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "taodesk.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(f"BEGIN; {_MIGRATIONS[1]}; PRAGMA user_version = 1; COMMIT;")
    old.execute(
        "INSERT INTO jobs (id, skill, action, host, spec_yaml, job_dir, status, created_at) "
        "VALUES ('j1', 's', 'train', 'local', '', '/w/j1', 'completed', 1.0)"
    )
    old.commit()
    old.close()
    store = JobStore(path)
    assert store.schema_version == SCHEMA_VERSION == 2
    assert store.get("j1").status.value == "completed"
    studies = StudyStore(store)
    record = studies.add(_record())
    again = studies.get(record.id)
    assert again.config.to_json() == record.config.to_json()
    assert again.config.gpu_groups() == [[0, 1]] and again.config.slots == 1
    assert studies.get("lr sweep").id == record.id, "a study can be named"
    store.close()


def test_one_live_owner_at_a_time(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    studies = StudyStore(store)
    record = studies.add(_record())
    first, second = owner_name(), "other-host:1:abc"
    assert studies.claim(record.id, first)
    assert not studies.claim(record.id, second), "the first owner's heartbeat is fresh"
    assert studies.get(record.id).owner_alive()
    studies.update(record.id, heartbeat_at=time.time() - 3600)
    assert studies.claim(record.id, second), "a stale heartbeat gives the study up"
    studies.release(record.id, second)
    assert studies.get(record.id).owner is None
    store.close()


def test_a_killed_owner_on_this_machine_is_replaced_at_once(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    studies = StudyStore(store)
    record = studies.add(_record())
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = owner_name().split(":")[0] + f":{int(child.stdout)}:dead"
    assert studies.claim(record.id, dead)
    assert not studies.get(record.id).owner_alive()
    assert studies.claim(record.id, owner_name())
    store.close()


@pytest.mark.parametrize(
    ("request_", "state"),
    [
        (StudyRequest.PAUSE, StudyState.PAUSED),
        (StudyRequest.STOP, StudyState.STOPPING),
        (StudyRequest.CANCEL, StudyState.CANCELLING),
    ],
)
def test_requests_without_a_scheduler_change_the_state(
    tmp_path: Path, request_: StudyRequest, state: StudyState
) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    studies = StudyStore(store)
    record = studies.add(_record())
    assert studies.request(record.id, request_).state is state
    store.close()


def test_requests_to_a_running_scheduler_wait_for_it(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    studies = StudyStore(store)
    record = studies.add(_record())
    studies.claim(record.id, owner_name())
    after = studies.request(record.id, StudyRequest.STOP)
    assert after.state is StudyState.RUNNING and after.request is StudyRequest.STOP
    with pytest.raises(KeyError, match="no AutoML study"):
        studies.get("automl-nope")
    store.close()
