"""``taodesk skills list|check``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.cli.common import add_bank_option, load_bank
from app.core.skills import Skill, SkillBank
from app.core.specs.checks import check_skill_action


def register(sub: Any) -> None:
    """Add the ``skills`` command."""
    parser = sub.add_parser("skills", help="list or check skill banks")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="list the skills and their actions")
    add_bank_option(listing)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=run_list)
    check = verbs.add_parser("check", help="load, render, validate and round-trip every action")
    add_bank_option(check)
    check.add_argument("--widgets", action="store_true", help="also build each Qt form (offscreen)")
    check.set_defaults(handler=run_check)


def _describe(skill: Skill) -> dict[str, Any]:
    return {
        "name": skill.name,
        "task": skill.task_tag,
        "description": skill.description,
        "actions": list(skill.actions),
        "automl": skill.automl_enabled,
        "path": str(skill.path),
    }


def run_list(args: argparse.Namespace) -> int:
    """Print the skills."""
    bank = load_bank(args)
    skills = [bank.skills[name] for name in sorted(bank.skills)]
    if args.json:
        print(json.dumps([_describe(s) for s in skills], indent=2))
        return 0
    for skill in skills:
        badge = " [AutoML]" if skill.automl_enabled else ""
        print(f"{skill.name} ({skill.task_tag or 'no task tag'}){badge}: {', '.join(skill.actions)}")
    for problem in bank.problems:
        print(f"problem: {problem}")
    return 0


def _bank_level_problems(bank: SkillBank) -> list[str]:
    inside = {str(p) for s in bank.skills.values() for p in bank.problems_for(s)}
    return [str(p) for p in bank.problems if str(p) not in inside]


def run_check(args: argparse.Namespace) -> int:
    """Check every skill and action; exit 1 when any problem is found."""
    bank = load_bank(args)
    builder = None
    if args.widgets:
        from app.ui.offscreen import build_form_widgets_offscreen

        builder = build_form_widgets_offscreen
    total_actions = 0
    total_problems = 0
    for text in _bank_level_problems(bank):
        print(f"bank: problem: {text}")
        total_problems += 1
    for name in sorted(bank.skills):
        skill = bank.skills[name]
        skill_problems = [str(p) for p in bank.problems_for(skill)]
        for action in skill.actions:
            total_actions += 1
            own = [p for p in skill_problems if f"{action}.schema.json" in p or f"_{action}.yaml" in p]
            result = check_skill_action(skill, action, widget_builder=builder)
            problems = own + result.problems
            total_problems += len(problems)
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            print(f"{skill.name}/{action}: {status} ({result.summary})")
            for problem in problems:
                print(f"    {problem}")
        rest = [
            p
            for p in skill_problems
            if not any(f"{a}.schema.json" in p or f"_{a}.yaml" in p for a in skill.actions)
        ]
        for problem in rest:
            print(f"{skill.name}: problem: {problem}")
        total_problems += len(rest)
    print(f"{len(bank.skills)} skills, {total_actions} actions, {total_problems} problems")
    return 1 if total_problems else 0
