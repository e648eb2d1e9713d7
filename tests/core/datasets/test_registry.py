"""The datasets registry: versioned YAML in the config folder, validation, migration, selection."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.datasets.registry import DATASETS_FILE_VERSION, Dataset, DatasetRegistry, DatasetRegistryError
from app.paths import config_dir


def test_add_list_remove_round_trip_in_the_config_folder() -> None:
    registry = DatasetRegistry()
    registry.add(Dataset("pose", "local", "train", "/data/pose"))
    registry.add(
        Dataset("scenes", "lab", "eval", "/mnt/aicity/", skill="tao-train-sparse4d", note="val split")
    )
    document = yaml.safe_load((config_dir() / "datasets.yaml").read_text())
    assert document["version"] == DATASETS_FILE_VERSION
    assert [d["name"] for d in document["datasets"]] == ["pose", "scenes"]
    again = DatasetRegistry().load()
    assert again[1] == Dataset("scenes", "lab", "eval", "/mnt/aicity", "tao-train-sparse4d", "val split")
    with pytest.raises(DatasetRegistryError, match="already registered"):
        registry.add(Dataset("pose", "local", "eval", "/data/other"))
    registry.add(Dataset("pose", "local", "eval", "/data/other"), replace=True)
    assert registry.get("pose").role == "eval"
    registry.remove("pose")
    assert [d.name for d in registry.load()] == ["scenes"]
    with pytest.raises(DatasetRegistryError, match="no dataset named 'pose'"):
        registry.remove("pose")


@pytest.mark.parametrize(
    ("dataset", "problem"),
    [
        (Dataset("a", "local", "testing", "/d"), "'role' must be one of train, eval, inference"),
        (Dataset("a", "local", "train", "data/pose"), "must be an absolute path on host 'local'"),
        (Dataset("a", "", "train", "/d"), "'host' is required"),
    ],
)
def test_invalid_entries_are_refused_with_the_key_named(dataset: Dataset, problem: str) -> None:
    with pytest.raises(DatasetRegistryError, match=problem):
        DatasetRegistry().add(dataset)
    assert not (config_dir() / "datasets.yaml").exists()


def test_broken_entries_are_skipped_listed_and_backed_up_before_a_rewrite() -> None:
    path = config_dir() / "datasets.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "datasets": [
                    {"name": "good", "host": "local", "role": "train", "path": "/d"},
                    {"name": "bad", "host": "local", "role": "train", "path": "/d", "colour": "red"},
                    {"name": "good", "host": "local", "role": "eval", "path": "/e"},
                ],
            }
        )
    )
    registry = DatasetRegistry()
    assert [d.name for d in registry.load()] == ["good"]
    assert any("dataset 'bad': unknown key(s) colour" in p for p in registry.problems)
    assert any("'good' is used twice" in p for p in registry.problems)
    registry.add(Dataset("new", "local", "eval", "/n"))
    assert "colour" in path.with_name("datasets.yaml.bak").read_text()


def test_version_less_files_migrate_and_newer_versions_are_left_alone() -> None:
    path = config_dir() / "datasets.yaml"
    path.write_text(yaml.safe_dump({"datasets": {"pose": {"host": "local", "role": "train", "path": "/d"}}}))
    assert DatasetRegistry().load() == [Dataset("pose", "local", "train", "/d")]
    path.write_text(yaml.safe_dump({"version": 99, "datasets": []}))
    with pytest.raises(DatasetRegistryError, match="newer TAO Desk"):
        DatasetRegistry().load()
    path.write_text("datasets: [unclosed")
    with pytest.raises(DatasetRegistryError, match="cannot be read"):
        DatasetRegistry().load()


def test_for_host_filters_by_host_skill_and_role(tmp_path: Path) -> None:
    registry = DatasetRegistry(tmp_path / "datasets.yaml")
    registry.save(
        [
            Dataset("b", "local", "train", "/b"),
            Dataset("a", "local", "eval", "/a", skill="tao-train-sparse4d"),
            Dataset("c", "lab", "train", "/c"),
        ]
    )
    assert [d.name for d in registry.for_host("local")] == ["a", "b"]
    assert [d.name for d in registry.for_host("local", "tao-train-pose-classification")] == ["b"]
    assert [d.name for d in registry.for_host("local", "tao-train-sparse4d", role="eval")] == ["a"]
