"""Fixtures for the stand-in image tests: a Docker client and the built image."""

from tests.infra.docker_engine import docker_client, standin_image  # noqa: F401
