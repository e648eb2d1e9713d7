"""Shared fixtures: where the repo and ../shared are, isolated user folders, screenshot folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"


def _shared_dir() -> Path:
    return Path(os.environ.get("TAODESK_SHARED", REPO_ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared reference folder next to the repository (skip if absent)."""
    path = _shared_dir()
    if not path.is_dir():
        pytest.skip(f"shared reference folder not found: {path}")
    return path


@pytest.fixture(scope="session")
def reference_bank(shared_dir: Path) -> Path:
    """NVIDIA's generated skill bundles, as reference data."""
    return shared_dir / "reference" / "skill-bank"


@pytest.fixture(scope="session")
def bundled_bank() -> Path:
    """Our own bundled skill bank."""
    return REPO_ROOT / "skills"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where tests save screenshots to be looked at."""
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def qapp() -> object:
    """The app's own QApplication for pytest-qt: styled, and collecting garbage on the GUI thread only."""
    from app.ui.application import create_application

    return create_application()


@pytest.fixture(autouse=True)
def isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test gets its own settings and data folders, never the real user's."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("TAODESK_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("TAODESK_DATA_DIR", str(base / "data"))
    yield


from tests.infra.jobs import manager, pose_data  # noqa: E402, F401 - fixtures for job tests everywhere
from tests.infra.sshd import namespace_host, ssh_host_config, ssh_server  # noqa: E402, F401 - one sshd per run
