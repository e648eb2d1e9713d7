"""The job store: an embedded SQLite database in the user's data folder, schema versioned."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from psygnal import Signal

from app import paths
from app.core.jobs.model import Job, JobStatus

SCHEMA_VERSION = 2

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        skill TEXT NOT NULL,
        action TEXT NOT NULL,
        host TEXT NOT NULL,
        spec_yaml TEXT NOT NULL,
        job_dir TEXT NOT NULL,
        image TEXT NOT NULL DEFAULT '',
        parent_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
        container_id TEXT,
        status TEXT NOT NULL,
        exit_code INTEGER,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        error_hint TEXT NOT NULL DEFAULT '',
        gpus TEXT NOT NULL DEFAULT '[]',
        checkpoint TEXT NOT NULL DEFAULT '',
        study_id TEXT,
        extra TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX jobs_parent ON jobs(parent_id);
    CREATE INDEX jobs_status ON jobs(status);
    """,
    2: """
    CREATE TABLE automl_studies (
        id TEXT PRIMARY KEY,
        skill TEXT NOT NULL,
        action TEXT NOT NULL,
        host TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        request TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        owner TEXT,
        heartbeat_at REAL,
        created_at REAL NOT NULL,
        finished_at REAL,
        extra TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX jobs_study ON jobs(study_id);
    """,
}

_COLUMNS = (
    "id",
    "skill",
    "action",
    "host",
    "spec_yaml",
    "job_dir",
    "image",
    "parent_id",
    "container_id",
    "status",
    "exit_code",
    "created_at",
    "started_at",
    "finished_at",
    "error_hint",
    "gpus",
    "checkpoint",
    "study_id",
    "extra",
)


def default_database() -> Path:
    """The store's file in the user's data folder."""
    return paths.data_dir() / "taodesk.sqlite3"


def _row_to_job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        skill=row["skill"],
        action=row["action"],
        host=row["host"],
        spec_yaml=row["spec_yaml"],
        job_dir=row["job_dir"],
        image=row["image"],
        parent_id=row["parent_id"],
        container_id=row["container_id"],
        status=JobStatus(row["status"]),
        exit_code=row["exit_code"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error_hint=row["error_hint"],
        gpus=json.loads(row["gpus"]),
        checkpoint=row["checkpoint"],
        study_id=row["study_id"],
        extra=json.loads(row["extra"]),
    )


def _job_to_row(job: Job) -> tuple[Any, ...]:
    values = dict(job.__dict__)
    values["status"] = job.status.value
    values["gpus"] = json.dumps(job.gpus)
    values["extra"] = json.dumps(job.extra)
    return tuple(values[c] for c in _COLUMNS)


class JobStore:
    """Jobs persisted in SQLite; safe to use from several threads. Emits ``changed(job_id)``."""

    changed = Signal(str)
    removed = Signal(str)

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_database()
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer TAO Desk (schema {version}); "
                    f"this version understands up to {SCHEMA_VERSION}"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                try:
                    self._db.executescript(
                        f"BEGIN; {_MIGRATIONS[target]}; PRAGMA user_version = {target}; COMMIT;"
                    )
                except sqlite3.Error:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise

    @property
    def schema_version(self) -> int:
        """The database's schema version."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def add(self, job: Job) -> Job:
        """Insert a new job."""
        with self._lock:
            self._db.execute(
                f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                _job_to_row(job),
            )
        self.changed.emit(job.id)
        return job

    def save(self, job: Job) -> Job:
        """Write every field of an existing job."""
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        row = _job_to_row(job)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*row[1:], row[0]))
        self.changed.emit(job.id)
        return job

    def update(self, job_id: str, **fields: Any) -> Job:
        """Change some fields of a job and return it."""
        job = self.get(job_id)
        for key, value in fields.items():
            if not hasattr(job, key):
                raise AttributeError(f"jobs have no field '{key}'")
            setattr(job, key, value)
        return self.save(job)

    def get(self, job_id: str) -> Job:
        """A job by id (a unique prefix works too); KeyError otherwise."""
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                rows = self._db.execute(
                    "SELECT * FROM jobs WHERE id LIKE ? ESCAPE '\\'",
                    (job_id.replace("%", "\\%").replace("_", "\\_") + "%",),
                ).fetchall()
                if len(rows) == 1:
                    row = rows[0]
                elif len(rows) > 1:
                    raise KeyError(f"'{job_id}' matches {len(rows)} jobs; give more of the id")
        if row is None:
            raise KeyError(f"no job '{job_id}'")
        return _row_to_job(row)

    def find(self, job_id: str) -> Job | None:
        """A job by id, or None."""
        try:
            return self.get(job_id)
        except KeyError:
            return None

    def all(self, host: str | None = None, status: JobStatus | None = None) -> list[Job]:
        """Jobs, newest first, optionally of one host or status."""
        query, args = "SELECT * FROM jobs", []
        where = []
        if host is not None:
            where.append("host = ?")
            args.append(host)
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        if where:
            query += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created_at DESC, id DESC", args).fetchall()
        return [_row_to_job(r) for r in rows]

    def children(self, job_id: str) -> list[Job]:
        """Jobs whose parent is this job."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE parent_id = ? ORDER BY created_at", (job_id,)
            ).fetchall()
        return [_row_to_job(r) for r in rows]

    def lineage(self, job_id: str) -> list[Job]:
        """The job and its ancestors, oldest first (convert -> train -> evaluate)."""
        chain: list[Job] = []
        current: str | None = job_id
        while current is not None and len(chain) < 100:
            job = self.get(current)
            chain.append(job)
            current = job.parent_id
        return list(reversed(chain))

    def remove(self, job_id: str) -> None:
        """Delete a job's record (children keep existing, their parent link is cleared)."""
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self.removed.emit(job_id)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
