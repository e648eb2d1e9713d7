"""docker-py over SSH, riding on a session's verified paramiko connection.

docker-py's own SSH adapter reads ``~/.ssh/known_hosts`` and ``~/.ssh/config`` to make its
connection. We subclass it so that the engine is reached through a connection the session made,
verified against the app's known_hosts and authenticated with the host's key. This relies on
docker-py's adapter internals, which is why docker-py is pinned.

docker-py keeps one HTTP connection pool per API URL, and every new pool opens a new SSH channel
running ``docker system dial-stdio`` (slow to start). All URLs reach the same engine, so here they
share one pool, whose idle channels stay below OpenSSH's default of 10 sessions per connection.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from app.core.hosts.docker_errors import docker_cli_error, docker_connect_error
from app.core.hosts.errors import HostError

if TYPE_CHECKING:
    import paramiko
    from docker import DockerClient


class SshConnectionOwner(Protocol):
    """What the adapter needs from a session: a live, verified paramiko client for Docker."""

    @property
    def name(self) -> str:
        """The host's name, for messages."""
        ...

    def docker_ssh_client(self) -> paramiko.SSHClient:
        """The connected client, reconnected first if the connection dropped."""
        ...


IDLE_DOCKER_CHANNELS = 6
_SHARED_POOL_KEY = "http+docker://ssh"
_construct_lock = threading.Lock()
_pending_owner: SshConnectionOwner | None = None


@functools.cache
def _session_adapter_class() -> type:
    """The adapter subclass (built on first use so docker-py is imported lazily)."""
    from docker.transport.basehttpadapter import BaseHTTPAdapter
    from docker.transport.sshconn import SSHHTTPAdapter

    class SessionSSHAdapter(SSHHTTPAdapter):
        """SSH adapter whose channels are opened on the session's own connection."""

        def _create_paramiko_client(self, base_url: str) -> None:
            if _pending_owner is None:
                raise RuntimeError("SessionSSHAdapter must be created through connect_docker_over_ssh")
            self.connection_owner = _pending_owner
            self.ssh_client = _pending_owner.docker_ssh_client()
            self.ssh_params: dict[str, Any] = {}

        def _connect(self) -> None:
            self.ssh_client = self.connection_owner.docker_ssh_client()

        def get_connection(self, url: Any, proxies: Any = None) -> Any:
            current = self.connection_owner.docker_ssh_client()
            if current is not self.ssh_client:
                pools: Any = self.pools
                with pools.lock:
                    pools.clear()
                self.ssh_client = current
            return super().get_connection(_SHARED_POOL_KEY, proxies)

        def close(self) -> None:
            # Only the HTTP pools: the SSH connection belongs to the session.
            BaseHTTPAdapter.close(self)

    return SessionSSHAdapter


def connect_docker_over_ssh(owner: SshConnectionOwner, address: str,
                            run_docker_version: Callable[[], tuple[int, str, str]] | None = None,
                            ) -> DockerClient:
    """A `DockerClient` for the engine behind ``owner``'s SSH connection, checked with a ping.

    ``address`` is ``user@host:port`` for messages and the client's base URL.
    ``run_docker_version`` (a callable returning ``(exit_code, stdout, stderr)`` of
    ``docker version`` on the host) is used to explain a failure in the engine's own words.
    """
    global _pending_owner
    import docker
    import docker.api.client
    import paramiko
    import requests

    api_client: Any = docker.api.client
    adapter_class = _session_adapter_class()
    try:
        with _construct_lock:
            original = api_client.SSHHTTPAdapter
            _pending_owner = owner
            api_client.SSHHTTPAdapter = adapter_class
            try:
                client = docker.DockerClient(base_url=f"ssh://{address}", timeout=60,
                                             num_pools=1, max_pool_size=IDLE_DOCKER_CHANNELS)
            finally:
                api_client.SSHHTTPAdapter = original
                _pending_owner = None
        client.ping()
    except HostError:
        raise
    except (docker.errors.DockerException, requests.RequestException, paramiko.SSHException,
            OSError) as error:
        if run_docker_version is not None:
            exit_code, _, stderr = run_docker_version()
            if exit_code != 0:
                raise docker_cli_error(exit_code, stderr, owner.name, address) from error
        raise docker_connect_error(error, owner.name, address) from error
    return client
