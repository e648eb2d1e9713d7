"""Helpers shared by the headless commands: loading banks, finding skills, reading specs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import UsageError
from app.core.settings import bank_folders
from app.core.skills import Skill, SkillBank, load_banks
from app.core.specs.document import SpecDocument, SpecParseError
from app.core.specs.service import read_spec_file


def add_bank_option(parser: argparse.ArgumentParser) -> None:
    """The repeatable ``--bank DIR`` option."""
    parser.add_argument(
        "--bank",
        action="append",
        default=[],
        metavar="DIR",
        help="also load skills from this folder (repeatable)",
    )


def load_bank(args: argparse.Namespace) -> SkillBank:
    """The bundled bank, the user's added banks and any ``--bank`` folders."""
    return load_banks(bank_folders(getattr(args, "bank", [])))


def find_skill(bank: SkillBank, name: str) -> Skill:
    """A skill by name (the ``tao-train-`` prefix may be left out); UsageError otherwise."""
    for candidate in (name, f"tao-train-{name}"):
        if candidate in bank.skills:
            return bank.skills[candidate]
    raise UsageError(f"no skill named '{name}' (known: {', '.join(sorted(bank.skills)) or 'none'})")


def check_action(skill: Skill, action: str) -> None:
    """UsageError unless the skill has a usable action of that name."""
    if action not in skill.actions:
        raise UsageError(
            f"skill '{skill.name}' has no action '{action}' (actions: {', '.join(skill.actions)})"
        )
    if skill.actions[action].root is None:
        raise UsageError(f"{skill.name}/{action}: the action's schema did not load")


def read_spec_or_usage(path: str) -> SpecDocument:
    """Read a spec file; unreadable or malformed input is a usage error (exit 2)."""
    try:
        return read_spec_file(Path(path))
    except SpecParseError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def write_output(text: str, output: str | None) -> None:
    """Write text to a file, or to standard output."""
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
