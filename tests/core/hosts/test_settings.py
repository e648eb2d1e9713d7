"""Host settings: YAML round trip, migration of version-less files, clear messages for bad entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.hosts.settings import HOSTS_FILE_VERSION, HostConfig, HostSettingsError, HostStore
from app.paths import config_dir


def _lab() -> HostConfig:
    return HostConfig(
        name="lab", kind="ssh", ssh_host="10.0.0.5", ssh_port=2200, ssh_user="ana", key_file="~/.ssh/id_lab",
        use_agent=True, workspace="/data/tao", default_images={"tao-train-sparse4d": "registry.lab/tao:7"},
        shm_size="32G", extra_mounts=["/datasets:/datasets:ro"], extra_env={"OMP_NUM_THREADS": "1"},
    )


def test_store_lives_in_the_config_folder_and_round_trips_every_field() -> None:
    store = HostStore()
    local = HostConfig.local_default()
    store.save([local, _lab()])

    assert store.path == config_dir() / "hosts.yaml"
    document = yaml.safe_load(store.path.read_text())
    assert document["version"] == HOSTS_FILE_VERSION
    assert HostStore().load() == [local, _lab()]


def test_missing_file_means_only_the_local_host() -> None:
    hosts = HostStore().load()
    assert [(h.name, h.kind, h.socket_path) for h in hosts] == [("local", "local", "/var/run/docker.sock")]


def test_put_replaces_by_name_and_remove_forgets() -> None:
    store = HostStore()
    store.put(_lab())
    changed = _lab()
    changed.ssh_port = 22
    store.put(changed)
    assert [h.ssh_port for h in store.load() if h.name == "lab"] == [22]
    store.remove("lab")
    with pytest.raises(HostSettingsError, match="no host named 'lab'"):
        store.get("lab")


def test_version_less_file_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(
        "hosts:\n"
        "  gpu-box:\n"
        "    kind: ssh\n"
        "    host: gpu.example.org\n"
        "    port: 2222\n"
        "    user: ana\n"
        "    workspace: /srv/tao\n"
        "  local:\n"
        "    kind: local\n"
        "    socket: /run/docker.sock\n"
    )
    store = HostStore(path)
    hosts = {h.name: h for h in store.load()}

    assert store.problems == []
    assert (hosts["gpu-box"].ssh_host, hosts["gpu-box"].ssh_port, hosts["gpu-box"].ssh_user) == (
        "gpu.example.org", 2222, "ana")
    assert hosts["local"].socket_path == "/run/docker.sock"
    store.save(list(hosts.values()))
    assert yaml.safe_load(path.read_text())["version"] == HOSTS_FILE_VERSION
    assert {h.name for h in HostStore(path).load()} == {"gpu-box", "local"}


def test_newer_file_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    text = "version: 9\nhosts: []\n"
    path.write_text(text)
    with pytest.raises(HostSettingsError, match="newer TAO Desk"):
        HostStore(path).load()
    assert path.read_text() == text


def test_broken_entries_are_reported_by_key_and_the_rest_load(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "hosts": [
        {"name": "good", "kind": "local"},
        {"name": "badport", "kind": "ssh", "ssh_host": "h", "workspace": "/w", "ssh_port": "twenty-two"},
        {"name": "nohost", "kind": "ssh", "workspace": "/w"},
        {"name": "typo", "kind": "local", "workspce": "/w"},
        {"name": "mount", "kind": "local", "extra_mounts": ["relative:/x"]},
        {"name": "good", "kind": "local"},
    ]}))
    store = HostStore(path)

    assert [h.name for h in store.load()] == ["good"]
    problems = "\n".join(store.problems)
    assert "host 'badport': 'ssh_port' must be a whole number" in problems
    assert "host 'nohost'" in problems and "'ssh_host' is required" in problems
    assert "host 'typo': unknown key(s) workspce" in problems
    assert "'extra_mounts' entry 'relative:/x': both paths must be absolute" in problems
    assert "'good' is used twice" in problems
    assert str(path) in problems


def test_saving_over_a_file_with_broken_entries_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    original = yaml.safe_dump({"version": 1, "hosts": [{"name": "x", "kind": "rocket"}]})
    path.write_text(original)
    store = HostStore(path)
    assert store.load() == []
    store.save([HostConfig.local_default()])
    assert (tmp_path / "hosts.yaml.bak").read_text() == original


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text("hosts: [unclosed\n")
    with pytest.raises(HostSettingsError, match=r"hosts\.yaml: cannot be read"):
        HostStore(path).load()


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text("version: 1\nhosts: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(HostSettingsError, match="cannot be read"):
        HostStore(path).load()


def test_save_refuses_invalid_hosts() -> None:
    with pytest.raises(HostSettingsError, match="'workspace'"):
        HostStore().save([HostConfig(name="lab", kind="ssh", ssh_host="h")])
    with pytest.raises(HostSettingsError, match="used twice"):
        HostStore().save([HostConfig.local_default(), HostConfig.local_default()])


def test_image_override_per_skill() -> None:
    lab = _lab()
    skill_image = "nvcr.io/nvidia/tao/tao-toolkit:7.1.0-pyt"
    assert lab.image_for("tao-train-sparse4d", skill_image) == "registry.lab/tao:7"
    assert lab.image_for("tao-train-pose-classification", "nvcr.io/x:1") == "nvcr.io/x:1"
    assert lab.address == "ana@10.0.0.5:2200"
