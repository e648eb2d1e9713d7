"""Start TAO Desk from a source checkout: ``python main.py [subcommand ...]``."""

from app.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
