"""Headless commands. Each module in COMMAND_MODULES adds its subcommands with ``register``."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "app.cli.skills_cmd",
    "app.cli.spec_cmd",
    "app.cli.hosts_cmd",
    "app.cli.run_cmd",
    "app.cli.jobs_cmd",
    "app.cli.automl_cmd",
    "app.cli.preflight_cmd",
    "app.cli.datasets_cmd",
    "app.cli.view_cmd",
    "app.cli.scalars_cmd",
    "app.cli.status_cmd",
]


class UsageError(Exception):
    """Bad arguments or unreadable input: exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="taodesk", description="TAO Desk: train NVIDIA TAO models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the main window")
    gui.add_argument("--bank", action="append", default=[], metavar="DIR", help="add a skill bank folder")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def run_cli(argv: list[str]) -> int:
    """Parse ``argv`` and run the chosen command; returns its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except UsageError as exc:
        print(f"taodesk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
