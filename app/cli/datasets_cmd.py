"""``taodesk datasets add|list|rm``: datasets registered once per host, with a role."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.cli import UsageError
from app.core.datasets.registry import ROLES, Dataset, DatasetRegistry, DatasetRegistryError
from app.core.hosts.errors import HostError
from app.core.hosts.session import open_session
from app.core.hosts.settings import HostSettingsError, HostStore


def register(sub: Any) -> None:
    """Add the ``datasets`` command."""
    parser = sub.add_parser("datasets", help="datasets on hosts, used to fill the specs' data paths")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    add = verbs.add_parser("add", help="register a dataset (a folder on a host) with a role")
    add.add_argument("name")
    add.add_argument("--host", required=True, metavar="HOST", help="the host the data is on")
    add.add_argument("--role", required=True, choices=ROLES, help="what the data is for")
    add.add_argument("--path", required=True, metavar="DIR", help="the folder (or file), a path on that host")
    add.add_argument("--skill", default="", metavar="SKILL", help="only for this skill (default: any)")
    add.add_argument("--note", default="", metavar="TEXT", help="a note for yourself")
    add.add_argument("--replace", action="store_true", help="replace a dataset of the same name")
    add.add_argument("--no-check", action="store_true", help="do not connect to the host to look at the path")
    add.set_defaults(handler=run_add)
    listing = verbs.add_parser("list", help="list the registered datasets")
    listing.add_argument("--host", metavar="HOST", help="only this host's datasets")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)
    remove = verbs.add_parser("rm", help="forget a dataset (its files are not touched)")
    remove.add_argument("name")
    remove.set_defaults(handler=run_remove)


def _check_on_host(dataset: Dataset) -> None:
    """UsageError unless the path exists on the host (a path on this computer is not enough)."""
    try:
        config = HostStore().get(dataset.host)
    except HostSettingsError as error:
        raise UsageError(str(error)) from error
    try:
        with open_session(config) as session:
            info = session.stat(dataset.path)
    except HostError as error:
        raise UsageError(
            f"cannot look at {dataset.path} on host '{dataset.host}': {error} "
            "(use --no-check to register it anyway)"
        ) from error
    if info is None:
        raise UsageError(
            f"{dataset.path} does not exist on host '{dataset.host}' (paths are that host's paths)"
        )


def run_add(args: argparse.Namespace) -> int:
    """Register (or replace) a dataset."""
    dataset = Dataset(args.name, args.host, args.role, args.path.rstrip("/") or "/", args.skill, args.note)
    problems = dataset.problems()
    if problems:
        raise UsageError("; ".join(problems))
    if not args.no_check:
        _check_on_host(dataset)
    try:
        DatasetRegistry().add(dataset, replace=args.replace)
    except DatasetRegistryError as error:
        raise UsageError(str(error)) from error
    print(f"Registered dataset '{dataset.name}' ({dataset.role}) at {dataset.host}:{dataset.path}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per dataset, or JSON."""
    registry = DatasetRegistry()
    try:
        datasets = registry.load()
    except DatasetRegistryError as error:
        raise UsageError(str(error)) from error
    if args.host:
        datasets = [d for d in datasets if d.host == args.host]
    for problem in registry.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps([vars(d) for d in datasets], indent=2))
        return 0
    for d in sorted(datasets, key=lambda d: (d.host, d.name)):
        skill = f"\t{d.skill}" if d.skill else "\tany skill"
        print(f"{d.name}\t{d.role}\t{d.host}:{d.path}{skill}{chr(9) + d.note if d.note else ''}")
    if not datasets:
        print("No datasets registered (taodesk datasets add NAME --host HOST --role train --path DIR)")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Forget a dataset."""
    try:
        DatasetRegistry().remove(args.name)
    except DatasetRegistryError as error:
        raise UsageError(str(error)) from error
    print(f"Removed dataset '{args.name}' (its files were not touched)")
    return 0
