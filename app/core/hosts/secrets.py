"""Secrets (NGC API key, SSH key passphrases) kept only in the OS keyring, under service "taodesk"."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE_NAME = "taodesk"
NGC_API_KEY = "ngc-api-key"
NGC_API_KEY_ENV = "NGC_API_KEY"

NO_KEYRING_MESSAGE = (
    "No system keyring is available to keep secrets, so TAO Desk cannot store it. Install and "
    "unlock a keyring service (GNOME Keyring, KWallet or another Secret Service provider); for the "
    f"NGC API key you can instead set the {NGC_API_KEY_ENV} environment variable."
)


class SecretsUnavailable(RuntimeError):
    """No keyring backend can store secrets on this machine."""


def ssh_passphrase_name(host_name: str) -> str:
    """The keyring entry that holds the passphrase of the SSH key used for ``host_name``."""
    return f"ssh-passphrase:{host_name}"


class SecretStore:
    """Read and write secrets in the OS keyring; nothing is ever written to disk by this app.

    ``backend`` is a keyring backend to use instead of the system's one (tests pass an in-memory
    backend). Without a working backend, reads return ``None`` and writes raise `SecretsUnavailable`.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        import keyring

        return keyring.get_keyring()

    @property
    def available(self) -> bool:
        """Whether a keyring backend that can store secrets is present."""
        from keyring.backends import fail, null

        return not isinstance(self._keyring(), fail.Keyring | null.Keyring)

    def get(self, name: str) -> str | None:
        """The secret called ``name``, or ``None`` if unset or no keyring is available."""
        from keyring.errors import KeyringError

        try:
            return self._keyring().get_password(SERVICE_NAME, name)
        except KeyringError:
            return None

    def set(self, name: str, value: str) -> None:
        """Store a secret; raise `SecretsUnavailable` with a plain explanation if there is no keyring."""
        from keyring.errors import KeyringError

        if not self.available:
            raise SecretsUnavailable(NO_KEYRING_MESSAGE)
        try:
            self._keyring().set_password(SERVICE_NAME, name, value)
        except KeyringError as error:
            raise SecretsUnavailable(f"The keyring refused to store '{name}': {error}") from error

    def delete(self, name: str) -> None:
        """Forget a secret (nothing happens if it is not stored)."""
        from keyring.errors import KeyringError

        with contextlib.suppress(KeyringError):
            self._keyring().delete_password(SERVICE_NAME, name)

    def ngc_api_key(self) -> str | None:
        """The NGC API key: from the keyring, else from the ``NGC_API_KEY`` environment variable."""
        return self.get(NGC_API_KEY) or os.environ.get(NGC_API_KEY_ENV) or None
