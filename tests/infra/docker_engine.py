"""Fixtures for tests that use the local Docker engine directly: a client, and the stand-in TAO image.

Import them into a conftest.py::

    from tests.infra.docker_engine import docker_client, standin_image  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


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
    """The stand-in TAO image tag, built by tests/standin/build.sh if its sources changed."""
    from tests.standin.image import ensure_standin_image

    return ensure_standin_image()
