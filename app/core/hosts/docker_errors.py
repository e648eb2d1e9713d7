"""Turn docker-py's connection errors into `DockerUnreachable` messages a user can act on."""

from __future__ import annotations

from collections.abc import Iterator

from app.core.hosts.errors import DockerPermissionDenied, DockerUnreachable


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and any exceptions carried in their arguments (depth-first)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))


def docker_connect_error(error: BaseException, host_name: str, where: str) -> DockerUnreachable:
    """A `DockerUnreachable` (or `DockerPermissionDenied`) for a failed connection to an engine.

    ``where`` says how the engine was addressed (socket path or SSH address).
    """
    prefix = f"Docker is not reachable on host '{host_name}' ({where})"
    for cause in _causes(error):
        if isinstance(cause, PermissionError):
            return DockerPermissionDenied(
                f"Permission denied on the Docker socket of host '{host_name}' ({where}). Add the user "
                "to the 'docker' group (then log in again) or use an account that may run Docker.",
                host_name,
            )
        if isinstance(cause, FileNotFoundError):
            return DockerUnreachable(f"{prefix}: the socket does not exist. Is the Docker engine running?",
                                     host_name)
        if isinstance(cause, ConnectionRefusedError):
            return DockerUnreachable(
                f"{prefix}: connection refused. The Docker engine is not running or not listening there.",
                host_name,
            )
    reason = str(error).strip() or type(error).__name__
    return DockerUnreachable(f"{prefix}: {reason}", host_name)


def docker_cli_error(exit_code: int, stderr: str, host_name: str, where: str) -> DockerUnreachable:
    """Explain why ``docker version`` failed on a remote host, from its exit code and stderr."""
    reason = " ".join(stderr.split()) or f"exit code {exit_code}"
    if exit_code == 127:
        return DockerUnreachable(
            f"Docker is not usable on host '{host_name}' ({where}): the 'docker' command is not "
            "installed there (TAO Desk needs the Docker CLI on the host).",
            host_name,
        )
    if "permission denied" in reason.lower():
        return DockerPermissionDenied(
            f"Permission denied on the Docker socket of host '{host_name}' ({where}): {reason}. Add the "
            "user to the 'docker' group on that host.",
            host_name,
        )
    return DockerUnreachable(f"Docker is not reachable on host '{host_name}' ({where}): {reason}", host_name)


def engine_call_errors() -> tuple[type[BaseException], ...]:
    """What a docker-py call raises when the engine fails or stops answering mid-session."""
    import docker
    import requests

    return (docker.errors.DockerException, requests.RequestException)


def engine_lost(error: BaseException, host_name: str) -> DockerUnreachable:
    """A `DockerUnreachable` for an engine that answered before but fails now."""
    reason = " ".join(str(error).split()) or type(error).__name__
    return DockerUnreachable(f"Docker on host '{host_name}' stopped answering: {reason}", host_name)
