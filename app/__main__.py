"""Entry point: no arguments opens the GUI, a subcommand runs headless."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run TAO Desk; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("gui", "--bank") or (args and args[0].startswith("--bank=")):
        from app.ui.application import run_gui

        return run_gui(args[1:] if args and args[0] == "gui" else args)
    from app.cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    raise SystemExit(main())
