"""Loading banks: TAO's dialect, nested layouts, several banks, broken files reported by file and key."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from app.core.skills import FieldKind, load_banks
from tests.infra.bundles import write_bundle


def test_reference_bank_loads_clean_with_every_action(reference_bank: Path) -> None:
    bank = load_banks([reference_bank])
    assert bank.problems == []
    assert set(bank.skills) == {"tao-train-pose-classification", "tao-train-sparse4d"}
    assert list(bank.skills["tao-train-sparse4d"].actions) == [
        "dataset_convert",
        "train",
        "evaluate",
        "export",
        "inference",
        "quantize",
    ]


def test_bundled_bank_loads_clean(bundled_bank: Path) -> None:
    bank = load_banks([bundled_bank])
    assert [str(p) for p in bank.problems] == []
    pose = bank.skills["tao-train-pose-classification"]
    assert list(pose.actions) == ["dataset_convert", "train", "evaluate", "export", "inference"]
    assert all(a.parsed is not None and a.parsed.raw for a in pose.actions.values()), (
        "every action has a schema"
    )
    assert pose.task_tag and pose.automl_enabled and pose.hardware.min_gpus >= 1
    assert pose.error_patterns and pose.rules
    assert [r.spec_key for r in pose.actions["train"].requirements][:2] == [
        "dataset.train_dataset.data_path",
        "dataset.train_dataset.label_path",
    ]


def test_dialect_infinity_mandatory_anyof_popular_automl(tmp_path: Path) -> None:
    write_bundle(tmp_path)
    bank = load_banks([tmp_path])
    assert bank.problems == []
    action = bank.skills["tao-train-toy"].actions["train"]
    root = action.root
    assert root is not None
    epochs = root.find("train.num_epochs")
    assert epochs is not None and epochs.maximum == math.inf and epochs.popular
    assert root.find("train.data_root").is_mandatory  # type: ignore[union-attr]
    mode = root.find("train.mode")
    assert mode is not None and mode.kind is FieldKind.UNION and len(mode.any_of) == 2
    optimizer = root.find("train.optimizer")
    assert (
        optimizer is not None and optimizer.kind is FieldKind.ENUM and optimizer.option_weights == [0.3, 0.7]
    )
    warmup = root.find("train.warmup")
    assert warmup is not None and (warmup.math_cond, warmup.depends_on) == ("< depends_on", "train.lr")
    assert root.find("export.onnx_file").required  # type: ignore[union-attr]
    assert "automl_disabled_parameters" not in root.children, "the stray key inside properties is not a field"
    assert action.automl_default_parameters == ["train.lr"]
    assert action.parsed is not None and action.parsed.popular_defaults == {"train": {"num_epochs": 10}}


def test_nested_layout_like_nvidia_checkout(tmp_path: Path, reference_bank: Path) -> None:
    models = tmp_path / "checkout" / "skills" / "models"
    models.mkdir(parents=True)
    shutil.copytree(reference_bank / "tao-train-sparse4d", models / "tao-train-sparse4d")
    bank = load_banks([tmp_path / "checkout"])
    assert list(bank.skills) == ["tao-train-sparse4d"]


def test_several_banks_later_one_wins_and_says_so(tmp_path: Path, bundled_bank: Path) -> None:
    write_bundle(tmp_path / "mine", name="tao-train-pose-classification")
    bank = load_banks([bundled_bank, tmp_path / "mine"])
    assert bank.skills["tao-train-pose-classification"].path == (
        tmp_path / "mine" / "tao-train-pose-classification"
    )
    assert "tao-train-sparse4d" in bank.skills
    assert any("replaces" in n for n in bank.notices)


def test_bad_json_is_reported_with_file_and_line_and_the_rest_loads(tmp_path: Path) -> None:
    broken = write_bundle(tmp_path, name="tao-train-broken")
    write_bundle(tmp_path, name="tao-train-good")
    (broken / "schemas" / "train.schema.json").write_text('{"type": "object",\n "properties": {,}}')
    bank = load_banks([tmp_path])
    assert "tao-train-good" in bank.skills and bank.skills["tao-train-good"].actions["train"].root is not None
    messages = [str(p) for p in bank.problems]
    assert any("train.schema.json" in m and "line 2" in m for m in messages), messages
    assert bank.skills["tao-train-broken"].actions["train"].root is None
    assert bank.skills["tao-train-broken"].actions["export"].root is not None


def test_bad_yaml_template_unknown_type_and_wrong_value_types(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path)
    (folder / "references" / "spec_template_export.yaml").write_text("train:\n  num_epochs: [1\n")
    schema = json.loads((folder / "schemas" / "train.schema.json").read_text())
    schema["properties"]["train"]["properties"]["fancy"] = {"type": "tensor_shape", "default": [1, 2]}
    schema["properties"]["train"]["properties"]["lr"]["type"] = 7
    schema["properties"]["train"]["properties"]["optimizer"]["option_weights"] = [1.0]
    (folder / "schemas" / "train.schema.json").write_text(json.dumps(schema))
    bank = load_banks([tmp_path])
    messages = [str(p) for p in bank.problems]
    assert any("spec_template_export.yaml" in m and "line" in m for m in messages), messages
    assert any("train.fancy" in m and "unknown type 'tensor_shape'" in m for m in messages), messages
    assert any("train.lr" in m and "'type' must be a string" in m for m in messages), messages
    assert any("train.optimizer" in m and "option_weights" in m for m in messages), messages
    fancy = bank.skills["tao-train-toy"].actions["train"].root.find("train.fancy")  # type: ignore[union-attr]
    assert fancy is not None and fancy.kind is FieldKind.UNKNOWN


def test_missing_bank_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bank = load_banks([tmp_path / "nope"])
    assert bank.skills == {} and "folder not found" in str(bank.problems[0])
