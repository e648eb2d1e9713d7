"""``taodesk run SKILL ACTION --host NAME ...``: launch one job."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli import UsageError
from app.cli.common import add_bank_option, check_action, find_skill
from app.cli.job_options import add_job_arguments, add_preflight_options, build_spec, parse_gpus
from app.cli.jobs_common import open_manager
from app.cli.preflight_cmd import preflight_with_manager
from app.core.hosts.errors import HostError
from app.core.hosts.settings import HostSettingsError
from app.core.jobs.manager import LaunchRequest
from app.core.jobs.params import ParentCheckpointError
from app.core.jobs.plan import LaunchError


def register(sub: Any) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser("run", help="launch an action as a TAO container on a host")
    add_job_arguments(parser)
    parser.add_argument(
        "--checkpoint", metavar="FILE", help="exact checkpoint of the parent (default: highest)"
    )
    parser.add_argument("--latest", action="store_true", help="allow the parent's *_latest.pth link")
    parser.add_argument("--resume", action="store_true", help="resume training from the parent's checkpoint")
    parser.add_argument("--gpus", metavar="LIST", help="host GPU indices, e.g. 0,1 (default: none)")
    parser.add_argument("--image", metavar="REF", help="container image (default: the host's or the skill's)")
    parser.add_argument(
        "--wait", action="store_true", help="follow the log; exit 0 only if the job completed"
    )
    parser.add_argument("--force", action="store_true", help="launch even when preflight finds errors")
    add_preflight_options(parser)
    add_bank_option(parser)
    parser.set_defaults(handler=run_run)


def _preflight_or_refuse(manager: Any, skill: Any, args: argparse.Namespace, spec: Any) -> Any:
    """Run preflight and print its findings; the spec with the table's values filled, or None to refuse."""
    try:
        report = preflight_with_manager(manager, skill, args.action, args.host, spec, args)
    except HostError as exc:
        print(f"taodesk: preflight could not run: {exc}", file=sys.stderr)
        return spec if args.force else None
    for finding in report.findings:
        if finding.severity != "info":
            print(f"preflight: {finding.line()}", file=sys.stderr)
    if report.has_errors and not args.force:
        print(f"taodesk: refusing to launch: preflight found {report.summary()} "
              "(fix them, or use --force to launch anyway)", file=sys.stderr)
        return None
    return report.spec


def run_run(args: argparse.Namespace) -> int:
    """Launch the job; with --wait, stream its log and return 0 only when it completed."""
    manager = open_manager(args.bank)
    skill = find_skill(manager.bank, args.skill)
    check_action(skill, args.action)
    spec = _preflight_or_refuse(manager, skill, args, build_spec(skill, args.action, args.spec, args.set))
    if spec is None:
        return 1
    request = LaunchRequest(
        skill=skill.name,
        action=args.action,
        host=args.host,
        spec=spec,
        gpus=parse_gpus(args.gpus),
        image=args.image,
        parent_id=args.parent,
        checkpoint=args.checkpoint,
        resume=args.resume,
        allow_latest_link=args.latest,
    )
    try:
        job = manager.launch(request)
    except (LaunchError, ParentCheckpointError) as exc:
        print(f"taodesk: {exc}", file=sys.stderr)
        return 1
    except (HostSettingsError, KeyError) as exc:
        raise UsageError(str(exc).strip("'\"")) from exc
    except HostError as exc:
        print(f"taodesk: {exc}", file=sys.stderr)
        return 1
    print(f"Launched job {job.id} on '{job.host}' ({job.image})", flush=True)
    for warning in job.extra.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if job.checkpoint:
        print(f"checkpoint: {job.checkpoint}")
    if not args.wait:
        return 0
    job = manager.follow(
        job.id, on_lines=lambda lines: print("\n".join(line.text for line in lines), flush=True)
    )
    print(f"Job {job.id} {job.status.value} (exit code {job.exit_code})")
    if job.error_hint:
        print(job.error_hint, file=sys.stderr)
    return 0 if job.status.value == "completed" else 1
