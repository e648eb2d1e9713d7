"""Host check: is this host ready to run TAO jobs? Docker, GPUs, NVIDIA runtime, disk, images."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.hosts.docker_errors import engine_call_errors, engine_lost
from app.core.hosts.errors import HostError
from app.core.hosts.gpus import GpuInventory, list_gpus, nvidia_runtime_present
from app.core.hosts.pull import ProgressCallback, image_present, pull_image, registry_auth
from app.core.hosts.secrets import SecretStore
from app.core.hosts.session import HostSession

GIB = 1024**3


class CheckStatus(StrEnum):
    """How one check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of a host report."""

    name: str
    status: CheckStatus
    message: str


@dataclass
class HostReport:
    """Everything `check_host` found, item by item, plus the facts behind them."""

    host_name: str
    items: list[CheckItem] = field(default_factory=list)
    docker_version: str = ""
    api_version: str = ""
    gpus: GpuInventory | None = None
    free_bytes: int | None = None

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings, such as a CPU-only host, are allowed)."""
        return all(item.status is not CheckStatus.FAIL for item in self.items)

    def item(self, name: str) -> CheckItem:
        """The item called ``name`` (KeyError if the check did not run)."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def add(self, name: str, status: CheckStatus, message: str) -> None:
        """Append one item."""
        self.items.append(CheckItem(name, status, message))


def free_disk_bytes(session: HostSession, path: str) -> int:
    """Bytes available to the user in the file system holding ``path`` (which must exist)."""
    from app.core.hosts.local import LocalHostSession

    if isinstance(session, LocalHostSession):
        info = os.statvfs(path)
        return info.f_bavail * info.f_frsize
    exit_code, stdout, stderr = session.run(["df", "-Pk", path], timeout=30)
    lines = stdout.strip().splitlines()
    if exit_code != 0 or len(lines) < 2:
        raise HostError(f"'df' failed for {path} on host '{session.name}': {stderr.strip()}", session.name)
    fields = lines[-1].split()
    if len(fields) < 4 or not fields[3].isdigit():
        raise HostError(f"cannot read the output of 'df' on host '{session.name}': {lines[-1]}", session.name)
    return int(fields[3]) * 1024


def _nearest_existing(session: HostSession, path: str) -> str:
    while path not in ("", "/") and not session.exists(path):
        path = posixpath.dirname(path.rstrip("/"))
    return path or "/"


def _check_docker(session: HostSession, report: HostReport) -> bool:
    try:
        version = session.docker.version()
    except HostError as error:
        report.add("docker", CheckStatus.FAIL, str(error))
        return False
    except engine_call_errors() as error:
        report.add("docker", CheckStatus.FAIL, str(engine_lost(error, session.name)))
        return False
    report.docker_version = str(version.get("Version", ""))
    report.api_version = str(version.get("ApiVersion", ""))
    report.add("docker", CheckStatus.OK,
               f"Docker {report.docker_version} (API {report.api_version}) answers on '{session.name}'")
    return True


def _check_gpus(session: HostSession, report: HostReport, images: list[str], docker_ok: bool) -> None:
    inventory = list_gpus(session, images if docker_ok else [])
    report.gpus = inventory
    if inventory.gpus:
        names = ", ".join(f"{gpu.index}: {gpu.name}" for gpu in inventory.gpus)
        report.add("gpus", CheckStatus.OK,
                   f"{len(inventory.gpus)} NVIDIA GPU(s) on '{session.name}': {names}")
    else:
        report.add("gpus", CheckStatus.WARN, inventory.note)
    if not docker_ok:
        return
    try:
        has_runtime = nvidia_runtime_present(session.docker.info())
    except engine_call_errors() as error:
        report.add("nvidia runtime", CheckStatus.WARN, str(engine_lost(error, session.name)))
        return
    if has_runtime:
        report.add("nvidia runtime", CheckStatus.OK, "The NVIDIA container runtime is installed")
    elif inventory.gpus:
        report.add("nvidia runtime", CheckStatus.WARN,
                   "The Docker engine lists no NVIDIA runtime: containers may not see the GPUs. "
                   "Install the NVIDIA Container Toolkit on the host if GPU jobs fail to start.")
    else:
        report.add("nvidia runtime", CheckStatus.OK, "No NVIDIA runtime (not needed without GPUs)")


def _check_disk(session: HostSession, report: HostReport, min_free_gib: float) -> None:
    workspace = session.config.workspace or session.home
    try:
        existing = _nearest_existing(session, workspace)
        free = free_disk_bytes(session, existing)
    except HostError as error:
        report.add("disk", CheckStatus.WARN, f"Free space in {workspace} is unknown: {error}")
        return
    report.free_bytes = free
    where = workspace if existing == workspace else f"{workspace} (not created yet; measured at {existing})"
    message = f"{free / GIB:.1f} GiB free in {where}"
    status = CheckStatus.OK if free >= min_free_gib * GIB else CheckStatus.WARN
    if status is CheckStatus.WARN:
        message += f": less than the {min_free_gib:g} GiB advised for datasets and results"
    report.add("disk", status, message)


def _check_image(session: HostSession, report: HostReport, ref: str, pull_missing: bool,
                 progress_callback: ProgressCallback | None, secrets: SecretStore | None) -> None:
    name = f"image {ref}"
    try:
        if image_present(session, ref):
            report.add(name, CheckStatus.OK, f"{ref} is present on '{session.name}'")
            return
        if not pull_missing:
            report.add(name, CheckStatus.WARN,
                       f"{ref} is missing on '{session.name}': pull it before running")
            return
        pull_image(session, ref, progress_callback, registry_auth(ref, secrets))
    except HostError as error:
        report.add(name, CheckStatus.FAIL, str(error))
        return
    report.add(name, CheckStatus.OK, f"{ref} was pulled onto '{session.name}'")


def check_host(session: HostSession, images: Iterable[str] = (), pull_missing: bool = False,
               progress_callback: ProgressCallback | None = None, secrets: SecretStore | None = None,
               min_free_gib: float = 20.0) -> HostReport:
    """Check a host: Docker version, GPUs, NVIDIA runtime, free disk in the workspace, images.

    Missing images are reported; with ``pull_missing`` they are pulled (progress as bytes done,
    bytes total, status text), using NGC credentials from ``secrets`` for nvcr.io images.
    """
    report = HostReport(session.name)
    wanted = list(dict.fromkeys(images))
    docker_ok = _check_docker(session, report)
    _check_gpus(session, report, wanted, docker_ok)
    _check_disk(session, report, min_free_gib)
    for ref in wanted:
        if docker_ok:
            _check_image(session, report, ref, pull_missing, progress_callback, secrets)
        else:
            report.add(f"image {ref}", CheckStatus.WARN, f"{ref} was not checked: Docker is not reachable")
    return report
