"""Host-key trust: fingerprints as OpenSSH prints them, accepting keys, refusing changed keys."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.core.hosts.errors import HostKeyMismatch
from app.core.hosts.known_hosts import (
    accept_host_key,
    app_known_hosts_path,
    fingerprint_of_base64,
    forget_host_key,
    known_keys_for,
)

pytestmark = pytest.mark.skipif(subprocess.run(["which", "ssh-keygen"], capture_output=True).returncode != 0,
                                reason="ssh-keygen (openssh-client) is not installed")


def _new_key(tmp_path: Path, name: str) -> tuple[str, str, Path]:
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    key_type, key_base64 = path.with_suffix(".pub").read_text().split()[:2]
    return key_type, key_base64, path.with_suffix(".pub")


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    _, key_base64, public = _new_key(tmp_path, "k")
    printed = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public)], check=True,
                             capture_output=True, text=True).stdout.split()[1]
    assert fingerprint_of_base64(key_base64) == printed
    assert printed.startswith("SHA256:") and not printed.endswith("=")


def test_accept_writes_bracketed_names_for_other_ports(tmp_path: Path) -> None:
    key_type, key_base64, _ = _new_key(tmp_path, "k")
    accept_host_key("10.0.0.5", 2222, key_type, key_base64)
    accept_host_key("gpu.example.org", 22, key_type, key_base64)
    accept_host_key("gpu.example.org", 22, key_type, key_base64)

    lines = app_known_hosts_path().read_text().splitlines()
    assert lines == [f"[10.0.0.5]:2222 {key_type} {key_base64}", f"gpu.example.org {key_type} {key_base64}"]
    assert known_keys_for("10.0.0.5", 2222) == {key_type: fingerprint_of_base64(key_base64)}
    assert known_keys_for("10.0.0.5", 22) == {}


def test_a_different_key_is_never_accepted_over_a_known_one(tmp_path: Path) -> None:
    key_type, first, _ = _new_key(tmp_path, "first")
    _, second, _ = _new_key(tmp_path, "second")
    accept_host_key("lab", 2200, key_type, first)

    with pytest.raises(HostKeyMismatch) as raised:
        accept_host_key("lab", 2200, key_type, second)
    message = str(raised.value)
    assert "lab:2200" in message and "CHANGED" in message
    assert fingerprint_of_base64(first) in message and fingerprint_of_base64(second) in message
    assert known_keys_for("lab", 2200) == {key_type: fingerprint_of_base64(first)}


def test_keys_in_the_users_hashed_known_hosts_count_and_are_not_rewritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_type, key_base64, _ = _new_key(tmp_path, "k")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    user_file = home / ".ssh" / "known_hosts"
    user_file.write_text(f"[gpu.lab]:2222 {key_type} {key_base64}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(user_file)], check=True, capture_output=True)
    hashed = user_file.read_text()
    assert "gpu.lab" not in hashed
    monkeypatch.setenv("HOME", str(home))

    assert known_keys_for("gpu.lab", 2222) == {key_type: fingerprint_of_base64(key_base64)}
    _, other, _ = _new_key(tmp_path, "other")
    with pytest.raises(HostKeyMismatch):
        accept_host_key("gpu.lab", 2222, key_type, other)
    assert user_file.read_text() == hashed
    assert not app_known_hosts_path().exists()


def test_forget_removes_only_that_host_from_the_apps_file(tmp_path: Path) -> None:
    key_type, key_base64, _ = _new_key(tmp_path, "k")
    accept_host_key("a", 2222, key_type, key_base64)
    accept_host_key("b", 2222, key_type, key_base64)
    assert forget_host_key("a", 2222)
    assert not forget_host_key("a", 2222)
    assert known_keys_for("a", 2222) == {}
    assert known_keys_for("b", 2222) != {}
