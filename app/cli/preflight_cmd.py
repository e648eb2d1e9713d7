"""``taodesk preflight SKILL ACTION --host NAME ...``: check a spec and its data where the data is."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli import UsageError
from app.cli.common import add_bank_option, check_action, find_skill
from app.cli.job_options import add_job_arguments, add_preflight_options, build_spec, parse_gpus
from app.cli.jobs_common import open_manager
from app.core.datasets.context import MiB, PreflightOptions
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.datasets.registry import DatasetRegistry, DatasetRegistryError
from app.core.datasets.resolve import find_convert_job
from app.core.hosts.errors import HostError
from app.core.hosts.settings import HostSettingsError
from app.core.jobs.manager import JobManager
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument


def register(sub: Any) -> None:
    """Add the ``preflight`` command."""
    parser = sub.add_parser("preflight", help="check a spec and its data on the host before launching")
    add_job_arguments(parser)
    parser.add_argument("--gpus", metavar="LIST", help="host GPU indices the job would get, e.g. 0,1")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    add_preflight_options(parser)
    add_bank_option(parser)
    parser.set_defaults(handler=run_preflight_command)


def preflight_with_manager(
    manager: JobManager, skill: Skill, action: str, host: str, spec: SpecDocument, args: argparse.Namespace
) -> PreflightReport:
    """Resolve the table from the host's datasets and the parent's lineage, then run every check."""
    try:
        datasets = DatasetRegistry().load()
    except DatasetRegistryError as error:
        raise UsageError(str(error)) from error
    known = {d.name for d in datasets}
    unknown = [name for name in args.dataset if name not in known]
    if unknown:
        raise UsageError(f"no registered dataset named {', '.join(unknown)} (see taodesk datasets list)")
    try:
        parent = manager.store.get(args.parent) if args.parent else None
        session = manager.session(host)
    except (KeyError, HostSettingsError) as error:
        raise UsageError(str(error).strip("'\"")) from error
    convert_job = find_convert_job(parent, manager.store.find)
    options = PreflightOptions(
        plans_export=args.plan_export,
        gpus=parse_gpus(args.gpus),
        max_infos_bytes=max(1, args.max_pickle_mb) * MiB,
    )
    return run_preflight(
        skill,
        action,
        spec,
        session,
        datasets=datasets,
        chosen=args.dataset,
        parent=parent,
        convert_job=convert_job,
        options=options,
    )


def print_findings(report: PreflightReport, stream: Any = None) -> None:
    """One line per finding, then the summary."""
    out = stream or sys.stdout
    for finding in report.findings:
        print(finding.line(), file=out)
    print(f"{report.skill}/{report.action} on '{report.host}': {report.summary()}", file=out)


def run_preflight_command(args: argparse.Namespace) -> int:
    """Print the findings; exit 1 when any is an error."""
    manager = open_manager(args.bank)
    try:
        skill = find_skill(manager.bank, args.skill)
        check_action(skill, args.action)
        spec = build_spec(skill, args.action, args.spec, args.set)
        try:
            report = preflight_with_manager(manager, skill, args.action, args.host, spec, args)
        except HostError as error:
            print(f"taodesk: {error}", file=sys.stderr)
            return 1
    finally:
        manager.close()
    if args.json:
        rows = [
            {"spec_key": r.spec_key, "value": r.value, "origin": r.origin_label, "note": r.note}
            for r in report.resolution.rows
        ]
        findings = [
            {
                "severity": f.severity,
                "spec_key": f.spec_key,
                "message": f.message,
                "fix": f.fix,
                "fix_action": f.fix_action,
            }
            for f in report.findings
        ]
        print(
            json.dumps(
                {"rows": rows, "findings": findings, "summary": report.summary()}, indent=2, default=str
            )
        )
    else:
        print_findings(report)
    return 1 if report.has_errors else 0
