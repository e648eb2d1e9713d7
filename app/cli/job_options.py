"""What the commands that set up a job share (``run``, ``preflight``, ``automl``): which action of
which skill on which host, from which spec, with which overrides and GPUs."""

from __future__ import annotations

import argparse

from app.cli import UsageError
from app.cli.common import read_spec_or_usage
from app.core.datasets.context import MiB, PreflightOptions
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument
from app.core.specs.overrides import OverrideError
from app.core.specs.service import render_spec


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """SKILL ACTION --host, and the spec to start from: --spec, --set, --parent."""
    parser.add_argument("skill", metavar="SKILL")
    parser.add_argument("action", metavar="ACTION")
    parser.add_argument("--host", required=True, metavar="NAME")
    parser.add_argument("--spec", metavar="FILE", help="start from this spec instead of the template")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a key")
    parser.add_argument("--parent", metavar="JOB", help="the job whose results this one uses")


def add_preflight_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``preflight`` and ``run``."""
    parser.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="NAME",
        help="use this registered dataset for its role (default: the host's first one)",
    )
    parser.add_argument(
        "--plan-export",
        action="store_true",
        help="also warn about settings an ONNX export of this model would not accept",
    )
    parser.add_argument(
        "--max-pickle-mb",
        type=int,
        default=PreflightOptions.max_infos_bytes // MiB,
        metavar="MB",
        help="read infos pickles up to this size (default %(default)s)",
    )


def build_spec(skill: Skill, action: str, spec_file: str | None, overrides: list[str]) -> SpecDocument:
    """The template (or a spec file) with ``--set`` overrides; UsageError on bad input."""
    base = read_spec_or_usage(spec_file) if spec_file else None
    try:
        return render_spec(skill, action, base, overrides)
    except OverrideError as exc:
        raise UsageError(str(exc)) from exc


def parse_gpus(text: str | None) -> list[int]:
    """``0,1`` -> [0, 1]."""
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--gpus takes indices like 0,1, not '{text}'") from None
