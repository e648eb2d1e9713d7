"""Small skill bundles written on the fly, to test how the loader treats good and broken files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

MINIMAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "automl_default_parameters": ["train.lr"],
    "automl_disabled_parameters": ["train.gpu_ids"],
    "popular": {"train": {"num_epochs": 10}},
    "required": ["export"],
    "default": {"train": {"num_epochs": 10, "lr": 0.1, "gpu_ids": [0], "checkpoint_interval": 1}},
    "properties": {
        "automl_disabled_parameters": ["train"],
        "results_dir": {"type": "string", "default": ""},
        "train": {
            "type": "collection",
            "popular": ["num_epochs"],
            "default": {"num_epochs": 10},
            "properties": {
                "num_epochs": {"type": "int", "default": 10, "minimum": 1, "maximum": float("inf")},
                "checkpoint_interval": {"type": "int", "default": 1, "minimum": 1},
                "lr": {"type": "float", "default": 0.1, "minimum": 0, "maximum": 1, "automl_enabled": True},
                "warmup": {
                    "type": "float",
                    "default": 0.0,
                    "math_cond": "< depends_on",
                    "depends_on": "train.lr",
                },
                "gpu_ids": {"type": "list", "default": [0]},
                "optimizer": {
                    "type": "categorical",
                    "enum": ["sgd", "adam"],
                    "option_weights": [0.3, 0.7],
                    "default": "sgd",
                },
                "data_root": {"type": "string", "default": "???"},
                "mode": {"anyOf": [{"type": "int"}, {"type": "string"}], "default": 1},
            },
        },
        "export": {
            "type": "collection",
            "required": ["onnx_file"],
            "properties": {"onnx_file": {"type": "string", "default": ""}},
        },
    },
}


def write_bundle(
    root: Path,
    name: str = "tao-train-toy",
    schema: dict[str, Any] | None = None,
    template: dict[str, Any] | None = None,
    actions: tuple[str, ...] = ("train", "export"),
) -> Path:
    """A complete, valid bundle under ``root/name``; returns its folder."""
    folder = root / name
    (folder / "schemas").mkdir(parents=True)
    (folder / "references").mkdir()
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: A toy model.\ntags: [toy]\nhardware: {{min_gpus: 1}}\n---\n# Toy\n",
        encoding="utf-8",
    )
    schema = schema or MINIMAL_SCHEMA
    manifest: dict[str, Any] = {"schema_version": 1, "automl_enabled": True, "actions": {}}
    for action in actions:
        (folder / "schemas" / f"{action}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
        data = template or {
            "results_dir": "",
            "train": {
                "num_epochs": 10,
                "checkpoint_interval": 1,
                "lr": 0.1,
                "warmup": 0.0,
                "gpu_ids": [0],
                "optimizer": "sgd",
                "data_root": "???",
                "mode": 1,
            },
            "export": {"onnx_file": ""},
        }
        (folder / "references" / f"spec_template_{action}.yaml").write_text(
            yaml.safe_dump(data, sort_keys=False)
        )
        manifest["actions"][action] = {
            "path": f"schemas/{action}.schema.json",
            "spec_template": f"references/spec_template_{action}.yaml",
        }
    (folder / "schemas" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    info = {
        "name": name,
        "automl_enabled": True,
        "container_image": "toy:1",
        "actions": {a: {"command": f"toy {a} -e {{config_path}}"} for a in actions},
        "spec_shorthand_keys": {"num_epochs": "train.num_epochs"},
    }
    (folder / "references" / "skill_info.yaml").write_text(yaml.safe_dump(info), encoding="utf-8")
    (folder / "references" / "spec_rules.yaml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "rules": [
                    {
                        "id": "ckpt",
                        "actions": ["train"],
                        "left": "train.checkpoint_interval",
                        "op": "<=",
                        "right": "train.num_epochs",
                        "message": "checkpoint interval must not exceed epochs",
                    }
                ],
            }
        )
    )
    return folder
