"""GPU inventory: nvidia-smi CSV parsing, CPU-only hosts, the runtime check and live sampling."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from app.core.hosts.gpus import (
    GpuInfo,
    list_gpus,
    nvidia_runtime_present,
    parse_gpu_inventory,
    parse_gpu_samples,
    sample_gpus,
)
from app.core.hosts.session import CommandResult, HostSession

INVENTORY = (
    "0, NVIDIA A100-SXM4-80GB, 81920, 3, 0, GPU-5d1c6f0b-1111-2222-3333-444455556666\n"
    "1, NVIDIA A100-SXM4-80GB, 81920, 40000, 97, GPU-0a1b2c3d-1111-2222-3333-444455556666\n"
)


def test_inventory_csv_is_parsed_into_records() -> None:
    gpus = parse_gpu_inventory(INVENTORY)
    assert gpus == [
        GpuInfo(0, "NVIDIA A100-SXM4-80GB", 81920, 3, 0, "GPU-5d1c6f0b-1111-2222-3333-444455556666"),
        GpuInfo(1, "NVIDIA A100-SXM4-80GB", 81920, 40000, 97, "GPU-0a1b2c3d-1111-2222-3333-444455556666"),
    ]


def test_not_available_fields_commas_in_names_and_noise_are_tolerated() -> None:
    text = (
        "\n"
        "0, Tesla T4, 15360, 0, [N/A], GPU-aaaa\n"
        "1, NVIDIA RTX 6000 Ada Generation, Rev 2, 49140, [Not Supported], 12, GPU-bbbb\n"
        "No devices were found\n"
    )
    gpus = parse_gpu_inventory(text)
    assert [(g.index, g.name, g.memory_used_mib, g.utilization_percent) for g in gpus] == [
        (0, "Tesla T4", 0, None),
        (1, "NVIDIA RTX 6000 Ada Generation, Rev 2", None, 12),
    ]


def test_samples_are_parsed_with_one_timestamp() -> None:
    samples = parse_gpu_samples("0, 55, 1024, 81920\n3, 100, 80000, 81920\n", when=12.5)
    assert [(s.index, s.utilization_percent, s.memory_used_mib, s.memory_total_mib, s.time)
            for s in samples] == [(0, 55, 1024, 81920, 12.5), (3, 100, 80000, 81920, 12.5)]


def test_runtime_presence_comes_from_docker_info() -> None:
    assert nvidia_runtime_present({"Runtimes": {"runc": {}, "nvidia": {"path": "nvidia-container-runtime"}}})
    assert not nvidia_runtime_present({"Runtimes": {"runc": {}, "io.containerd.runc.v2": {}}})
    assert not nvidia_runtime_present({})


class _ScriptedHost:
    """Stands in for a session whose only ability is answering ``run`` (unit test of gpus.py)."""

    name = "box"

    def __init__(self, result: CommandResult) -> None:
        self.result = result

    def run(self, argv: list[str], timeout: float | None = 60.0) -> CommandResult:
        return self.result


def test_a_failing_nvidia_smi_means_cpu_only_with_its_reason() -> None:
    host = _ScriptedHost(CommandResult(9, "", "NVIDIA-SMI has failed because it couldn't communicate "
                                                "with the NVIDIA driver.\n"))
    inventory = list_gpus(host)  # type: ignore[arg-type]
    assert inventory.gpus == []
    assert inventory.note.startswith("No NVIDIA GPUs found on 'box'")
    assert "couldn't communicate with the NVIDIA driver" in inventory.note
    assert inventory.note.endswith("CPU work only")


def _install_fake_nvidia_smi(folder: Path, inventory: str, samples: str) -> Path:
    """An executable nvidia-smi that answers the two queries the app makes and logs its arguments."""
    folder.mkdir()
    log = folder / "calls.log"
    script = folder / "nvidia-smi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "query = next(a for a in sys.argv if a.startswith('--query-gpu='))\n"
        f"text = {inventory!r} if 'uuid' in query else {samples!r}\n"
        "wanted = sys.argv[sys.argv.index('-i') + 1].split(',') if '-i' in sys.argv else None\n"
        "for line in text.splitlines():\n"
        "    if wanted is None or line.split(',')[0] in wanted:\n"
        "        print(line)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def test_gpus_are_listed_through_nvidia_smi_on_the_host(local_session: HostSession, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    log = _install_fake_nvidia_smi(tmp_path / "bin", INVENTORY, "0, 10, 100, 81920\n1, 97, 40000, 81920\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    inventory = list_gpus(local_session)
    assert [(g.index, g.memory_total_mib) for g in inventory.gpus] == [(0, 81920), (1, 81920)]
    assert inventory.note == ""

    samples = sample_gpus(local_session, [1])
    assert [(s.index, s.utilization_percent, s.memory_used_mib) for s in samples] == [(1, 97, 40000)]
    assert log.read_text().splitlines()[-1].endswith("-i 1")


@pytest.mark.docker
def test_host_without_nvidia_smi_is_cpu_only_not_an_error(local_docker_session: HostSession, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    inventory = list_gpus(local_docker_session)
    assert inventory.gpus == []
    assert inventory.note.startswith("No NVIDIA GPUs found on 'local'")
    assert inventory.note.endswith(": CPU work only")
    assert sample_gpus(local_docker_session, [0]) == []


class _FakeContainers:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def run(self, *args: object, **kwargs: object) -> bytes:
        self.calls.append((args, kwargs))
        return INVENTORY.encode()


class _FakeImages:
    def get(self, ref: str) -> object:
        import docker

        if ref != "tao:present":
            raise docker.errors.ImageNotFound(ref)
        return object()


class _FakeDocker:
    def __init__(self, runtimes: dict[str, object]) -> None:
        self.runtimes = runtimes
        self.containers = _FakeContainers()
        self.images = _FakeImages()

    def info(self) -> dict[str, object]:
        return {"Runtimes": self.runtimes}


class _HostWithoutNvidiaSmi:
    """Stands in for a session whose host lacks nvidia-smi but whose engine may have the runtime."""

    name = "box"

    def __init__(self, runtimes: dict[str, object]) -> None:
        self.docker = _FakeDocker(runtimes)

    def run(self, argv: list[str], timeout: float | None = 60.0) -> CommandResult:
        return CommandResult(127, "", "sh: 1: nvidia-smi: not found")


def test_without_nvidia_smi_on_the_host_a_runtime_container_is_asked() -> None:
    host = _HostWithoutNvidiaSmi({"runc": {}, "nvidia": {}})
    inventory = list_gpus(host, ["tao:missing", "tao:present"])  # type: ignore[arg-type]
    assert [g.index for g in inventory.gpus] == [0, 1]
    assert inventory.source == "nvidia-smi in tao:present"
    (args, kwargs), = host.docker.containers.calls
    assert args[0] == "tao:present"
    assert kwargs["runtime"] == "nvidia" and kwargs["entrypoint"] == "nvidia-smi"
    assert kwargs["network_mode"] == "none" and kwargs["remove"] is True


def test_without_nvidia_smi_or_runtime_the_host_is_cpu_only() -> None:
    host = _HostWithoutNvidiaSmi({"runc": {}})
    inventory = list_gpus(host, ["tao:present"])  # type: ignore[arg-type]
    assert inventory.gpus == [] and host.docker.containers.calls == []
    assert inventory.note == "No NVIDIA GPUs found on 'box': CPU work only"
