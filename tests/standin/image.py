"""Build (or reuse) the stand-in TAO image and run its commands in containers, for tests."""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build.sh"
TEST_LABEL = {"taodesk.test": "standin"}


@functools.cache
def ensure_standin_image() -> str:
    """Run build.sh (a no-op when the image is current) and return the image tag it prints."""
    completed = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=900, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    return completed.stdout.strip().splitlines()[-1]


def start_container(
    client: Any,
    image: str,
    command: list[str],
    mounts: list[Path],
    environment: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """Start a command detached, as the calling user, without network, each mount at the same path."""
    volumes = {str(path): {"bind": str(path), "mode": "rw"} for path in mounts}
    env = {"HOME": str(mounts[0]) if mounts else tempfile.gettempdir(), **(environment or {})}
    return client.containers.run(
        image,
        command,
        detach=True,
        user=f"{os.getuid()}:{os.getgid()}",
        network_mode="none",
        volumes=volumes,
        environment=env,
        labels=TEST_LABEL,
        **options,
    )


@dataclass
class ContainerResult:
    """How a stand-in container ended."""

    exit_code: int
    logs: str
    oom_killed: bool


def run_in_container(
    client: Any,
    image: str,
    command: list[str],
    mounts: list[Path],
    environment: dict[str, str] | None = None,
    mem_limit: str | None = None,
    timeout: float = 120,
) -> ContainerResult:
    """Run a command to its end (see start_container) and collect exit code, logs and OOM flag."""
    options: dict[str, Any] = {}
    if mem_limit:
        options.update(mem_limit=mem_limit, memswap_limit=mem_limit)
    container = start_container(client, image, command, mounts, environment, **options)
    try:
        status = container.wait(timeout=timeout)
        container.reload()
        logs = container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")
        return ContainerResult(int(status["StatusCode"]), logs, bool(container.attrs["State"]["OOMKilled"]))
    finally:
        container.remove(force=True)
