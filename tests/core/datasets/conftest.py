"""Fixtures for the dataset and preflight unit tests: the bundled skills and a local host session."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.hosts.local import LocalHostSession
from app.core.hosts.settings import HostConfig
from app.core.skills import SkillBank, load_banks
from app.core.skills.model import Skill
from tests.infra.preflight_data import POSE, SPARSE4D

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def bank() -> SkillBank:
    """The bundled skill bank."""
    return load_banks([REPO / "skills"])


@pytest.fixture(scope="session")
def pose(bank: SkillBank) -> Skill:
    """Pose classification."""
    return bank.skill(POSE)


@pytest.fixture(scope="session")
def sparse4d(bank: SkillBank) -> Skill:
    """Sparse4D."""
    return bank.skill(SPARSE4D)


@pytest.fixture
def local() -> Iterator[LocalHostSession]:
    """This computer as the host 'local'."""
    session = LocalHostSession(HostConfig(name="local", workspace=tempfile.gettempdir()))
    yield session
    session.close()
