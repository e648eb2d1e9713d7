"""Fixtures shared by the integration tests."""

from tests.infra.jobs import manager, pose_data  # noqa: F401 - fixtures used by the tests here
