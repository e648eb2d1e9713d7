"""NVIDIA GPU inventory and sampling on a host, through ``nvidia-smi``.

A host without GPUs is normal (CPU-only work): it yields an empty list and a plain note.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.hosts.docker_errors import engine_call_errors
from app.core.hosts.errors import HostError

if TYPE_CHECKING:
    from app.core.hosts.session import HostSession

INVENTORY_FIELDS = "index,name,memory.total,memory.used,utilization.gpu,uuid"
SAMPLE_FIELDS = "index,utilization.gpu,memory.used,memory.total"
NVIDIA_RUNTIME = "nvidia"
NOT_FOUND_EXIT = 127


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """One GPU as ``nvidia-smi`` reports it; memory in MiB, ``None`` where it says N/A."""

    index: int
    name: str
    memory_total_mib: int | None
    memory_used_mib: int | None
    utilization_percent: int | None
    uuid: str


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One reading of one GPU for live monitoring; ``time`` is seconds since the epoch."""

    index: int
    utilization_percent: int | None
    memory_used_mib: int | None
    memory_total_mib: int | None
    time: float


@dataclass(frozen=True, slots=True)
class GpuInventory:
    """The GPUs of a host, and a note for the user when there are none or they could not be read."""

    gpus: list[GpuInfo]
    note: str = ""
    source: str = ""


def _number(text: str) -> int | None:
    """An integer field of nvidia-smi's CSV, or ``None`` for ``[N/A]``, ``[Not Supported]`` etc."""
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        return None


def _rows(text: str, width: int, name_column: int | None = None) -> Iterable[list[str]]:
    """The CSV rows with ``width`` cells whose first cell is a GPU index; other lines are skipped."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split(",")]
        extra = len(cells) - width
        if extra > 0 and name_column is not None:  # commas inside the product name
            name = ", ".join(cells[name_column : name_column + extra + 1])
            cells = [*cells[:name_column], name, *cells[name_column + extra + 1 :]]
        if len(cells) != width or _number(cells[0]) is None:
            continue
        yield cells


def parse_gpu_inventory(text: str) -> list[GpuInfo]:
    """Parse ``nvidia-smi --query-gpu=<INVENTORY_FIELDS> --format=csv,noheader,nounits`` output."""
    gpus = []
    for index, name, total, used, utilization, uuid in _rows(text, 6, name_column=1):
        gpus.append(GpuInfo(int(index), name, _number(total), _number(used), _number(utilization), uuid))
    return gpus


def parse_gpu_samples(text: str, when: float | None = None) -> list[GpuSample]:
    """Parse ``nvidia-smi --query-gpu=<SAMPLE_FIELDS> --format=csv,noheader,nounits`` output."""
    when = time.time() if when is None else when
    samples = []
    for cells in _rows(text, 4):
        index, utilization, used, total = cells
        samples.append(GpuSample(int(index), _number(utilization), _number(used), _number(total), when))
    return samples


def nvidia_runtime_present(docker_info: Mapping[str, Any]) -> bool:
    """Whether the engine lists the NVIDIA container runtime (``client.info()["Runtimes"]``)."""
    runtimes = docker_info.get("Runtimes") or {}
    return NVIDIA_RUNTIME in runtimes


def _query_argv(fields: str, indices: Iterable[int] = ()) -> list[str]:
    argv = ["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader,nounits"]
    chosen = ",".join(str(index) for index in indices)
    return [*argv, "-i", chosen] if chosen else argv


def _no_gpus(host_name: str, reason: str = "") -> str:
    detail = f" ({reason})" if reason else ""
    return f"No NVIDIA GPUs found on '{host_name}'{detail}: CPU work only"


def list_gpus(session: HostSession, probe_images: Iterable[str] = ()) -> GpuInventory:
    """The host's GPUs, from ``nvidia-smi`` on the host or, if it has none, in a short container.

    The container route needs the NVIDIA runtime and an image already on the host
    (``probe_images``; the toolkit mounts nvidia-smi into it).
    """
    exit_code, stdout, stderr = session.run(_query_argv(INVENTORY_FIELDS), timeout=30)
    if exit_code == 0:
        gpus = parse_gpu_inventory(stdout)
        return GpuInventory(gpus, "" if gpus else _no_gpus(session.name), "nvidia-smi on the host")
    if exit_code != NOT_FOUND_EXIT:
        reason = " ".join((stderr or stdout).split())[:200] or f"nvidia-smi exit code {exit_code}"
        return GpuInventory([], _no_gpus(session.name, f"nvidia-smi failed: {reason}"))
    return _list_gpus_in_container(session, list(probe_images))


def _list_gpus_in_container(session: HostSession, probe_images: list[str]) -> GpuInventory:
    """Ask a throwaway container with the NVIDIA runtime, when the host itself has no nvidia-smi."""
    tolerated: tuple[type[BaseException], ...] = (HostError, *engine_call_errors())
    try:
        client = session.docker
        if not nvidia_runtime_present(client.info()):
            return GpuInventory([], _no_gpus(session.name))
        image = next((ref for ref in probe_images if _image_present(client, ref)), None)
        if image is None:
            return GpuInventory([], _no_gpus(session.name, "nvidia-smi is not installed on the host and "
                                             "no image is present to ask through the NVIDIA runtime"))
        output = client.containers.run(
            image, _query_argv(INVENTORY_FIELDS)[1:], entrypoint="nvidia-smi", runtime=NVIDIA_RUNTIME,
            environment={"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "utility"},
            network_mode="none", remove=True, stdout=True, stderr=False,
        )
    except tolerated as error:
        return GpuInventory([], _no_gpus(session.name, f"the NVIDIA runtime could not be asked: {error}"))
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
    gpus = parse_gpu_inventory(text)
    return GpuInventory(gpus, "" if gpus else _no_gpus(session.name), f"nvidia-smi in {image}")


def _image_present(client: Any, ref: str) -> bool:
    import docker

    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def sample_gpus(session: HostSession, indices: Iterable[int] = ()) -> list[GpuSample]:
    """Current utilisation and memory of the given GPUs (all when ``indices`` is empty).

    Cheap enough to call every second or two; returns ``[]`` on a host without ``nvidia-smi``.
    """
    exit_code, stdout, _ = session.run(_query_argv(SAMPLE_FIELDS, indices), timeout=15)
    if exit_code != 0:
        return []
    return parse_gpu_samples(stdout)
