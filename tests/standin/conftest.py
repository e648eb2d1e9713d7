"""Fixtures for the stand-in image tests: a Docker client and the built image."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .image import ensure_standin_image


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A client of the local Docker engine (the tests skip when no engine answers)."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # any failure to reach the engine means: no Docker here
        pytest.skip(f"no Docker engine: {error}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def standin_image(docker_client: Any) -> str:
    """The stand-in image tag, built by build.sh if its sources changed."""
    return ensure_standin_image()
