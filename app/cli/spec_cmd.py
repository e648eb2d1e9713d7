"""``taodesk spec render|validate|diff``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli import UsageError
from app.cli.common import (
    add_bank_option,
    check_action,
    find_skill,
    load_bank,
    read_spec_or_usage,
    write_output,
)
from app.core.specs.overrides import OverrideError
from app.core.specs.service import render_spec, spec_diff, spec_yaml, validate_spec


def register(sub: Any) -> None:
    """Add the ``spec`` command."""
    parser = sub.add_parser("spec", help="render, validate or diff a spec")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    render = verbs.add_parser("render", help="write the spec YAML for an action")
    _skill_action(render)
    render.add_argument(
        "--from", dest="from_file", metavar="FILE", help="start from this spec instead of the template"
    )
    render.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a key (repeatable)"
    )
    render.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    render.set_defaults(handler=run_render)

    validate = verbs.add_parser("validate", help="check a spec file for an action")
    _skill_action(validate)
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(handler=run_validate)

    diff = verbs.add_parser("diff", help="show what a spec changes from the template")
    _skill_action(diff)
    diff.add_argument("file", metavar="FILE")
    diff.set_defaults(handler=run_diff)


def _skill_action(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("skill", metavar="SKILL")
    parser.add_argument("action", metavar="ACTION")
    add_bank_option(parser)


def _resolve(args: argparse.Namespace) -> Any:
    skill = find_skill(load_bank(args), args.skill)
    check_action(skill, args.action)
    return skill


def run_render(args: argparse.Namespace) -> int:
    """Print (or write) the rendered spec; problems go to standard error."""
    skill = _resolve(args)
    base = read_spec_or_usage(args.from_file) if args.from_file else None
    try:
        document = render_spec(skill, args.action, base, args.set)
    except OverrideError as exc:
        raise UsageError(str(exc)) from exc
    write_output(spec_yaml(skill, args.action, document), args.output)
    for issue in validate_spec(skill, args.action, document):
        print(f"{issue.severity}: {issue}", file=sys.stderr)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Exit 0 when valid, 1 with one ``dotted.path: message`` line per issue otherwise."""
    skill = _resolve(args)
    document = read_spec_or_usage(args.file)
    issues = [i for i in validate_spec(skill, args.action, document) if i.severity != "warning"]
    for issue in issues:
        print(str(issue))
    return 1 if issues else 0


def run_diff(args: argparse.Namespace) -> int:
    """Print what differs from the template, one line per key."""
    skill = _resolve(args)
    document = read_spec_or_usage(args.file)
    changes = spec_diff(skill, args.action, document)
    for change in changes:
        print(str(change))
    if not changes:
        print("no differences from the template")
    return 0
