"""Pull progress arithmetic, registry credentials, and how Docker connection errors are explained."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from app.core.hosts.docker_errors import docker_cli_error, docker_connect_error
from app.core.hosts.errors import DockerPermissionDenied, DockerUnreachable, ImagePullFailed
from app.core.hosts.pull import PullProgress, registry_auth, registry_of
from app.core.hosts.secrets import NGC_API_KEY, SecretStore

# A pull of a two-layer image as the engine reports it (one layer already present).
RECORDED_PULL: list[dict[str, Any]] = [
    {"status": "Pulling from nvidia/tao/tao-toolkit", "id": "7.1.0-pyt"},
    {"status": "Already exists", "progressDetail": {}, "id": "aaa"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbb"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "ccc"},
    {"status": "Downloading", "progressDetail": {"current": 1000, "total": 4000}, "id": "bbb"},
    {"status": "Downloading", "progressDetail": {"current": 500, "total": 1000}, "id": "ccc"},
    {"status": "Downloading", "progressDetail": {"current": 3000, "total": 4000}, "id": "bbb"},
    {"status": "Download complete", "progressDetail": {}, "id": "ccc"},
    {"status": "Extracting", "progressDetail": {"current": 2000, "total": 9000}, "id": "ccc"},
    {"status": "Download complete", "progressDetail": {}, "id": "bbb"},
    {"status": "Pull complete", "progressDetail": {}, "id": "bbb"},
    {"status": "Status: Downloaded newer image for nvcr.io/nvidia/tao/tao-toolkit:7.1.0-pyt"},
]


def test_progress_adds_up_bytes_over_layers() -> None:
    progress = PullProgress()
    seen = [progress.feed(event) for event in RECORDED_PULL]
    assert seen[4] == (1000, 4000, "bbb: Downloading")
    assert seen[5][:2] == (1500, 5000)
    assert seen[7][:2] == (4000, 5000)
    assert seen[8][:2] == (4000, 5000)
    assert seen[-1] == (5000, 5000, RECORDED_PULL[-1]["status"])
    done = [step[0] for step in seen]
    assert done == sorted(done)


def test_progress_error_event_raises_with_the_engines_words() -> None:
    progress = PullProgress()
    with pytest.raises(ImagePullFailed, match="unauthorized: authentication required"):
        progress.feed({"errorDetail": {"message": "unauthorized: authentication required"},
                       "error": "unauthorized: authentication required"})


@pytest.mark.parametrize(("ref", "registry"), [
    ("nvcr.io/nvidia/tao/tao-toolkit:7.1.0-pyt", "nvcr.io"),
    ("ubuntu:22.04", "docker.io"),
    ("library/ubuntu", "docker.io"),
    ("localhost/x:1", "localhost"),
    ("127.0.0.1:5000/tests/tiny:v1", "127.0.0.1:5000"),
])
def test_registry_of(ref: str, registry: str) -> None:
    assert registry_of(ref) == registry


def test_ngc_credentials_only_for_nvcr(secrets: SecretStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NGC_API_KEY", raising=False)
    assert registry_auth("nvcr.io/nvidia/tao/tao-toolkit:7.1.0-pyt", secrets) is None
    secrets.set(NGC_API_KEY, "nvapi-123")
    assert registry_auth("nvcr.io/nvidia/tao/tao-toolkit:7.1.0-pyt", secrets) == {
        "username": "$oauthtoken", "password": "nvapi-123", "serveraddress": "nvcr.io"}
    assert registry_auth("ubuntu:22.04", secrets) is None


def _wrapped(inner: BaseException) -> Exception:
    """The shape docker-py gives a failed first contact: DockerException from requests' error."""
    import docker
    import urllib3

    aborted = urllib3.exceptions.ProtocolError("Connection aborted.", inner)
    connection_error = requests.ConnectionError(aborted)
    try:
        try:
            raise connection_error
        except requests.ConnectionError as error:
            message = f"Error while fetching server API version: {error}"
            raise docker.errors.DockerException(message) from error
    except docker.errors.DockerException as final:
        return final


def test_connect_errors_say_what_is_wrong() -> None:
    missing = docker_connect_error(_wrapped(FileNotFoundError(2, "No such file or directory")), "local",
                                   "/var/run/docker.sock")
    assert type(missing) is DockerUnreachable
    assert str(missing) == ("Docker is not reachable on host 'local' (/var/run/docker.sock): the socket does "
                            "not exist. Is the Docker engine running?")

    denied = docker_connect_error(_wrapped(PermissionError(13, "Permission denied")), "local", "/s")
    assert isinstance(denied, DockerPermissionDenied)
    assert "'docker' group" in str(denied)

    refused = docker_connect_error(_wrapped(ConnectionRefusedError(111, "refused")), "lab", "ana@h:22")
    assert "host 'lab'" in str(refused) and "connection refused" in str(refused)


def test_remote_cli_errors_are_explained() -> None:
    assert "not installed" in str(docker_cli_error(127, "sh: 1: docker: not found", "lab", "a@h:22"))
    denied = docker_cli_error(1, "permission denied while trying to connect to the Docker daemon socket",
                              "lab", "a@h:22")
    assert isinstance(denied, DockerPermissionDenied)
    down = docker_cli_error(1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the "
                               "docker daemon running?", "lab", "a@h:22")
    assert "host 'lab'" in str(down) and "Is the docker daemon running?" in str(down)
