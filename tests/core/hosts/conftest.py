"""Fixtures for host tests: an in-memory keyring, local sessions, a tiny registry.

The private sshd fixtures (`ssh_server`, `ssh_host_config`, `namespace_host` from tests/infra/sshd.py)
are imported once for the whole run by tests/conftest.py, so every test shares one sshd.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.core.hosts.errors import HostError
from app.core.hosts.secrets import SecretStore
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig
from tests.core.hosts.registry import TinyRegistry, serve_registry

STANDIN_IMAGE = "taodesk-standin:latest"


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in a dict (nothing touches the disk)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """A fresh in-memory keyring backend."""
    return MemoryKeyring()


@pytest.fixture
def secrets(memory_keyring: MemoryKeyring) -> SecretStore:
    """A secret store backed by the in-memory keyring."""
    return SecretStore(memory_keyring)


@pytest.fixture
def local_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSession]:
    """A session on this machine with a fresh workspace folder."""
    workspace = tmp_path_factory.mktemp("workspace")
    session = open_session(HostConfig(name="local", kind="local", workspace=str(workspace)))
    yield session
    session.close()


@pytest.fixture
def local_docker_session(local_session: HostSession) -> HostSession:
    """The local session with its Docker engine answering (skipped when it does not)."""
    try:
        local_session.docker.ping()
    except HostError as error:
        pytest.skip(f"Docker engine not reachable: {error}")
    return local_session


@pytest.fixture
def standin_image(local_docker_session: HostSession) -> str:
    """The stand-in TAO image tag (skipped until it has been built)."""
    from app.core.hosts.pull import image_present

    if not image_present(local_docker_session, STANDIN_IMAGE):
        pytest.skip(f"{STANDIN_IMAGE} is not built yet (tests/standin)")
    return STANDIN_IMAGE


@pytest.fixture
def tiny_registry() -> Iterator[TinyRegistry]:
    """A local registry with one image, Basic auth user ``$oauthtoken`` (like NGC)."""
    yield from serve_registry(TinyRegistry("tests/tiny", "v1", "$oauthtoken", "nvapi-test-key"))


@pytest.fixture
def open_registry() -> Iterator[TinyRegistry]:
    """A local registry with one image that anyone may pull."""
    yield from serve_registry(TinyRegistry("tests/open", "v2"), payload_size=1024 * 1024)
