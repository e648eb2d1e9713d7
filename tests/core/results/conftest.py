"""Fixtures for the result readers: the bundled sample outputs and the script that makes them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def samples_dir(repo_root: Path) -> Path:
    """The bundled synthetic TAO outputs (resources/samples)."""
    return repo_root / "resources" / "samples"


@pytest.fixture(scope="session")
def sample_infos_path(samples_dir: Path) -> Path:
    """The converted infos pickle of the Sparse4D sample."""
    (path,) = sorted((samples_dir / "sparse4d").glob("*_infos_*.pkl"))
    return path


@pytest.fixture(scope="session")
def make_samples(repo_root: Path) -> ModuleType:
    """scripts/make_samples.py, imported as a module."""
    spec = importlib.util.spec_from_file_location("make_samples", repo_root / "scripts" / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
