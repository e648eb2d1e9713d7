"""Study records: what a study searches and how, its state, and the controls other processes send it.

A study record lives in the job store's database (table ``automl_studies``); Optuna's trials live
beside it in Optuna's own tables. One scheduler owns a running study at a time: it claims the
record and writes a heartbeat; another process (``taodesk automl stop``, the GUI) asks for pause,
resume, stop or cancel by writing a request the owner picks up at its next step. Without a live
owner, a request is applied to the record directly.

States: ``running`` (new trials are started), ``paused`` (none are started; running trials go
on), ``stopping`` (none are started; the running ones finish, then ``stopped``), ``cancelling``
(running trials are stopped, then ``cancelled``), ``finished`` (the budget is spent), ``failed``
(the study cannot go on; ``message`` says why).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from psygnal import Signal

from app.core.automl.engine import EngineSettings
from app.core.automl.space import SearchSpace
from app.core.jobs.store import JobStore

HEARTBEAT_STALE_SECONDS = 20.0


class StudyState(StrEnum):
    """Where a study is."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    CANCELLING = "cancelling"
    FINISHED = "finished"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """True once nothing more will happen to the study."""
        return self in (StudyState.FINISHED, StudyState.STOPPED, StudyState.CANCELLED, StudyState.FAILED)


class StudyRequest(StrEnum):
    """What the user asked a study to do."""

    NONE = ""
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    CANCEL = "cancel"


@dataclass
class StudyConfig:
    """Everything that defines a study: the base spec, the space, the algorithm, the budget, the GPUs."""

    skill: str
    host: str
    spec_yaml: str
    space: SearchSpace
    metric: str
    direction: str = "minimize"
    action: str = "train"
    algorithm: str = "tpe"
    pruner: str = "median"
    trials: int = 10
    parallel: int = 1
    gpus: list[int] = field(default_factory=list)
    gpus_per_trial: int = 1
    seed: int | None = None
    startup_trials: int = 4
    baseline: bool = True
    grid_points: int = 3
    image: str | None = None
    name: str = ""

    def to_json(self) -> str:
        """JSON text for the record."""
        data = asdict(self)
        data["space"] = self.space.to_dict()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> StudyConfig:
        """The inverse of ``to_json`` (unknown keys from newer versions are ignored)."""
        data = json.loads(text)
        data["space"] = SearchSpace.from_dict(data["space"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def engine_settings(self) -> EngineSettings:
        """How the engine draws and judges this study's configurations."""
        return EngineSettings(
            algorithm=self.algorithm,
            pruner=self.pruner,
            direction=self.direction,
            seed=self.seed,
            startup_trials=self.startup_trials,
            grid_points=self.grid_points,
            baseline=self.baseline,
        )

    @property
    def slots(self) -> int:
        """How many trials run at once: one per GPU group, or ``parallel`` on a host without GPUs."""
        if self.gpus:
            return max(1, len(self.gpus) // max(1, self.gpus_per_trial))
        return max(1, self.parallel)

    def gpu_groups(self) -> list[list[int]]:
        """The chosen GPUs cut into disjoint groups, one trial per group (empty: no GPUs)."""
        size = max(1, self.gpus_per_trial)
        return [self.gpus[i : i + size] for i in range(0, len(self.gpus) - size + 1, size)]


@dataclass
class StudyRecord:
    """One study as the database keeps it."""

    id: str
    config: StudyConfig
    state: StudyState = StudyState.RUNNING
    request: StudyRequest = StudyRequest.NONE
    message: str = ""
    owner: str | None = None
    heartbeat_at: float | None = None
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The user's name for the study, else its id."""
        return self.config.name or self.id

    def owner_alive(self, now: float | None = None) -> bool:
        """True while a scheduler holds the study and its heartbeat is fresh."""
        if not self.owner or self.heartbeat_at is None or owner_process_gone(self.owner):
            return False
        return (now if now is not None else time.time()) - self.heartbeat_at < HEARTBEAT_STALE_SECONDS


def new_study_id(skill: str, now: float | None = None) -> str:
    """A readable unique id: ``automl-20261121-115000-pose-classification-3f9a``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    return f"automl-{stamp}-{skill.removeprefix('tao-train-')}-{secrets.token_hex(2)}"


_COLUMNS = (
    "id",
    "skill",
    "action",
    "host",
    "config",
    "state",
    "request",
    "message",
    "owner",
    "heartbeat_at",
    "created_at",
    "finished_at",
    "extra",
)


def _to_row(record: StudyRecord) -> tuple[Any, ...]:
    return (
        record.id,
        record.config.skill,
        record.config.action,
        record.config.host,
        record.config.to_json(),
        record.state.value,
        record.request.value,
        record.message,
        record.owner,
        record.heartbeat_at,
        record.created_at,
        record.finished_at,
        json.dumps(record.extra),
    )


def _from_row(row: sqlite3.Row) -> StudyRecord:
    return StudyRecord(
        id=row["id"],
        config=StudyConfig.from_json(row["config"]),
        state=StudyState(row["state"]),
        request=StudyRequest(row["request"]),
        message=row["message"],
        owner=row["owner"],
        heartbeat_at=row["heartbeat_at"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        extra=json.loads(row["extra"]),
    )


class StudyStore:
    """Study records in the job store's database. Emits ``changed(study_id)`` on every write."""

    changed = Signal(str)

    def __init__(self, jobs: JobStore) -> None:
        self.path: Path = jobs.path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=60)
        self._db.row_factory = sqlite3.Row

    def add(self, record: StudyRecord) -> StudyRecord:
        """Insert a new study."""
        with self._lock:
            self._db.execute(
                f"INSERT INTO automl_studies ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                _to_row(record),
            )
        self.changed.emit(record.id)
        return record

    def save(self, record: StudyRecord) -> StudyRecord:
        """Write every field of an existing study."""
        row = _to_row(record)
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        with self._lock:
            self._db.execute(f"UPDATE automl_studies SET {assignments} WHERE id = ?", (*row[1:], row[0]))
        self.changed.emit(record.id)
        return record

    def update(self, study_id: str, **fields: Any) -> StudyRecord:
        """Change some fields and return the record."""
        record = self.get(study_id)
        for key, value in fields.items():
            if not hasattr(record, key):
                raise AttributeError(f"studies have no field '{key}'")
            setattr(record, key, value)
        return self.save(record)

    def get(self, study_id: str) -> StudyRecord:
        """A study by id (a unique prefix or a unique name works too); KeyError otherwise."""
        with self._lock:
            row = self._db.execute("SELECT * FROM automl_studies WHERE id = ?", (study_id,)).fetchone()
            rows = (
                []
                if row is not None
                else self._db.execute(
                    "SELECT * FROM automl_studies WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at",
                    (study_id.replace("%", "\\%").replace("_", "\\_") + "%",),
                ).fetchall()
            )
        if row is None and len(rows) == 1:
            row = rows[0]
        if row is None:
            named = [r for r in self.all() if r.config.name == study_id]
            if len(named) == 1:
                return named[0]
            if len(rows) > 1 or len(named) > 1:
                raise KeyError(
                    f"'{study_id}' matches {max(len(rows), len(named))} studies; give more of the id"
                )
            raise KeyError(f"no AutoML study '{study_id}'")
        return _from_row(row)

    def find(self, study_id: str) -> StudyRecord | None:
        """A study by id, or None."""
        try:
            return self.get(study_id)
        except KeyError:
            return None

    def all(self) -> list[StudyRecord]:
        """Every study, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM automl_studies ORDER BY created_at DESC").fetchall()
        return [_from_row(r) for r in rows]

    def job_ids(self, study_id: str) -> list[str]:
        """Ids of the study's trial jobs (jobs launched with its ``study_id``), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE study_id = ? ORDER BY created_at, id", (study_id,)
            ).fetchall()
        return [str(r["id"]) for r in rows]

    def claim(self, study_id: str, owner: str, now: float | None = None) -> bool:
        """Become the study's scheduler unless another live one holds it.

        An owner is gone when its heartbeat is stale, or at once when it was a process of this
        machine that no longer exists (the app was killed and started again).
        """
        now = time.time() if now is None else now
        with self._lock:
            current = self.get(study_id).owner
            if current and current != owner and owner_process_gone(current):
                self._db.execute(
                    "UPDATE automl_studies SET heartbeat_at = NULL WHERE id = ? AND owner = ?",
                    (study_id, current),
                )
            cursor = self._db.execute(
                "UPDATE automl_studies SET owner = ?, heartbeat_at = ? WHERE id = ? AND "
                "(owner IS NULL OR owner = ? OR heartbeat_at IS NULL OR heartbeat_at < ?)",
                (owner, now, study_id, owner, now - HEARTBEAT_STALE_SECONDS),
            )
            claimed = cursor.rowcount == 1
        if claimed:
            self.changed.emit(study_id)
        return claimed

    def heartbeat(self, study_id: str, owner: str) -> StudyRecord:
        """Refresh the owner's heartbeat and return the record (with any pending request)."""
        with self._lock:
            self._db.execute(
                "UPDATE automl_studies SET heartbeat_at = ? WHERE id = ? AND owner = ?",
                (time.time(), study_id, owner),
            )
        return self.get(study_id)

    def release(self, study_id: str, owner: str) -> None:
        """Let go of the study (the app closes or the study ended)."""
        with self._lock:
            self._db.execute(
                "UPDATE automl_studies SET owner = NULL, heartbeat_at = NULL WHERE id = ? AND owner = ?",
                (study_id, owner),
            )
        self.changed.emit(study_id)

    def request(self, study_id: str, request: StudyRequest) -> StudyRecord:
        """Ask the study to pause, resume, stop or cancel (applied directly when no scheduler runs it)."""
        record = self.get(study_id)
        if record.state.is_final:
            if request is StudyRequest.RESUME and record.state is not StudyState.FAILED:
                return self.update(study_id, request=request)
            return record
        if record.owner_alive():
            return self.update(study_id, request=request)
        return self.update(study_id, state=offline_state(record.state, request), request=request)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


def owner_name() -> str:
    """A scheduler owner name: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def owner_process_gone(owner: str) -> bool:
    """True when ``owner`` names a process of this machine that has ended."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def offline_state(state: StudyState, request: StudyRequest) -> StudyState:
    """The state a request leads to (the scheduler finishes stopping or cancelling when it runs)."""
    if request is StudyRequest.PAUSE and state is StudyState.RUNNING:
        return StudyState.PAUSED
    if request is StudyRequest.RESUME and state in (StudyState.PAUSED, StudyState.STOPPING):
        return StudyState.RUNNING
    if request is StudyRequest.STOP and not state.is_final:
        return StudyState.STOPPING
    if request is StudyRequest.CANCEL and not state.is_final:
        return StudyState.CANCELLING
    return state
