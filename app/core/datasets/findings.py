"""Preflight findings: what is wrong (or worth knowing) about a spec and its data, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.core.specs.validation import ERROR as SPEC_ERROR
from app.core.specs.validation import WARNING as SPEC_WARNING
from app.core.specs.validation import SpecIssue

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

SET_VALUE = "set_value"
NORMALIZE_DEPTH_PATHS = "normalize_depth_paths"


@dataclass(frozen=True)
class Finding:
    """One preflight finding about one spec key.

    ``fix`` says in words what to do. ``fix_action`` names a fix the app can apply itself:
    ``set_value`` puts ``fix_value`` at ``spec_key``; ``normalize_depth_paths`` rewrites the infos
    pickles named in ``fix_value`` (see `app.core.datasets.depth_paths`). ``also_at`` names other keys
    the finding is about: a batch larger than a data file is fixed at the batch size, but the data
    file's row shows it too.
    """

    severity: str
    spec_key: str
    message: str
    fix: str = ""
    fix_action: str | None = None
    fix_value: Any = None
    check: str = ""
    also_at: tuple[str, ...] = ()

    def concerns(self, key: str) -> bool:
        """True when the finding is about ``key`` (its own key or one it is also about)."""
        return key == self.spec_key or key in self.also_at

    @property
    def is_error(self) -> bool:
        """True for findings that block a launch."""
        return self.severity == ERROR

    def line(self) -> str:
        """One line for a terminal: ``error   key: message (fix: ...)``."""
        text = f"{self.severity:<7} {self.spec_key or '(spec)'}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; stable within a severity."""
    return sorted(findings, key=lambda finding: SEVERITY_ORDER.get(finding.severity, 3))


def worst_severity(findings: Iterable[Finding]) -> str | None:
    """The most serious severity among the findings, or None when there are none."""
    ranked = sorted_findings(findings)
    return ranked[0].severity if ranked else None


def findings_to_issues(findings: Iterable[Finding]) -> list[SpecIssue]:
    """Errors and warnings as form issues, so they show at their fields (notes are left out)."""
    issues = []
    for finding in findings:
        if not finding.spec_key or finding.severity == INFO:
            continue
        severity = SPEC_ERROR if finding.severity == ERROR else SPEC_WARNING
        text = f"{finding.message} (fix: {finding.fix})" if finding.fix else finding.message
        issues.append(SpecIssue(finding.spec_key, f"preflight: {text}", severity))
    return issues
