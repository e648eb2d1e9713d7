"""Secrets stay in the keyring; without one, the user gets a clear explanation."""

from __future__ import annotations

import pytest
from keyring.backends import fail

from app.core.hosts.secrets import NGC_API_KEY, SERVICE_NAME, SecretStore, SecretsUnavailable
from tests.core.hosts.conftest import MemoryKeyring


def test_secrets_round_trip_under_the_app_service(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(memory_keyring)
    store.set("ssh-passphrase:lab", "s3cret")
    assert store.get("ssh-passphrase:lab") == "s3cret"
    assert memory_keyring.entries == {(SERVICE_NAME, "ssh-passphrase:lab"): "s3cret"}
    store.delete("ssh-passphrase:lab")
    store.delete("ssh-passphrase:lab")
    assert store.get("ssh-passphrase:lab") is None


def test_no_keyring_backend_gives_a_plain_message() -> None:
    store = SecretStore(fail.Keyring())
    assert not store.available
    assert store.get(NGC_API_KEY) is None
    with pytest.raises(SecretsUnavailable, match=r"No system keyring is available.*NGC_API_KEY"):
        store.set(NGC_API_KEY, "nvapi-x")


def test_ngc_key_prefers_the_keyring_then_the_environment(secrets: SecretStore,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NGC_API_KEY", raising=False)
    assert secrets.ngc_api_key() is None
    monkeypatch.setenv("NGC_API_KEY", "from-env")
    assert secrets.ngc_api_key() == "from-env"
    secrets.set(NGC_API_KEY, "from-keyring")
    assert secrets.ngc_api_key() == "from-keyring"

