"""A remote host end to end: saved settings, host-key acceptance, host check, a container run through
docker-over-SSH that reads and writes the workspace, and the output read back over SFTP."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.core.hosts.check import CheckStatus, check_host
from app.core.hosts.errors import UnknownHostKey
from app.core.hosts.known_hosts import accept_host_key
from app.core.hosts.pull import image_present
from app.core.hosts.session import open_session
from app.core.hosts.settings import HostStore
from tests.infra.sshd import SshServer

pytestmark = [pytest.mark.ssh, pytest.mark.docker]

STANDIN_IMAGE = "taodesk-standin:latest"
WRITER = """
import pathlib, sys, time
spec = pathlib.Path('/specs/train.yaml').read_text()
out = pathlib.Path('/results/log.txt')
with out.open('w') as log:
    for epoch in range(3):
        log.write(f'epoch {epoch} {spec.strip()}\\n')
        log.flush()
        time.sleep(0.3)
print('done', flush=True)
"""


def test_remote_host_from_settings_to_container_output(ssh_server: SshServer, tmp_path: Path) -> None:
    workspace = tmp_path / "remote-workspace"
    workspace.mkdir()
    store = HostStore()
    store.put(ssh_server.host_config(workspace, connect_timeout=5))
    config = HostStore().get("lab")

    with pytest.raises(UnknownHostKey) as raised:
        open_session(config)
    unknown = raised.value
    accept_host_key(unknown.host, unknown.port, unknown.key_type, unknown.key_base64)

    with open_session(config) as session:
        if not image_present(session, STANDIN_IMAGE):
            pytest.skip(f"{STANDIN_IMAGE} is not built yet (tests/standin)")
        report = check_host(session, [STANDIN_IMAGE])
        assert report.item("docker").status is CheckStatus.OK
        assert report.item(f"image {STANDIN_IMAGE}").status is CheckStatus.OK

        run_folder = f"{config.workspace}/jobs/job-1"
        session.make_dirs(f"{run_folder}/specs")
        session.make_dirs(f"{run_folder}/results")
        session.write_bytes(f"{run_folder}/specs/train.yaml", b"lr: 0.01\n")
        uid, gid = session.uid_gid()
        container = session.docker.containers.run(
            STANDIN_IMAGE,
            ["python3", "-c", WRITER],
            detach=True,
            user=f"{uid}:{gid}",
            network_mode="none",
            labels={"taodesk.test": f"hosts-real-{os.getpid()}"},
            volumes={
                f"{run_folder}/specs": {"bind": "/specs", "mode": "ro"},
                f"{run_folder}/results": {"bind": "/results", "mode": "rw"},
            },
        )
        try:
            lines: list[str] = []
            offset, pending = 0, b""
            deadline = time.monotonic() + 30
            while len(lines) < 3 and time.monotonic() < deadline:
                info = session.stat(f"{run_folder}/results/log.txt")
                if info is not None and info.size > offset:
                    chunk = session.read_range(f"{run_folder}/results/log.txt", offset, info.size - offset)
                    offset += len(chunk)
                    *complete, pending = (pending + chunk).split(b"\n")
                    lines += [line.decode() for line in complete]
                time.sleep(0.1)
            assert container.wait(timeout=30)["StatusCode"] == 0
            assert container.logs() == b"done\n"
        finally:
            container.remove(force=True)

        assert lines == [f"epoch {epoch} lr: 0.01" for epoch in range(3)]
        written = session.stat(f"{run_folder}/results/log.txt")
        assert written is not None and (written.uid, written.gid) == (uid, gid)
        assert [entry.name for entry in session.list_dir(f"{run_folder}/results")] == ["log.txt"]
