"""Specs: overrides, import/export, validation across actions, rules, diff, and the form model."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.skills import Skill, load_banks
from app.core.specs.document import SpecDocument, SpecParseError
from app.core.specs.form import ActionForm
from app.core.specs.overrides import OverrideError, parse_override
from app.core.specs.service import (
    default_spec,
    import_spec_text,
    render_spec,
    spec_diff,
    spec_yaml,
    validate_spec,
)
from tests.infra.bundles import write_bundle


@pytest.fixture(scope="module")
def pose(bundled_bank: Path) -> Skill:
    return load_banks([bundled_bank]).skill("tao-train-pose-classification")


@pytest.fixture(scope="module")
def sparse4d(bundled_bank: Path) -> Skill:
    return load_banks([bundled_bank]).skill("tao-train-sparse4d")


def test_overrides_are_typed_like_hydra() -> None:
    assert parse_override("train.gpu_ids=[0,1]").value == [0, 1]
    assert parse_override("train.optim.lr=5e-5").value == 5e-5
    assert parse_override("model.edge_importance_weighting=false").value is False
    assert parse_override("train.results_dir=null").value is None
    assert parse_override("num_epochs=3", {"num_epochs": "train.num_epochs"}).key == "train.num_epochs"
    assert parse_override("~wandb").delete
    with pytest.raises(OverrideError, match="KEY=VALUE"):
        parse_override("train.num_epochs")


def test_render_with_shorthand_and_export_keeps_template_order(pose: Skill) -> None:
    doc = render_spec(pose, "train", overrides=["num_epochs=3", "learning_rate=0.01", "zz_custom.x=1"])
    assert doc.get("train.num_epochs") == 3 and doc.get("train.optim.lr") == 0.01
    text = spec_yaml(pose, "train", doc)
    template_keys = list(pose.action("train").template)
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys[: len(template_keys)] == template_keys and keys[-1] == "zz_custom"


def test_templates_validate_with_only_needs_input(pose: Skill, sparse4d: Skill) -> None:
    for skill in (pose, sparse4d):
        for action in skill.actions:
            issues = validate_spec(skill, action, default_spec(skill, action))
            assert [str(i) for i in issues if i.severity == "error"] == [], f"{skill.name}/{action}"


def test_wrong_types_bounds_enums_and_unknown_keys(pose: Skill) -> None:
    doc = default_spec(pose, "train")
    doc.set("train.num_epochs", "ten")
    doc.set("model.dropout", 1.5)
    doc.set("model.graph_layout", "kinect")
    doc.set("train.optim.bogus", 1)
    issues = {i.path: i.message for i in validate_spec(pose, "train", doc)}
    assert "integer" in issues["train.num_epochs"]
    assert "at most 1" in issues["model.dropout"]
    assert "nvidia" in issues["model.graph_layout"]
    assert issues["train.optim.bogus"].startswith("unknown key")


def test_key_of_another_action_is_accepted(pose: Skill) -> None:
    doc = default_spec(pose, "train")
    doc.set("dataset_convert.pose_type", "2dbp")
    doc.set("evaluate.checkpoint", "/results/x.pth")
    assert [i for i in validate_spec(pose, "train", doc) if i.severity == "error"] == []


def test_training_asserts_are_skill_data(pose: Skill) -> None:
    doc = default_spec(pose, "train")
    doc.set("train.checkpoint_interval", 50)
    issues = validate_spec(pose, "train", doc)
    assert any(i.path == "train.checkpoint_interval" and "epochs" in i.message for i in issues)
    doc.set("train.checkpoint_interval_unit", "step")
    assert not any(i.path == "train.checkpoint_interval" for i in validate_spec(pose, "train", doc))


def test_math_cond_against_depends_on(tmp_path: Path) -> None:
    write_bundle(tmp_path)
    toy = load_banks([tmp_path]).skill("tao-train-toy")
    doc = default_spec(toy, "train")
    doc.set("train.warmup", 0.5)
    issues = validate_spec(toy, "train", doc)
    assert any(i.path == "train.warmup" and "< train.lr" in i.message for i in issues)


def test_import_keeps_unknown_keys_and_reports_yaml_errors(pose: Skill) -> None:
    imported = import_spec_text(pose, "train", "train:\n  num_epochs: 4\n  mystery: 1\n")
    assert imported.unknown_keys == ["train.mystery"]
    assert imported.document.get("train.mystery") == 1
    assert "mystery: 1" in spec_yaml(pose, "train", imported.document)
    with pytest.raises(SpecParseError) as info:
        import_spec_text(pose, "train", "train:\n  num_epochs: [4\n", "spec.yaml")
    assert info.value.line == 3 and "spec.yaml:3:" in str(info.value)


def test_diff_against_template(pose: Skill) -> None:
    doc = default_spec(pose, "train")
    doc.set("train.num_epochs", 70)
    doc.set("extra.key", True)
    doc.delete("wandb")
    changes = {c.path: c.change for c in spec_diff(pose, "train", doc)}
    assert changes["train.num_epochs"] == "changed" and changes["extra.key"] == "added"
    assert changes["wandb.enable"] == "removed"


def test_form_model_changes_reset_and_automl(pose: Skill) -> None:
    form = ActionForm(pose, "train")
    seen: list[str] = []
    form.value_changed.connect(seen.append)
    form.set_value("train.optim.lr", 0.05)
    assert seen == ["train.optim.lr"] and form.changed_paths() == ["train.optim.lr"]
    form.reset("train.optim.lr")
    assert form.changed_paths() == []
    assert form.automl_on, "AutoML is on by default for train where the skill enables it"
    assert "train.optim.lr" in form.automl_paths() and "model.dropout" in form.automl_paths()
    form.set_automl(False)
    assert form.automl_paths() == set()
    assert not ActionForm(pose, "evaluate").automl_available


def test_spec_document_round_trip_with_infinity() -> None:
    doc = SpecDocument({"a": {"b": float("inf"), "c": [1, 2]}})
    assert SpecDocument.from_yaml(doc.to_yaml()).data == doc.data
