"""Pulling images onto a host with byte progress, and registry credentials held only in memory.

NGC (nvcr.io) logins use the user name ``$oauthtoken`` and the NGC API key from the keyring or
``NGC_API_KEY``. The credentials go to the engine with the pull request itself: ``docker login``
is never called, so nothing is written to ``~/.docker/config.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from app.core.hosts.docker_errors import engine_call_errors, engine_lost
from app.core.hosts.errors import HostError, ImagePullFailed

if TYPE_CHECKING:
    from app.core.hosts.secrets import SecretStore
    from app.core.hosts.session import HostSession

ProgressCallback = Callable[[int, int, str], None]
NGC_REGISTRY = "nvcr.io"
NGC_USER = "$oauthtoken"
DEFAULT_REGISTRY = "docker.io"
_FINISHED_DOWNLOAD = {"Download complete", "Verifying Checksum", "Extracting", "Pull complete"}


def registry_of(ref: str) -> str:
    """The registry host of an image reference (``docker.io`` when it names none)."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return DEFAULT_REGISTRY


def registry_auth(ref: str, secrets: SecretStore | None) -> dict[str, str] | None:
    """In-memory credentials for pulling ``ref``: NGC's for nvcr.io images when a key is known."""
    if registry_of(ref) != NGC_REGISTRY or secrets is None:
        return None
    key = secrets.ngc_api_key()
    if not key:
        return None
    return {"username": NGC_USER, "password": key, "serveraddress": NGC_REGISTRY}


class PullProgress:
    """Adds up docker's per-layer pull events into (bytes done, bytes total, status text)."""

    def __init__(self) -> None:
        self._layers: dict[str, tuple[int, int]] = {}

    @property
    def done(self) -> int:
        """Bytes downloaded so far over all layers whose size is known."""
        return sum(current for current, _ in self._layers.values())

    @property
    def total(self) -> int:
        """Bytes to download over all layers whose size is known so far."""
        return sum(size for _, size in self._layers.values())

    def feed(self, event: Mapping[str, Any]) -> tuple[int, int, str]:
        """Take one decoded event; raise `ImagePullFailed` if it reports an error."""
        if event.get("error"):
            detail = event.get("errorDetail") or {}
            raise ImagePullFailed(str(detail.get("message") or event["error"]))
        status = str(event.get("status", ""))
        layer = event.get("id")
        progress = event.get("progressDetail") or {}
        if layer and status == "Downloading" and progress.get("total"):
            self._layers[layer] = (int(progress.get("current", 0)), int(progress["total"]))
        elif layer in self._layers and status in _FINISHED_DOWNLOAD:
            size = self._layers[layer][1]
            self._layers[layer] = (size, size)
        text = f"{layer}: {status}" if layer and status else status
        return self.done, self.total, text


def pull_image(session: HostSession, ref: str, progress_callback: ProgressCallback | None = None,
               auth: Mapping[str, str] | None = None) -> str:
    """Pull ``ref`` onto the host, reporting progress; return the pulled image's id.

    Raises `ImagePullFailed` with the engine's reason (unknown image, no network, bad login ...).
    """
    import docker
    import requests
    from docker.utils import parse_repository_tag

    repository, tag = parse_repository_tag(ref)
    progress = PullProgress()
    try:
        events = session.docker.api.pull(repository, tag=tag or "latest", stream=True, decode=True,
                                         auth_config=dict(auth) if auth else None)
        for event in events:
            done, total, text = progress.feed(event)
            if progress_callback is not None:
                progress_callback(done, total, text)
        image = session.docker.images.get(ref if tag or "@" in ref else f"{ref}:latest")
    except ImagePullFailed as error:
        raise ImagePullFailed(_pull_message(session, ref, str(error), auth), session.name) from error
    except docker.errors.APIError as error:
        reason = str(error.explanation or error)
        raise ImagePullFailed(_pull_message(session, ref, reason, auth), session.name) from error
    except (docker.errors.DockerException, requests.RequestException) as error:
        reason = f"the Docker engine stopped answering: {error}"
        raise ImagePullFailed(_pull_message(session, ref, reason, auth), session.name) from error
    return str(image.id)


def _pull_message(session: HostSession, ref: str, reason: str, auth: Mapping[str, str] | None) -> str:
    message = f"Cannot pull {ref} on host '{session.name}': {reason}"
    lowered = reason.lower()
    if registry_of(ref) == NGC_REGISTRY and not auth and ("unauthorized" in lowered or "denied" in lowered):
        message += (". nvcr.io needs an NGC API key: store it in TAO Desk's settings (kept in the "
                    "system keyring) or set the NGC_API_KEY environment variable")
    return message


def image_present(session: HostSession, ref: str) -> bool:
    """Whether the image is already on the host (never pulls)."""
    import docker

    try:
        session.docker.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as error:
        raise HostError(f"Cannot look up image {ref} on host '{session.name}': {error.explanation}",
                        session.name) from error
    except engine_call_errors() as error:
        raise engine_lost(error, session.name) from error
    return True
