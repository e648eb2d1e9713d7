"""What every preflight check sees: spec, host, resolved table, options, and the findings so far."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.datasets.findings import Finding
from app.core.datasets.npy_header import NpyHeader
from app.core.datasets.resolve import Resolution, ResolvedRow
from app.core.hosts.session import FileStat, HostSession
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument

MiB = 1024 * 1024
Report = Callable[[float, str], None]


@dataclass
class PreflightOptions:
    """How thorough preflight is and what it is allowed to read.

    ``gpus`` are the host GPUs chosen for the job (empty: whatever the spec asks for).
    ``plans_export`` turns on the export-compatibility warnings for a train spec.
    ``reuse_summaries`` skips reading infos pickles whose size and time did not change since the
    last check in this process.
    """

    plans_export: bool = False
    gpus: list[int] = field(default_factory=list)
    check_gpus: bool = True
    max_infos_bytes: int = 512 * MiB
    max_label_bytes: int = 64 * MiB
    max_json_bytes: int = 64 * MiB
    max_depth_files: int = 1000
    reuse_summaries: bool = True


@dataclass
class CheckContext:
    """Shared state of one preflight run; checks add findings with `add`."""

    skill: Skill
    action: str
    spec: SpecDocument
    session: HostSession
    resolution: Resolution
    options: PreflightOptions
    uid: int
    gid: int
    report: Report
    findings: list[Finding] = field(default_factory=list)
    gpu_count: int = 1
    npy_headers: dict[str, NpyHeader] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    _stats: dict[str, FileStat | None] = field(default_factory=dict)

    @property
    def host_name(self) -> str:
        """The host's name as the user configured it."""
        return self.session.name

    @property
    def is_remote(self) -> bool:
        """True when the data is on another machine (SSH)."""
        return self.session.config.kind == "ssh"

    @property
    def container_user(self) -> str:
        """``UID:GID`` the job's container runs as."""
        return f"{self.uid}:{self.gid}"

    def value(self, key: str, default: Any = None) -> Any:
        """A spec value by dotted key."""
        return self.spec.get(key, default)

    def rows(self, format_name: str | None = None) -> list[ResolvedRow]:
        """The resolved rows (of one format) that have a value."""
        return [
            row
            for row in self.resolution.rows
            if row.is_set and (format_name is None or row.requirement.format == format_name)
        ]

    def paths_to_check(self, format_name: str) -> Iterator[tuple[ResolvedRow, str]]:
        """(row, path) for every path of the rows of one format, skipping keys already in error."""
        for row in self.rows(format_name):
            for path in row.paths:
                if not self.has_error_at(row.spec_key):
                    yield row, path

    def add(
        self,
        severity: str,
        spec_key: str,
        message: str,
        fix: str = "",
        *,
        check: str = "",
        fix_action: str | None = None,
        fix_value: Any = None,
        also_at: tuple[str, ...] = (),
    ) -> Finding:
        """Record a finding."""
        finding = Finding(severity, spec_key, message, fix, fix_action, fix_value, check, also_at)
        self.findings.append(finding)
        return finding

    def stat(self, path: str) -> FileStat | None:
        """`HostSession.stat`, remembered for the rest of the run."""
        if path not in self._stats:
            self._stats[path] = self.session.stat(path)
        return self._stats[path]

    def exists_only_here(self, path: str) -> bool:
        """True when a path is missing on a remote host but exists on this computer."""
        return self.is_remote and os.path.isabs(path) and os.path.exists(path)

    def has_error_at(self, spec_key: str) -> bool:
        """True when a finding at this key is already an error (later checks then skip the key)."""
        return any(f.spec_key == spec_key and f.is_error for f in self.findings)
