"""The host check on real engines: versions, CPU-only hosts, disk, missing images and real pulls."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from app.core.hosts.check import CheckStatus, check_host, free_disk_bytes
from app.core.hosts.errors import ImagePullFailed
from app.core.hosts.pull import pull_image
from app.core.hosts.session import HostSession, open_session
from app.core.hosts.settings import HostConfig
from tests.core.hosts.registry import TinyRegistry

pytestmark = pytest.mark.docker

MISSING_IMAGE = "127.0.0.1:1/taodesk/never-built:0"


def _remove_image(session: HostSession, ref: str) -> None:
    import docker

    with contextlib.suppress(docker.errors.ImageNotFound):
        session.docker.images.remove(ref, force=True)


def test_local_check_reports_versions_cpu_only_disk_and_images(local_docker_session: HostSession,
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-nvidia"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    version = local_docker_session.docker.version()
    present = local_docker_session.docker.images.list()
    images = [MISSING_IMAGE] + ([present[0].tags[0]] if present and present[0].tags else [])

    report = check_host(local_docker_session, images)

    docker_item = report.item("docker")
    assert docker_item.status is CheckStatus.OK
    assert version["Version"] in docker_item.message and version["ApiVersion"] in docker_item.message
    assert (report.docker_version, report.api_version) == (version["Version"], version["ApiVersion"])
    if not report.gpus or not report.gpus.gpus:
        gpus = report.item("gpus")
        assert gpus.status is CheckStatus.WARN
        assert gpus.message.startswith("No NVIDIA GPUs found on 'local'")
        assert gpus.message.endswith("CPU work only")
    disk = report.item("disk")
    assert disk.status in (CheckStatus.OK, CheckStatus.WARN)
    assert local_docker_session.config.workspace in disk.message and "GiB free" in disk.message
    missing = report.item(f"image {MISSING_IMAGE}")
    assert missing.status is CheckStatus.WARN and "is missing on 'local'" in missing.message
    if len(images) == 2:
        assert report.item(f"image {images[1]}").status is CheckStatus.OK
    assert report.ok


@pytest.mark.ssh
def test_disk_space_agrees_between_statvfs_and_df_over_ssh(local_session: HostSession,
                                                          ssh_host_config: HostConfig) -> None:
    with open_session(ssh_host_config) as remote:
        by_df = free_disk_bytes(remote, ssh_host_config.workspace)
    by_statvfs = free_disk_bytes(local_session, ssh_host_config.workspace)
    assert abs(by_df - by_statvfs) < 64 * 1024 * 1024


def test_docker_down_fails_the_check_and_skips_images(tmp_path: Path) -> None:
    config = HostConfig(name="local", socket_path=str(tmp_path / "gone.sock"), workspace=str(tmp_path))
    with open_session(config) as session:
        report = check_host(session, ["some/image:1"])
    assert not report.ok
    assert report.item("docker").status is CheckStatus.FAIL
    assert "the socket does not exist" in report.item("docker").message
    skipped = report.item("image some/image:1")
    assert skipped.message == "some/image:1 was not checked: Docker is not reachable"


def test_pull_reports_byte_progress_and_sends_credentials_in_memory(
        local_docker_session: HostSession, tiny_registry: TinyRegistry, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    docker_config = Path.home() / ".docker" / "config.json"
    before = docker_config.read_bytes() if docker_config.exists() else None
    progress: list[tuple[int, int, str]] = []
    try:
        image_id = pull_image(local_docker_session, tiny_registry.ref, lambda *step: progress.append(step),
                              {"username": "$oauthtoken", "password": "nvapi-test-key"})
        assert local_docker_session.docker.images.get(tiny_registry.ref).id == image_id
    finally:
        _remove_image(local_docker_session, tiny_registry.ref)

    assert progress[-1][0] == progress[-1][1] == tiny_registry.layer_bytes
    done = [step[0] for step in progress]
    assert done == sorted(done) and any(0 < d < tiny_registry.layer_bytes for d in done)
    assert "Downloaded newer image" in progress[-1][2]
    assert "Basic JG9hdXRodG9rZW46bnZhcGktdGVzdC1rZXk=" in tiny_registry.authorizations  # $oauthtoken:key
    after = docker_config.read_bytes() if docker_config.exists() else None
    assert after == before
    if after is not None:
        assert "nvapi-test-key" not in json.dumps(json.loads(after))


def test_pull_with_a_wrong_key_fails_with_the_registrys_reason(local_docker_session: HostSession,
                                                               tiny_registry: TinyRegistry) -> None:
    with pytest.raises(ImagePullFailed) as raised:
        pull_image(local_docker_session, tiny_registry.ref, None,
                   {"username": "$oauthtoken", "password": "wrong"})
    message = str(raised.value)
    assert message.startswith(f"Cannot pull {tiny_registry.ref} on host 'local': ")
    assert "unauthorized" in message.lower() or "authentication" in message.lower()


def test_check_pulls_missing_images_when_asked(local_docker_session: HostSession,
                                               open_registry: TinyRegistry) -> None:
    steps: list[tuple[int, int, str]] = []
    try:
        report = check_host(local_docker_session, [open_registry.ref, MISSING_IMAGE], pull_missing=True,
                            progress_callback=lambda *step: steps.append(step))
        assert local_docker_session.docker.images.get(open_registry.ref)
    finally:
        _remove_image(local_docker_session, open_registry.ref)
    pulled = report.item(f"image {open_registry.ref}")
    assert (pulled.status, pulled.message) == (CheckStatus.OK, f"{open_registry.ref} was pulled onto 'local'")
    assert steps[-1][:2] == (open_registry.layer_bytes, open_registry.layer_bytes)
    unreachable = report.item(f"image {MISSING_IMAGE}")
    assert unreachable.status is CheckStatus.FAIL
    assert unreachable.message.startswith(f"Cannot pull {MISSING_IMAGE} on host 'local': ")
    assert "connection refused" in unreachable.message
    assert not report.ok


@pytest.mark.ssh
def test_check_over_ssh_matches_the_local_engine(ssh_host_config: HostConfig,
                                                 local_docker_session: HostSession) -> None:
    with open_session(ssh_host_config) as session:
        report = check_host(session, [MISSING_IMAGE])
    assert report.item("docker").status is CheckStatus.OK
    assert report.api_version == local_docker_session.docker.version()["ApiVersion"]
    assert report.item("disk").message.endswith(f"free in {ssh_host_config.workspace}")
    assert report.item(f"image {MISSING_IMAGE}").status is CheckStatus.WARN
