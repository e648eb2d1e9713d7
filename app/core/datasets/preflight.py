"""Preflight: resolve an action's dataset-requirement table, then check the spec and the files on the host.

A plain function, usable from the CLI and from a GUI worker; progress goes to ``report(fraction, message)``.
Reads happen where the data is (local files or SFTP), headers and small ranges only, except converted
infos pickles, which are read whole up to a size limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app.core.datasets import checks_common, checks_pose, checks_sparse4d
from app.core.datasets.context import CheckContext, PreflightOptions, Report
from app.core.datasets.findings import ERROR, INFO, WARNING, Finding, sorted_findings
from app.core.datasets.registry import Dataset
from app.core.datasets.resolve import Resolution, resolve_requirements
from app.core.hosts.errors import HostError
from app.core.hosts.session import HostSession
from app.core.jobs.model import Job
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument

Check = Callable[[CheckContext], None]
COMMON_CHECKS: tuple[Check, ...] = (
    checks_common.report_resolution_notes,
    checks_common.check_mandatory,
    checks_common.check_spec,
    checks_common.check_gpus,
    checks_common.check_paths,
)
NETWORK_CHECKS: dict[str, tuple[Check, ...]] = {
    "pose_classification": checks_pose.POSE_CHECKS,
    "sparse4d": checks_sparse4d.SPARSE4D_CHECKS,
}


@dataclass
class PreflightReport:
    """The findings of one preflight run and the spec they are about (with the table's values filled)."""

    skill: str
    action: str
    host: str
    findings: list[Finding]
    resolution: Resolution
    spec: SpecDocument
    filled: dict[str, object] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        """Findings that block a launch."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Findings the user must accept before a launch."""
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def notes(self) -> list[Finding]:
        """Findings for information only."""
        return [f for f in self.findings if f.severity == INFO]

    @property
    def has_errors(self) -> bool:
        """True when the launch must be refused."""
        return bool(self.errors)

    def at(self, spec_key: str) -> list[Finding]:
        """Findings of one spec key."""
        return [f for f in self.findings if f.spec_key == spec_key]

    def summary(self) -> str:
        """``2 errors, 1 warning, 3 notes`` style."""

        def plural(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        return ", ".join(
            [
                plural(len(self.errors), "error"),
                plural(len(self.warnings), "warning"),
                plural(len(self.notes), "note"),
            ]
        )


def _quiet(progress: float, message: str) -> None:
    """The default progress callback: nothing."""


def run_preflight(
    skill: Skill,
    action: str,
    spec: SpecDocument,
    session: HostSession,
    *,
    resolution: Resolution | None = None,
    datasets: Iterable[Dataset] = (),
    chosen: Iterable[str] = (),
    parent: Job | None = None,
    convert_job: Job | None = None,
    filled: dict[str, object] | None = None,
    options: PreflightOptions | None = None,
    report: Report | None = None,
) -> PreflightReport:
    """Resolve the table (unless ``resolution`` is given), fill the spec copy, and run every check.

    The given ``spec`` is not changed; the report's ``spec`` is the checked copy. A check that cannot
    reach the host becomes an error finding naming it, so one broken check never hides the others.
    """
    started = time.monotonic()
    progress = report or _quiet
    options = options or PreflightOptions()
    checked = spec.copy()
    if resolution is None:
        resolution = resolve_requirements(
            skill,
            action,
            checked,
            host=session.name,
            datasets=datasets,
            chosen=chosen,
            parent=parent,
            convert_job=convert_job,
            filled=filled,
        )
    applied = resolution.apply(checked)
    progress(0.0, f"connecting to '{session.name}'")
    try:
        uid, gid = session.uid_gid()
    except HostError as error:
        finding = Finding(ERROR, "", f"cannot check on host '{session.name}': {error}", check="host")
        return PreflightReport(
            skill.name,
            action,
            session.name,
            [finding],
            resolution,
            checked,
            applied,
            seconds=time.monotonic() - started,
        )
    checks = COMMON_CHECKS + NETWORK_CHECKS.get(skill.network_arch, ())
    context = CheckContext(skill, action, checked, session, resolution, options, uid, gid, _quiet)
    names = []
    for index, check in enumerate(checks):
        name = check.__name__.removeprefix("check_")
        names.append(name)

        def scaled(fraction: float, message: str, index: int = index) -> None:
            progress((index + min(1.0, max(0.0, fraction))) / len(checks), message)

        context.report = scaled
        scaled(0.0, name.replace("_", " "))
        try:
            check(context)
        except HostError as error:
            context.add(ERROR, "", f"{name}: {error}", "check the host connection and try again", check=name)
    progress(1.0, "done")
    return PreflightReport(
        skill.name,
        action,
        session.name,
        sorted_findings(context.findings),
        resolution,
        checked,
        applied,
        names,
        time.monotonic() - started,
    )
