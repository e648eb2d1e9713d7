"""A job's status from its container (state, exit code, OOM) and the hints its log deserves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.jobs.model import JobStatus
from app.core.skills.model import ErrorPattern, Skill

OOM_EXIT_CODE = 137


@dataclass(frozen=True)
class ContainerOutcome:
    """What the engine says about a container."""

    state: str
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""
    started_at: str = ""
    finished_at: str = ""

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> ContainerOutcome:
        """From docker-py's ``container.attrs``."""
        state = attrs.get("State") or {}
        return cls(
            state=str(state.get("Status") or "unknown"),
            exit_code=state.get("ExitCode"),
            oom_killed=bool(state.get("OOMKilled")),
            error=str(state.get("Error") or ""),
            started_at=str(state.get("StartedAt") or ""),
            finished_at=str(state.get("FinishedAt") or ""),
        )


def status_from_container(outcome: ContainerOutcome, cancel_requested: bool = False) -> JobStatus:
    """created/restarting -> created, running/paused -> running, exited 0 -> completed, else failed."""
    if outcome.state in ("created", "restarting"):
        return JobStatus.CREATED
    if outcome.state in ("running", "paused"):
        return JobStatus.RUNNING
    if cancel_requested:
        return JobStatus.CANCELLED
    if outcome.state == "exited" and outcome.exit_code == 0 and not outcome.oom_killed:
        return JobStatus.COMPLETED
    return JobStatus.FAILED


def matching_patterns(patterns: list[ErrorPattern], log_text: str) -> list[ErrorPattern]:
    """The skill's known failures whose pattern occurs in the log."""
    return [p for p in patterns if p.regex.search(log_text)]


def failure_hint(skill: Skill | None, action: str, outcome: ContainerOutcome, log_tail: str) -> str:
    """A plain-words explanation of a failure, with the fix from the skill's data when one matches."""
    hints: list[str] = []
    patterns = skill.patterns_for(action) if skill else []
    if outcome.oom_killed or outcome.exit_code == OOM_EXIT_CODE:
        oom = next((p for p in patterns if p.id == "out_of_memory"), None)
        reason = "The container ran out of memory and was killed (exit 137)."
        hints.append(f"{reason} {oom.fix}" if oom else reason)
    for pattern in matching_patterns(patterns, log_tail):
        if pattern.id != "out_of_memory":
            hints.append(f"{pattern.title}: {pattern.fix}")
    if outcome.error:
        hints.append(f"Docker: {outcome.error}")
    if not hints and outcome.exit_code not in (None, 0):
        hints.append(f"The job exited with code {outcome.exit_code}; see the end of its log.")
    return "\n".join(dict.fromkeys(hints))
