"""The headless commands through the real entry point (a subprocess running ``taodesk``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml


def taodesk(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m app`` with the test's isolated user folders."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=dict(os.environ),
    )


def test_skills_list_json_names_both_bundled_skills(repo_root: Path) -> None:
    result = taodesk("skills", "list", "--json", cwd=repo_root)
    assert result.returncode == 0, result.stderr
    listed = {s["name"]: s for s in json.loads(result.stdout)}
    assert listed["tao-train-sparse4d"]["actions"][-1] == "quantize"
    assert listed["tao-train-pose-classification"]["automl"] is True


def test_skills_check_bundled_and_reference_with_widgets(repo_root: Path, reference_bank: Path) -> None:
    env_bank = str(reference_bank)
    result = taodesk("skills", "check", "--widgets", "--bank", env_bank, cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == "2 skills, 11 actions, 0 problems", result.stdout


def test_skills_check_counts_problems_and_exits_1(tmp_path: Path, repo_root: Path) -> None:
    from tests.infra.bundles import write_bundle

    folder = write_bundle(tmp_path)
    (folder / "schemas" / "export.schema.json").write_text("{not json")
    result = taodesk("skills", "check", "--bank", str(tmp_path), cwd=repo_root)
    assert result.returncode == 1
    assert "tao-train-toy/export: 2 problem(s)" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("problems") and " 0 problems" not in result.stdout


def test_spec_render_validate_diff_round_trip(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "train.yaml"
    result = taodesk(
        "spec",
        "render",
        "pose-classification",
        "train",
        "--set",
        "num_epochs=3",
        "--set",
        "train.optim.lr=5e-3",
        "-o",
        str(out),
        cwd=repo_root,
    )
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(out.read_text())
    assert spec["train"]["num_epochs"] == 3 and spec["train"]["optim"]["lr"] == 0.005
    assert (
        taodesk(
            "spec", "validate", "tao-train-pose-classification", "train", str(out), cwd=repo_root
        ).returncode
        == 0
    )
    diff = taodesk("spec", "diff", "tao-train-pose-classification", "train", str(out), cwd=repo_root)
    assert "~ train.num_epochs: 10 -> 3" in diff.stdout


def test_spec_validate_exit_codes(tmp_path: Path, repo_root: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  num_epochs: zero\n  unknown_knob: 1\nmodel:\n  dropout: 4\n")
    result = taodesk("spec", "validate", "tao-train-pose-classification", "train", str(bad), cwd=repo_root)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("train.num_epochs: must be an integer") for line in lines)
    assert any(line.startswith("train.unknown_knob: unknown key") for line in lines)
    assert any(line.startswith("model.dropout: must be at most 1") for line in lines)
    broken = tmp_path / "broken.yaml"
    broken.write_text("train: [\n")
    result = taodesk("spec", "validate", "tao-train-pose-classification", "train", str(broken), cwd=repo_root)
    assert result.returncode == 2 and "broken.yaml:" in result.stderr
    missing = taodesk(
        "spec", "validate", "tao-train-pose-classification", "train", str(tmp_path / "no.yaml"), cwd=repo_root
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert taodesk("spec", "render", "no-such-skill", "train", cwd=repo_root).returncode == 2
