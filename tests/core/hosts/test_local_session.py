"""The local host session: real files, real subprocesses and the real Docker engine."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.hosts.errors import (
    DockerPermissionDenied,
    DockerUnreachable,
    HostCommandTimeout,
    HostFileTooLarge,
    HostPathNotFound,
)
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig

NASTY_ARGUMENTS = ["two words", "it's", 'say "hi"', "a;b", "$(touch pwned)", "`id`", "*", "back\\slash", ""]


def test_file_round_trip(local_session: HostSession, tmp_path: Path) -> None:
    folder = tmp_path / "results" / "run 1"
    local_session.make_dirs(str(folder))
    local_session.make_dirs(str(folder))
    target = str(folder / "status.json")
    local_session.write_bytes(target, b'{"epoch": 1}\n')
    local_session.write_bytes(target, b'{"epoch": 1}\n{"epoch": 2}\n')

    info = local_session.stat(target)
    assert info is not None and info.size == 26 and not info.is_dir
    assert (info.uid, info.gid) == (os.getuid(), os.getgid())
    assert local_session.read_range(target, 13, 100) == b'{"epoch": 2}\n'
    assert local_session.read_range(target, 100, 10) == b""
    assert local_session.read_bytes(target) == b'{"epoch": 1}\n{"epoch": 2}\n'
    assert [entry.name for entry in local_session.list_dir(str(folder))] == ["status.json"]

    local_session.rename(target, str(folder / "old.json"))
    assert not local_session.exists(target)
    local_session.remove(str(folder / "old.json"))
    local_session.remove(str(folder))
    assert local_session.stat(str(folder)) is None
    local_session.remove(str(folder), missing_ok=True)


def test_missing_paths_and_large_files_give_clear_errors(local_session: HostSession, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(HostPathNotFound, match=f"{missing} does not exist on host 'local'"):
        local_session.list_dir(missing)
    with pytest.raises(HostPathNotFound):
        local_session.read_range(missing, 0, 10)
    with pytest.raises(HostPathNotFound):
        local_session.remove(missing)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 1000)
    with pytest.raises(HostFileTooLarge, match="1000 bytes"):
        local_session.read_bytes(str(big), max_size=999)


def test_listings_report_sizes_and_follow_links(local_session: HostSession, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(b"12345")
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    (tmp_path / "file-link").symlink_to(tmp_path / "a.txt")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    entries = {entry.name: entry for entry in local_session.list_entries(str(tmp_path))}
    assert set(entries) == {"sub", "a.txt", "link", "file-link"}
    assert entries["a.txt"].size == 5 and entries["a.txt"].is_file and not entries["a.txt"].is_dir
    assert entries["link"].is_dir and entries["sub"].is_dir
    assert abs(entries["a.txt"].mtime - time.time()) < 60
    files = local_session.list_dir(str(tmp_path))
    assert [(f.name, f.size) for f in files] == [("a.txt", 5), ("file-link", 5)]


def test_run_passes_arguments_verbatim(local_session: HostSession, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exit_code, stdout, stderr = local_session.run(
        [sys.executable, "-c", "import sys; print(repr(sys.argv[1:])); sys.exit(3)", *NASTY_ARGUMENTS])
    assert (exit_code, stderr) == (3, "")
    assert stdout.strip() == repr(NASTY_ARGUMENTS)
    assert not (tmp_path / "pwned").exists()


def test_run_missing_program_and_timeout(local_session: HostSession) -> None:
    assert local_session.run(["no-such-program-here"]).exit_code == 127
    started = time.monotonic()
    with pytest.raises(HostCommandTimeout, match=r"did not finish within 0\.5 s on host 'local'"):
        local_session.run(["sleep", "10"], timeout=0.5)
    assert time.monotonic() - started < 5


def test_home_and_ids_are_this_users(local_session: HostSession) -> None:
    assert local_session.home == str(Path.home())
    assert local_session.uid_gid() == (os.getuid(), os.getgid())


@pytest.mark.docker
def test_local_docker_answers(local_docker_session: HostSession) -> None:
    client = local_docker_session.docker
    assert client.ping() is True
    version = client.version()
    assert version["ApiVersion"] and version["Version"]
    assert local_docker_session.docker is client


@pytest.mark.docker
def test_missing_socket_says_the_engine_is_not_running(tmp_path: Path) -> None:
    session = open_session(HostConfig(name="local", socket_path=str(tmp_path / "docker.sock")))
    with pytest.raises(DockerUnreachable) as raised:
        _ = session.docker
    assert str(raised.value) == (f"Docker is not reachable on host 'local' ({tmp_path / 'docker.sock'}): the "
                                 "socket does not exist. Is the Docker engine running?")


@pytest.mark.docker
def test_socket_without_a_daemon_is_reported_as_refused(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens: what a crashed daemon leaves behind
    session = open_session(HostConfig(name="local", socket_path=str(path)))
    with pytest.raises(DockerUnreachable, match="connection refused"):
        _ = session.docker


@pytest.mark.docker
@pytest.mark.skipif(os.getuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to act as an unprivileged user")
def test_permission_denied_on_the_socket_names_the_docker_group(local_docker_session: HostSession) -> None:
    socket_path = local_docker_session.config.socket_path
    if os.stat(socket_path).st_mode & 0o006:
        pytest.skip("the Docker socket is open to everyone here")
    code = ("from app.core.hosts.session import open_session\n"
            "from app.core.hosts.settings import HostConfig\n"
            "from app.core.hosts.errors import DockerPermissionDenied\n"
            f"session = open_session(HostConfig(name='local', socket_path={socket_path!r}))\n"
            "try:\n    session.docker\n"
            "except DockerPermissionDenied as error:\n    print(type(error).__name__, error)\n")
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[3],
        env={"PATH": os.environ["PATH"], "HOME": "/nonexistent", "TAODESK_CONFIG_DIR": "/nonexistent"},
    )
    assert done.stdout.startswith(DockerPermissionDenied.__name__), done.stderr
    assert f"Permission denied on the Docker socket of host 'local' ({socket_path})" in done.stdout
    assert "'docker' group" in done.stdout


class _SocketRelay:
    """Relays a unix socket of our own to the Docker socket, until `stop` (an engine that dies)."""

    def __init__(self, path: Path, target: str) -> None:
        self.path, self.target = path, target
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(8)
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self.listener.close()
        self.path.unlink()
        for connection in self.open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@pytest.mark.docker
def test_an_engine_that_stops_answering_is_reported(local_docker_session: HostSession,
                                                    tmp_path: Path) -> None:
    from app.core.hosts.check import CheckStatus, check_host
    from app.core.hosts.pull import image_present

    relay = _SocketRelay(tmp_path / "relay.sock", local_docker_session.config.socket_path)
    session = open_session(HostConfig(name="local", socket_path=str(relay.path), workspace=str(tmp_path)))
    try:
        assert session.docker.ping() is True
        relay.stop()
        with pytest.raises(DockerUnreachable, match="Docker on host 'local' stopped answering"):
            image_present(session, "some/image:1")
        report = check_host(session, ["some/image:1"])
        assert report.item("docker").status is CheckStatus.FAIL
        assert "host 'local'" in report.item("docker").message
        assert not report.ok
    finally:
        session.close()
