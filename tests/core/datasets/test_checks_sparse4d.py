"""Sparse4D preflight on the stand-in converter's artifacts: valid data passes, broken variants are caught."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest

from app.core.datasets.context import MiB, PreflightOptions
from app.core.datasets.findings import NORMALIZE_DEPTH_PATHS, SET_VALUE
from app.core.datasets.preflight import PreflightReport, run_preflight
from app.core.hosts.local import LocalHostSession
from app.core.hosts.session import HostPath
from app.core.hosts.settings import HostConfig
from app.core.skills.model import Skill
from app.core.specs.service import render_spec
from tests.infra.preflight_data import (
    ConvertedScenes,
    clone_converted,
    converted_scenes,
    hostile_pickle,
    sparse4d_overrides,
)

NO_GPU_CHECK = PreflightOptions(check_gpus=False)
TRAIN_ANN = "dataset.train_dataset.ann_file"


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> ConvertedScenes:
    return converted_scenes(tmp_path_factory.mktemp("scenes"))


@pytest.fixture
def copy(converted: ConvertedScenes, tmp_path: Path) -> ConvertedScenes:
    return clone_converted(converted, tmp_path / "copy")


def _run(
    skill: Skill,
    session: LocalHostSession,
    converted: ConvertedScenes,
    action: str = "train",
    extra: list[str] | None = None,
    options: PreflightOptions = NO_GPU_CHECK,
) -> PreflightReport:
    spec = render_spec(skill, action, overrides=sparse4d_overrides() + (extra or []))
    return run_preflight(skill, action, spec, session, parent=converted.job, options=options)


def _messages(report: PreflightReport, key: str, severity: str = "error") -> str:
    return " | ".join(f.message for f in report.findings if f.spec_key == key and f.severity == severity)


def test_converted_artifacts_pass_and_fill_the_spec(
    sparse4d: Skill, local: LocalHostSession, converted: ConvertedScenes
) -> None:
    report = _run(sparse4d, local, converted)
    assert report.errors == [], [f.line() for f in report.errors]
    assert report.spec.get("dataset.data_root") == str(converted.scenes.root / "train")
    assert report.spec.get("model.head.instance_bank.anchor") == str(converted.results / "anchor_init.npy")
    assert report.spec.get(TRAIN_ANN) == str(converted.results / "train")
    files = len(converted.pickles("train"))
    assert files == 6, "2 scenes x 3 random camera groups, one pickle per group"
    assert f"{files * converted.scenes.frames} frames, {files} scene(s), {files} file(s)" in _messages(
        report, TRAIN_ANN, "info"
    )


def test_class_names_not_in_dataset_classes_become_minus_one(
    sparse4d: Skill, local: LocalHostSession, converted: ConvertedScenes
) -> None:
    default = _run(
        sparse4d, local, converted, extra=["dataset.classes=[person, gr1_t2, agility_digit, nova_carter]"]
    )
    finding = next(f for f in default.errors if f.spec_key == "dataset.classes")
    assert "every box gets label -1" in finding.message and "dataset.classes has person" in finding.message
    assert (finding.fix_action, sorted(finding.fix_value)) == (SET_VALUE, ["Person", "Transporter"])
    partial = _run(sparse4d, local, converted, extra=["dataset.classes=[Person, nova_carter]"])
    assert "not in dataset.classes and get label -1 (ignored): Transporter" in _messages(
        partial, "dataset.classes", "warning"
    )


def test_anchor_shape_and_count(sparse4d: Skill, local: LocalHostSession, copy: ConvertedScenes) -> None:
    anchor = copy.results / "anchor_init.npy"
    fewer = _run(sparse4d, local, copy, extra=["model.head.instance_bank.num_anchor=900"])
    warning = next(f for f in fewer.warnings if f.spec_key == "model.head.instance_bank.num_anchor")
    assert "has 16 anchors but num_anchor is 900" in warning.message and warning.fix_value == 16
    np.save(anchor, np.zeros((16, 7), dtype=np.float32))
    bad = _run(sparse4d, local, copy)
    assert "of shape (16, 7); anchors are floats of shape (K, 11)" in _messages(
        bad, "model.head.instance_bank.anchor"
    )


def test_infos_structure_and_camera_matrices(
    sparse4d: Skill, local: LocalHostSession, copy: ConvertedScenes
) -> None:
    first, second = copy.pickles("train")[:2]
    with open(first, "rb") as stream:
        content = pickle.load(stream)  # our own generated test file
    camera = next(iter(content["infos"][3]["cams"].values()))
    camera["cam_intrinsic"] = np.eye(3)[:2]
    with open(first, "wb") as stream:
        pickle.dump(content, stream)
    with open(second, "wb") as stream:
        pickle.dump(content["infos"], stream)
    report = _run(sparse4d, local, copy)
    text = _messages(report, TRAIN_ANN)
    assert "1 of" in text and "cam_intrinsic (2, 3)" in text and "infos[3]" in text
    assert f"{second} holds a list, not a dict with an 'infos' list" in text


def test_hostile_infos_are_refused_and_never_run(
    sparse4d: Skill, local: LocalHostSession, copy: ConvertedScenes, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    hostile_pickle(copy.pickles("train")[0], marker)
    report = _run(sparse4d, local, copy)
    assert "refused to load: the pickle asks for" in _messages(report, TRAIN_ANN)
    assert not marker.exists()


def test_the_size_limit_is_reported_not_silently_skipped(
    sparse4d: Skill, local: LocalHostSession, converted: ConvertedScenes
) -> None:
    report = _run(
        sparse4d, local, converted, options=PreflightOptions(check_gpus=False, max_infos_bytes=MiB // 64)
    )
    assert "was not checked" in _messages(report, TRAIN_ANN, "warning")
    assert "limit for reading infos" in _messages(report, TRAIN_ANN, "warning")


def test_depth_paths_pointing_at_camera_folders_are_found_with_a_fix(
    sparse4d: Skill, local: LocalHostSession, tmp_path: Path
) -> None:
    mismatched = converted_scenes(tmp_path / "mismatch", hide_depth_maps=True)
    report = _run(sparse4d, local, mismatched)
    finding = next(f for f in report.errors if f.fix_action == NORMALIZE_DEPTH_PATHS)
    assert finding.spec_key == TRAIN_ANN
    assert "point at a camera folder ('Warehouse_000/Camera_0000')" in finding.message
    assert "'Warehouse_000/depth_maps/Camera_0000.h5'" in finding.message
    assert finding.fix_value["data_root"] == str(mismatched.scenes.root / "train")
    assert finding.fix_value["pickles"] == [str(p) for p in mismatched.pickles("train")]


def test_missing_depth_files_under_data_root(
    sparse4d: Skill, local: LocalHostSession, converted: ConvertedScenes, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "empty-root"
    elsewhere.mkdir()
    report = _run(sparse4d, local, converted, extra=[f"dataset.data_root={elsewhere}"])
    assert "depth file(s) are not under dataset.data_root" in _messages(report, TRAIN_ANN)


def test_rules_prefix_and_export_compatibility(
    sparse4d: Skill, local: LocalHostSession, converted: ConvertedScenes
) -> None:
    split = _run(sparse4d, local, converted, extra=["dataset.sequences.split_num=1"])
    assert "split_num must be at least dataset.batch_size" in _messages(split, "dataset.sequences.split_num")
    quiet = _run(sparse4d, local, converted)
    assert not [f for f in quiet.warnings if f.spec_key == "model.head.num_output"]
    planned = _run(sparse4d, local, converted, options=PreflightOptions(check_gpus=False, plans_export=True))
    keys = {f.spec_key for f in planned.warnings}
    assert {"model.head.num_output", "model.head.instance_bank.num_anchor"} <= keys
    inference = _run(sparse4d, local, converted, "inference")
    assert "'sparse4d_pred' is relative" in _messages(inference, "inference.jsonfile_prefix", "warning")
    prefix = converted.results / "pred"
    absolute = _run(sparse4d, local, converted, "inference", extra=[f"inference.jsonfile_prefix={prefix}"])
    assert not absolute.at("inference.jsonfile_prefix")


def test_an_empty_split_folder_is_an_error(
    sparse4d: Skill, local: LocalHostSession, copy: ConvertedScenes
) -> None:
    for path in copy.pickles("train"):
        path.unlink()
    assert "holds no .pkl files" in _messages(_run(sparse4d, local, copy), TRAIN_ANN)


class _CountingSession(LocalHostSession):
    """This machine, counting whole-file reads (unit-test instrumentation of one piece)."""

    def __init__(self) -> None:
        super().__init__(HostConfig(name="counting", workspace=tempfile.gettempdir()))
        self.reads: list[str] = []

    def read_range(self, path: HostPath, offset: int, size: int) -> bytes:
        if size > 4096:
            self.reads.append(os.fspath(path))
        return super().read_range(path, offset, size)


def test_unchanged_pickles_are_not_read_again_and_a_rewritten_one_is(
    sparse4d: Skill, copy: ConvertedScenes
) -> None:
    session = _CountingSession()
    first = _run(sparse4d, session, copy)
    read_first = sorted(set(session.reads))
    assert read_first and all(path.endswith(".pkl") for path in read_first)
    session.reads.clear()
    again = _run(sparse4d, session, copy)
    assert session.reads == [] and _messages(again, TRAIN_ANN, "info") == _messages(first, TRAIN_ANN, "info")
    target = copy.pickles("train")[0]
    with open(target, "rb") as stream:
        content = pickle.load(stream)  # our own generated test file
    content["infos"] = content["infos"][:3]
    with open(target, "wb") as stream:
        pickle.dump(content, stream)
    session.reads.clear()
    changed = _run(sparse4d, session, copy)
    assert session.reads == [str(target)]
    assert _messages(changed, TRAIN_ANN, "info") != _messages(first, TRAIN_ANN, "info")
