"""A host whose network goes silent: connecting and in-session calls fail in seconds, then recover."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.hosts.errors import HostUnreachable
from app.core.hosts.session import open_session
from app.core.hosts.settings import HostConfig
from app.core.hosts.ssh import SshHostSession
from tests.infra.sshd import NamespaceHost

pytestmark = pytest.mark.ssh


@pytest.fixture
def remote_config(namespace_host: NamespaceHost, tmp_path: Path) -> Iterator[HostConfig]:
    server = namespace_host.server
    server.accept_host_key()
    yield server.host_config(tmp_path, name="remote", connect_timeout=1.5)


def test_connecting_to_a_silent_host_times_out(namespace_host: NamespaceHost,
                                                remote_config: HostConfig) -> None:
    namespace_host.cut_off()
    try:
        started = time.monotonic()
        with pytest.raises(HostUnreachable) as raised:
            open_session(remote_config)
        assert time.monotonic() - started < 5
    finally:
        namespace_host.restore()
    expected = f"Cannot reach host 'remote' at {remote_config.ssh_host}:22: timed out after 1.5 s"
    assert str(raised.value) == expected


def test_an_outage_during_a_session_is_reported_then_recovered(namespace_host: NamespaceHost,
                                                               remote_config: HostConfig) -> None:
    with open_session(remote_config) as session:
        assert isinstance(session, SshHostSession)
        session.operation_timeout = 1.5
        assert session.stat("/") is not None
        namespace_host.cut_off()
        try:
            started = time.monotonic()
            with pytest.raises(HostUnreachable, match=r"Host 'remote' .* did not answer within 1\.5 s"):
                session.stat("/etc")
            assert time.monotonic() - started < 5
        finally:
            namespace_host.restore()
        info = session.stat("/etc")
        assert info is not None and info.is_dir
