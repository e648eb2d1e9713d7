"""``taodesk hosts add|list|check|remove``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from app.cli import UsageError
from app.cli.common import add_bank_option, load_bank
from app.core.hosts.errors import HostError, UnknownHostKey
from app.core.hosts.settings import HostConfig, HostSettingsError, HostStore

_SSH_TARGET = re.compile(r"^(?:(?P<user>[^@]+)@)?(?P<host>\[[^\]]+\]|[^:]+)(?::(?P<port>\d+))?$")


def register(sub: Any) -> None:
    """Add the ``hosts`` command."""
    parser = sub.add_parser("hosts", help="Docker hosts: this computer or machines reached over SSH")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    add = verbs.add_parser("add", help="add or replace a host")
    add.add_argument("name")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--local", action="store_true", help="this computer's Docker engine")
    kind.add_argument("--ssh", metavar="USER@HOST[:PORT]", help="a machine reached over SSH")
    add.add_argument("--socket", metavar="PATH", help="Docker socket of the local engine")
    add.add_argument("--key", metavar="FILE", help="SSH private key (default: the agent and ~/.ssh keys)")
    add.add_argument(
        "--accept-new-host-key",
        action="store_true",
        help="trust the host's key if it is not known yet (a changed key is always refused)",
    )
    add.add_argument("--workspace", required=True, metavar="DIR", help="folder on that host for job folders")
    add.add_argument("--shm-size", metavar="SIZE", help="shared memory for containers (default 16G)")
    add.set_defaults(handler=run_add)
    listing = verbs.add_parser("list", help="list the hosts")
    listing.set_defaults(handler=run_list)
    check = verbs.add_parser("check", help="check Docker, GPUs, disk and images on a host")
    check.add_argument("name")
    check.add_argument("--pull", action="store_true", help="pull missing images")
    add_bank_option(check)
    check.set_defaults(handler=run_check)
    remove = verbs.add_parser("remove", help="forget a host")
    remove.add_argument("name")
    remove.set_defaults(handler=run_remove)


def parse_ssh_target(text: str) -> tuple[str, str, int]:
    """(user, host, port) from ``user@host:port``; UsageError when it does not parse."""
    match = _SSH_TARGET.match(text.strip())
    if not match:
        raise UsageError(f"'{text}' is not USER@HOST[:PORT]")
    return match.group("user") or "", match.group("host").strip("[]"), int(match.group("port") or 22)


def _verify_ssh(config: HostConfig, accept_new: bool) -> None:
    from app.core.hosts.known_hosts import accept_host_key
    from app.core.hosts.session import open_session

    try:
        open_session(config).close()
    except UnknownHostKey as unknown:
        if not accept_new:
            raise UsageError(f"{unknown}\nRun again with --accept-new-host-key to trust it.") from None
        accept_host_key(unknown.host, unknown.port, unknown.key_type, unknown.key_base64)
        where = f"{unknown.host}:{unknown.port}"
        print(f"Accepted the {unknown.key_type} host key {unknown.fingerprint_sha256} of {where}")
        open_session(config).close()


def run_add(args: argparse.Namespace) -> int:
    """Add (or replace) a host after checking that it can be reached."""
    if args.local:
        config = HostConfig(name=args.name, kind="local", workspace=str(Path(args.workspace).expanduser()))
        if args.socket:
            config.socket_path = args.socket
    else:
        user, host, port = parse_ssh_target(args.ssh)
        config = HostConfig(
            name=args.name,
            kind="ssh",
            ssh_host=host,
            ssh_port=port,
            ssh_user=user,
            key_file=args.key,
            workspace=args.workspace,
        )
    if args.shm_size:
        config.shm_size = args.shm_size
    problems = config.problems()
    if problems:
        raise UsageError("; ".join(problems))
    try:
        if config.kind == "ssh":
            _verify_ssh(config, args.accept_new_host_key)
    except HostError as exc:
        print(f"taodesk: {exc}")
        return 1
    try:
        HostStore().put(config)
    except HostSettingsError as exc:
        raise UsageError(str(exc)) from exc
    print(f"Added host '{config.name}' ({config.kind}, {config.address}), workspace {config.workspace}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the hosts."""
    try:
        hosts = HostStore().load()
    except HostSettingsError as exc:
        raise UsageError(str(exc)) from exc
    if not hosts:
        print("No hosts yet: taodesk hosts add NAME --local --workspace DIR")
    for host in hosts:
        print(f"{host.name}\t{host.kind}\t{host.address}\tworkspace {host.workspace}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Check a host; exit 1 when a check fails."""
    from app.core.hosts.check import check_host
    from app.core.hosts.secrets import SecretStore
    from app.core.hosts.session import open_session

    config = _host(args.name)
    bank = load_bank(args)
    images = [
        config.image_for(s.name, s.default_image or "") for s in bank.skills.values() if s.default_image
    ]

    def progress(done: int, total: int, text: str) -> None:
        print(f"  {text} {done / total:.0%}" if total else f"  {text}", flush=True)

    try:
        with open_session(config) as session:
            report = check_host(
                session, images, pull_missing=args.pull, progress_callback=progress, secrets=SecretStore()
            )
    except HostError as exc:
        print(f"fail\tconnection\t{exc}")
        return 1
    for item in report.items:
        print(f"{item.status.value}\t{item.name}\t{item.message}")
    return 0 if report.ok else 1


def run_remove(args: argparse.Namespace) -> int:
    """Forget a host."""
    _host(args.name)
    HostStore().remove(args.name)
    print(f"Removed host '{args.name}'")
    return 0


def _host(name: str) -> HostConfig:
    try:
        return HostStore().get(name)
    except (KeyError, HostSettingsError) as exc:
        raise UsageError(str(exc).strip("'\"")) from exc
