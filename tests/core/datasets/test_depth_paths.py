"""The H5 depth-path fix: preview first, rewrite with a backup, the same plain data written back."""

from __future__ import annotations

import pickle
import pickletools
from pathlib import Path

import numpy as np
import pytest

from app.core.datasets.context import MiB, PreflightOptions
from app.core.datasets.depth_paths import (
    apply_depth_fix,
    normalized_reference,
    plain_pickle_bytes,
    preview_depth_fix,
)
from app.core.datasets.findings import NORMALIZE_DEPTH_PATHS
from app.core.datasets.preflight import run_preflight
from app.core.datasets.safe_pickle import load_pickle
from app.core.hosts.local import LocalHostSession
from app.core.skills.model import Skill
from app.core.specs.service import render_spec
from tests.infra.preflight_data import converted_scenes, sparse4d_overrides


def test_normalized_reference_only_for_camera_folders() -> None:
    assert normalized_reference("Warehouse_000/Camera_0001") == (
        "Warehouse_000",
        "Warehouse_000/depth_maps/Camera_0001.h5",
    )
    assert normalized_reference("Warehouse_000/depth_maps/Camera_0001.h5") is None
    assert normalized_reference("Camera_0001") is None


def test_plain_pickle_bytes_names_numpy_core_and_reads_back_everywhere() -> None:
    document = {
        "infos": [{"m": np.eye(4), "names": np.array(["Person"]), "t": ("a", "b"), "s": np.float32(2)}],
        "metadata": {"version": "2025"},
    }
    data = plain_pickle_bytes(document)
    globals_named = [arg for op, arg, _ in pickletools.genops(data) if op.name in ("GLOBAL", "STACK_GLOBAL")]
    assert "numpy.core.multiarray _reconstruct" in globals_named
    assert b"numpy._core" not in data
    for loaded in (pickle.loads(data), load_pickle(data, "fixed.pkl")):
        assert np.array_equal(loaded["infos"][0]["m"], np.eye(4))
        assert loaded["infos"][0]["t"] == ("a", "b") and loaded["infos"][0]["s"] == np.float32(2)
        assert list(loaded["infos"][0]["names"]) == ["Person"]


def test_preview_then_fix_with_backups_then_preflight_is_clean(
    sparse4d: Skill, local: LocalHostSession, tmp_path: Path
) -> None:
    converted = converted_scenes(tmp_path, hide_depth_maps=True)
    options = PreflightOptions(check_gpus=False)
    spec = render_spec(sparse4d, "train", overrides=sparse4d_overrides())
    before = run_preflight(sparse4d, "train", spec, local, parent=converted.job, options=options)
    finding = next(f for f in before.findings if f.fix_action == NORMALIZE_DEPTH_PATHS)
    pickles = finding.fix_value["pickles"]
    originals = {path: Path(path).read_bytes() for path in pickles}

    plan = preview_depth_fix(local, pickles, finding.fix_value["data_root"], max_bytes=64 * MiB)
    cameras_per_pickle = [len(next(iter(load_pickle(p)["infos"]))["cams"]) for p in pickles]
    assert [f.changes for f in plan.files] == [n * converted.scenes.frames for n in cameras_per_pickle]
    assert {path: Path(path).read_bytes() for path in pickles} == originals, "the preview writes nothing"
    assert "depth_maps/Camera_" in plan.summary()

    apply_depth_fix(local, plan, max_bytes=64 * MiB)
    for item in plan.files:
        assert Path(item.backup).read_bytes() == originals[item.path]
        fixed = load_pickle(item.path)
        reference = next(iter(fixed["infos"][0]["cams"].values()))["depth_map_path"]
        assert reference[0].startswith("Warehouse_00") and "/depth_maps/Camera_" in reference[0]
        assert reference[1] == "distance_to_image_plane_00000.png"
        old = load_pickle(item.backup)
        assert len(fixed["infos"]) == len(old["infos"])
        assert np.array_equal(fixed["infos"][0]["gt_boxes"], old["infos"][0]["gt_boxes"])

    others = [f for f in before.findings if f.fix_action == NORMALIZE_DEPTH_PATHS and f is not finding]
    assert [f.spec_key for f in others] == ["dataset.val_dataset.ann_file", "dataset.test_dataset.ann_file"]
    for other in others[:1]:  # val and test share the val pickles
        apply_depth_fix(
            local,
            preview_depth_fix(
                local, other.fix_value["pickles"], other.fix_value["data_root"], max_bytes=64 * MiB
            ),
            max_bytes=64 * MiB,
        )
    after = run_preflight(sparse4d, "train", spec, local, parent=converted.job, options=options)
    assert not [f for f in after.findings if f.check == "sparse4d.depth"], [f.line() for f in after.findings]
    again = preview_depth_fix(local, pickles, finding.fix_value["data_root"], max_bytes=64 * MiB)
    assert again.total == 0
    backups = sorted(p.name for p in converted.results.glob("train/*.bak*"))
    assert apply_depth_fix(local, plan, max_bytes=64 * MiB).total == 0, "a stale plan rewrites nothing"
    assert sorted(p.name for p in converted.results.glob("train/*.bak*")) == backups


def test_references_without_an_h5_file_are_left_alone(local: LocalHostSession, tmp_path: Path) -> None:
    converted = converted_scenes(tmp_path, hide_depth_maps=True)
    pickles = [str(p) for p in converted.pickles("train")]
    empty_root = tmp_path / "no-depth"
    empty_root.mkdir()
    plan = preview_depth_fix(local, pickles, str(empty_root), max_bytes=64 * MiB)
    assert plan.total == 0 and plan.mapping == {}


def test_a_pickle_too_large_for_the_limit_is_not_touched(local: LocalHostSession, tmp_path: Path) -> None:
    converted = converted_scenes(tmp_path, hide_depth_maps=True)
    pickles = [str(p) for p in converted.pickles("train")]
    with pytest.raises(Exception, match="more than the"):
        preview_depth_fix(local, pickles, str(converted.scenes.root / "train"), max_bytes=1000)
