"""SSH host sessions against a real private sshd: files over SFTP, commands, host keys, failures."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from app.core.hosts.errors import (
    HostAuthFailed,
    HostKeyMismatch,
    HostPathNotFound,
    HostUnreachable,
    UnknownHostKey,
)
from app.core.hosts.known_hosts import accept_host_key, app_known_hosts_path, fingerprint_of_base64
from app.core.hosts.secrets import SecretStore, ssh_passphrase_name
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig
from app.core.hosts.ssh import SshHostSession
from tests.core.hosts.test_local_session import NASTY_ARGUMENTS
from tests.infra.sshd import PROTECTED_KEY_PASSPHRASE, SshServer, free_port

pytestmark = pytest.mark.ssh


def test_files_over_sftp(ssh_host_config: HostConfig, tmp_path: Path) -> None:
    with open_session(ssh_host_config) as session:
        folder = f"{ssh_host_config.workspace}/results/run 1"
        session.make_dirs(folder)
        session.make_dirs(folder)
        target = f"{folder}/log.txt"
        session.write_bytes(target, b"first\n")
        session.write_bytes(target, b"line 1\nline 2\n")

        assert Path(target).read_bytes() == b"line 1\nline 2\n"
        assert [p.name for p in Path(folder).iterdir()] == ["log.txt"]  # no temporary file left behind
        info = session.stat(target)
        assert info is not None and info.size == 14 and not info.is_dir
        assert (info.uid, info.gid) == (os.getuid(), os.getgid())
        assert session.read_range(target, 7, 100) == b"line 2\n"
        assert session.read_bytes(target) == b"line 1\nline 2\n"
        with Path(target).open("ab") as stream:
            stream.write(b"line 3\n")
        assert session.read_range(target, 14, 100) == b"line 3\n"

        session.make_dirs(f"{folder}/checkpoints")
        Path(folder, "link.txt").symlink_to(target)
        entries = session.list_entries(folder)
        assert [(e.name, e.size, e.is_dir) for e in entries] == [
            ("checkpoints", entries[0].size, True), ("link.txt", 21, False), ("log.txt", 21, False)]
        assert [(f.name, f.size) for f in session.list_dir(folder)] == [("link.txt", 21), ("log.txt", 21)]
        session.remove(f"{folder}/checkpoints")
        session.remove(f"{folder}/link.txt")
        assert Path(target).exists()
        assert session.stat(ssh_host_config.workspace).is_dir  # type: ignore[union-attr]

        session.rename(target, f"{folder}/kept.txt")
        assert session.stat(target) is None and session.exists(f"{folder}/kept.txt")
        session.remove(f"{folder}/kept.txt")
        session.remove(folder)
        assert not Path(folder).exists()
        with pytest.raises(HostPathNotFound, match="does not exist on host 'lab'"):
            session.list_dir(folder)
        session.remove(folder, missing_ok=True)


def test_large_ranges_arrive_whole(ssh_host_config: HostConfig) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = Path(ssh_host_config.workspace) / "events.bin"
    path.write_bytes(data)
    with open_session(ssh_host_config) as session:
        assert session.read_range(str(path), 1000, 2 * 1024 * 1024) == data[1000 : 1000 + 2 * 1024 * 1024]
        assert session.read_bytes(str(path)) == data


def test_run_quotes_every_argument(ssh_host_config: HostConfig) -> None:
    with open_session(ssh_host_config) as session:
        exit_code, stdout, stderr = session.run(
            ["python3", "-c", "import sys; print(repr(sys.argv[1:])); sys.exit(4)", *NASTY_ARGUMENTS])
        assert (exit_code, stderr) == (4, "")
        assert stdout.strip() == repr(NASTY_ARGUMENTS)
        assert not (Path(session.home) / "pwned").exists()
        assert session.run(["no-such-program-here"]).exit_code == 127
        assert session.run(["sh", "-c", "echo out; echo err >&2; exit 2"]) == (2, "out\n", "err\n")


def test_run_collects_large_output_on_both_streams(ssh_host_config: HostConfig) -> None:
    script = "import sys; sys.stdout.write('o' * 3000000); sys.stderr.write('e' * 3000000)"
    with open_session(ssh_host_config) as session:
        exit_code, stdout, stderr = session.run(["python3", "-c", script], timeout=30)
    assert (exit_code, len(stdout), len(stderr)) == (0, 3000000, 3000000)


def test_home_and_ids_of_the_remote_user(ssh_host_config: HostConfig) -> None:
    with open_session(ssh_host_config) as session:
        assert session.home == str(Path.home())
        assert session.uid_gid() == (os.getuid(), os.getgid())


def test_a_dropped_connection_is_reopened(ssh_host_config: HostConfig) -> None:
    Path(ssh_host_config.workspace, "a.txt").write_bytes(b"abc")
    with open_session(ssh_host_config) as session:
        assert isinstance(session, SshHostSession)
        assert session.read_range(f"{ssh_host_config.workspace}/a.txt", 0, 3) == b"abc"
        transport = session.ssh_client().get_transport()
        assert transport is not None
        transport.close()
        assert session.read_range(f"{ssh_host_config.workspace}/a.txt", 1, 2) == b"bc"
        session.ssh_client().get_transport().close()  # type: ignore[union-attr]
        assert session.run(["echo", "back"]).stdout == "back\n"


def test_unknown_host_key_shows_the_fingerprint_and_can_be_accepted(ssh_server: SshServer,
                                                                    tmp_path: Path) -> None:
    config = ssh_server.host_config(tmp_path)
    with pytest.raises(UnknownHostKey) as raised:
        open_session(config)
    unknown = raised.value
    expected = fingerprint_of_base64(ssh_server.host_key_base64)
    assert (unknown.host, unknown.port, unknown.key_type) == (ssh_server.host, ssh_server.port, "ssh-ed25519")
    assert unknown.fingerprint_sha256 == expected
    assert expected in str(unknown) and "'lab'" in str(unknown)
    assert not app_known_hosts_path().exists()

    accept_host_key(unknown.host, unknown.port, unknown.key_type, unknown.key_base64)
    assert app_known_hosts_path().read_text() == ssh_server.known_hosts_line + "\n"
    with open_session(config) as session:
        assert session.exists("/")


def test_the_users_own_known_hosts_is_honoured(ssh_server: SshServer, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "known_hosts").write_text(ssh_server.known_hosts_line + "\n")
    monkeypatch.setenv("HOME", str(home))
    with open_session(ssh_server.host_config(tmp_path)) as session:
        assert session.exists("/")
    assert not app_known_hosts_path().exists()


def test_a_changed_host_key_is_refused(ssh_server: SshServer, ssh_host_config: HostConfig) -> None:
    impostor_line = (ssh_server.directory / "id_stranger.pub").read_text().split()
    app_known_hosts_path().write_text(
        f"[{ssh_server.host}]:{ssh_server.port} {impostor_line[0]} {impostor_line[1]}\n")
    with pytest.raises(HostKeyMismatch) as raised:
        open_session(ssh_host_config)
    error = raised.value
    assert error.expected_fingerprint == fingerprint_of_base64(impostor_line[1])
    assert error.got_fingerprint == fingerprint_of_base64(ssh_server.host_key_base64)
    message = str(error)
    assert f"'lab' at {ssh_server.host}:{ssh_server.port}" in message and "CHANGED" in message
    assert error.expected_fingerprint in message and error.got_fingerprint in message
    assert impostor_line[1] in app_known_hosts_path().read_text()


def test_a_key_the_server_does_not_know_fails_login(ssh_server: SshServer,
                                                    ssh_host_config: HostConfig) -> None:
    config = dataclasses.replace(ssh_host_config, key_file=str(ssh_server.stranger_key))
    with pytest.raises(HostAuthFailed, match=f"SSH login to host 'lab' as '{ssh_server.user}'"):
        open_session(config)
    with pytest.raises(HostAuthFailed, match="does not exist"):
        open_session(dataclasses.replace(ssh_host_config, key_file=str(ssh_server.directory / "nokey")))


def test_a_protected_key_uses_the_passphrase_from_the_keyring(ssh_server: SshServer,
                                                               ssh_host_config: HostConfig,
                                                               secrets: SecretStore) -> None:
    config = dataclasses.replace(ssh_host_config, key_file=str(ssh_server.protected_client_key))
    with pytest.raises(HostAuthFailed, match="protected by a passphrase"):
        open_session(config, secrets)
    secrets.set(ssh_passphrase_name("lab"), PROTECTED_KEY_PASSPHRASE)
    with open_session(config, secrets) as session:
        assert session.run(["true"]).exit_code == 0


def test_closed_port_is_reported_quickly(ssh_host_config: HostConfig) -> None:
    port = free_port()
    config = dataclasses.replace(ssh_host_config, ssh_port=port, connect_timeout=3)
    started = time.monotonic()
    with pytest.raises(HostUnreachable) as raised:
        open_session(config)
    assert time.monotonic() - started < 3
    assert str(raised.value).startswith(f"Cannot reach host 'lab' at 127.0.0.1:{port}: connection refused")


def test_a_non_ssh_service_is_not_mistaken_for_a_server(ssh_host_config: HostConfig) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_http() -> None:
        connection, _ = listener.accept()
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        connection.close()

    threading.Thread(target=answer_http, daemon=True).start()
    config = dataclasses.replace(ssh_host_config, ssh_port=listener.getsockname()[1], connect_timeout=3)
    try:
        with pytest.raises(HostUnreachable, match="not an SSH server"):
            open_session(config)
    finally:
        listener.close()


@pytest.mark.docker
def test_docker_over_ssh(ssh_host_config: HostConfig, local_docker_session: HostSession) -> None:
    with open_session(ssh_host_config) as session:
        client = session.docker
        assert client.version()["ApiVersion"] == local_docker_session.docker.version()["ApiVersion"]
        local_ids = {c.id for c in local_docker_session.docker.containers.list(all=True)}
        assert {c.id for c in client.containers.list(all=True)} <= local_ids | {
            c.id for c in local_docker_session.docker.containers.list(all=True)}
        transport = session.docker_ssh_client().get_transport()  # type: ignore[attr-defined]
        transport.close()
        assert client.ping() is True


@pytest.mark.docker
def test_container_run_over_ssh(ssh_host_config: HostConfig, standin_image: str) -> None:
    label = {"taodesk.test": f"hosts-{os.getpid()}-{time.monotonic_ns()}"}
    with open_session(ssh_host_config) as session:
        container = session.docker.containers.run(
            standin_image, ["python3", "-c", "print('hello from', 6 * 7)"], detach=True, labels=label,
            network_mode="none")
        try:
            assert container.wait(timeout=60)["StatusCode"] == 0
            assert container.logs() == b"hello from 42\n"
            label_filter: dict[str, str | list[str] | bool] = {
                "label": [f"taodesk.test={label['taodesk.test']}"]
            }
            found = session.docker.containers.list(all=True, filters=label_filter)
            assert [c.id for c in found] == [container.id]
        finally:
            container.remove(force=True)


@pytest.mark.docker
def test_many_docker_calls_and_file_calls_stay_within_the_servers_session_limit(
        ssh_host_config: HostConfig, local_docker_session: HostSession) -> None:
    import docker

    with open_session(ssh_host_config) as session:
        for attempt in range(12):
            with pytest.raises(docker.errors.NotFound):
                session.docker.containers.get(f"taodesk-no-such-container-{attempt}")
            session.docker.containers.list(all=True, filters={"label": [f"taodesk.none={attempt}"]})
            assert session.stat(ssh_host_config.workspace) is not None
            assert session.run(["true"]).exit_code == 0


def test_telemetry_follows_a_growing_run_over_sftp(ssh_host_config: HostConfig, tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    from app.core.telemetry.event_runs import EventRunReader
    from app.core.telemetry.files import ByteSource

    writer = SummaryWriter(str(tmp_path / "made"))
    for step in range(8):
        writer.add_scalar("train_loss", 1.0 / (step + 1), step)
    writer.close()
    made = next((tmp_path / "made").iterdir())
    data = made.read_bytes()
    run_dir = Path(ssh_host_config.workspace, "train", "lightning_logs", "version_1")

    with open_session(ssh_host_config) as session:
        assert isinstance(session, ByteSource)
        reader = EventRunReader(session, str(run_dir))
        assert reader.poll() == set()  # the folder does not exist yet
        run_dir.mkdir(parents=True)
        growing = run_dir / made.name
        growing.write_bytes(data[: len(data) // 2])  # the trainer is half-way through a record
        assert reader.poll() == {"train_loss"}
        first = len(reader.series("train_loss").steps)
        assert 0 < first < 8
        with growing.open("ab") as stream:
            stream.write(data[len(data) // 2 :])
        assert reader.poll() == {"train_loss"}
        series = reader.series("train_loss")
        assert list(series.steps) == list(range(8))
        assert list(series.values) == pytest.approx([1.0 / (step + 1) for step in range(8)])
        assert reader.problems == []
