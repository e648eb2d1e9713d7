"""The bundled skill bank against NVIDIA's generated bundles: the same TAO facts, in our own words."""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

POSE = "tao-train-pose-classification"
SPARSE4D = "tao-train-sparse4d"
SKILLS = (POSE, SPARSE4D)
ACTIONS = {
    POSE: ("dataset_convert", "train", "evaluate", "export", "inference"),
    SPARSE4D: ("dataset_convert", "train", "evaluate", "export", "inference", "quantize"),
}
REFERENCE_SCHEMAS = {POSE: ("train", "evaluate", "export", "inference"), SPARSE4D: ACTIONS[SPARSE4D]}
SCHEMA_PAIRS = [(skill, action) for skill in SKILLS for action in REFERENCE_SCHEMAS[skill]]
TEMPLATE_PAIRS = [(skill, action) for skill in SKILLS for action in ACTIONS[skill]]

FACT_KEYS = (
    "type",
    "default",
    "minimum",
    "maximum",
    "enum",
    "option_weights",
    "pattern",
    "examples",
    "popular",
    "required",
    "automl_enabled",
    "automl_default_parameters",
    "automl_disabled_parameters",
    "math_cond",
    "depends_on",
)
TOP_LEVEL_KEYS = (
    "type",
    "default",
    "popular",
    "required",
    "automl_default_parameters",
    "automl_disabled_parameters",
    "x_tao_schema",
)
OWN_WORDS_MIN_LENGTH = 25
COPY_RUN_WORDS = 8
MISSING = "<absent>"


@cache
def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _schema(bank: Path, skill: str, action: str) -> dict[str, Any]:
    return _read_json(bank / skill / "schemas" / f"{action}.schema.json")


def _fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field node by dotted path; non-dict entries (TAO's stray list in properties) are skipped."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, child in (node.get("properties") or {}).items():
            if isinstance(child, dict):
                path = f"{prefix}.{name}" if prefix else name
                found[path] = child
                walk(child, path)

    walk(schema, "")
    return found


def _differences(ours: Any, ref: Any, where: str, ordered: bool) -> list[str]:
    """Strict comparison (bool, int and float are distinct); dict key order counts when ordered."""
    if type(ours) is not type(ref):
        return [f"{where}: ours={ours!r} ({type(ours).__name__}) reference={ref!r} ({type(ref).__name__})"]
    if isinstance(ref, dict):
        problems = []
        if ordered and list(ours) != list(ref) and set(ours) == set(ref):
            problems.append(f"{where}: key order ours={list(ours)} reference={list(ref)}")
        problems += [f"{where}.{key}: missing in ours" for key in ref if key not in ours]
        problems += [f"{where}.{key}: not in the reference" for key in ours if key not in ref]
        for key in (k for k in ref if k in ours):
            problems += _differences(ours[key], ref[key], f"{where}.{key}", ordered)
        return problems
    if isinstance(ref, list):
        if len(ours) != len(ref):
            return [f"{where}: ours={ours!r} reference={ref!r}"]
        return [
            p
            for i, (a, b) in enumerate(zip(ours, ref, strict=True))
            for p in _differences(a, b, f"{where}[{i}]", ordered)
        ]
    if isinstance(ref, float) and math.isnan(ref) and math.isnan(ours):
        return []
    return [] if ours == ref else [f"{where}: ours={ours!r} reference={ref!r}"]


def _report(problems: list[str]) -> str:
    shown = "\n".join(problems[:40])
    return f"{len(problems)} difference(s):\n{shown}"


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).lower()


def _word_runs(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[\w./<>{}\-]+", text.lower())
    return {tuple(words[i : i + COPY_RUN_WORDS]) for i in range(len(words) - COPY_RUN_WORDS + 1)}


def _runs_shared_with_seed_cards(text: str, shared_dir: Path) -> list[str]:
    """Runs of COPY_RUN_WORDS consecutive words that also occur in a seed card."""
    seeds = " ".join(p.read_text(encoding="utf-8") for p in (shared_dir / "seeds").glob("*.txt"))
    return sorted(" ".join(run) for run in _word_runs(text) & _word_runs(seeds))


def _get(spec: dict[str, Any], dotted: str) -> Any:
    node: Any = spec
    for part in dotted.split("."):
        node = node[part]
    return node


def test_every_reference_file_has_a_bundled_counterpart(reference_bank: Path, bundled_bank: Path) -> None:
    """A reference schema or reference file that we do not ship would leave an action unusable."""
    for skill in SKILLS:
        ref_actions = sorted(
            p.name.split(".")[0] for p in (reference_bank / skill / "schemas").glob("*.schema.json")
        )
        assert ref_actions == sorted(REFERENCE_SCHEMAS[skill]), f"{skill}: reference actions changed"
        for ref_file in (reference_bank / skill).rglob("*"):
            if ref_file.is_file():
                relative = ref_file.relative_to(reference_bank)
                assert (bundled_bank / relative).is_file(), f"missing bundled file {relative}"
        for action in ACTIONS[skill]:
            assert (bundled_bank / skill / "schemas" / f"{action}.schema.json").is_file()
            assert (bundled_bank / skill / "references" / f"spec_template_{action}.yaml").is_file()


@pytest.mark.parametrize(("skill", "action"), SCHEMA_PAIRS)
def test_schema_matches_reference_field_by_field(
    reference_bank: Path, bundled_bank: Path, skill: str, action: str
) -> None:
    """Paths, types, defaults, bounds, enums, popular/required and AutoML lists are TAO facts."""
    ref, ours = _schema(reference_bank, skill, action), _schema(bundled_bank, skill, action)
    problems = _differences(
        {k: ours.get(k, MISSING) for k in TOP_LEVEL_KEYS},
        {k: ref.get(k, MISSING) for k in TOP_LEVEL_KEYS},
        "<top>",
        ordered=False,
    )
    stray = "automl_disabled_parameters"
    problems += _differences(
        ours["properties"].get(stray, MISSING),
        ref["properties"].get(stray, MISSING),
        f"properties.{stray}",
        ordered=False,
    )
    ref_fields, our_fields = _fields(ref), _fields(ours)
    problems += [f"{path}: missing in ours" for path in sorted(ref_fields.keys() - our_fields.keys())]
    problems += [f"{path}: not in the reference" for path in sorted(our_fields.keys() - ref_fields.keys())]
    for path in sorted(ref_fields.keys() & our_fields.keys()):
        for key in FACT_KEYS:
            problems += _differences(
                our_fields[path].get(key, MISSING),
                ref_fields[path].get(key, MISSING),
                f"{path}: {key}",
                ordered=False,
            )
    assert not problems, f"{skill}/{action}.schema.json: " + _report(problems)


@pytest.mark.parametrize(("skill", "action"), TEMPLATE_PAIRS)
def test_template_matches_reference_key_by_key(
    reference_bank: Path, bundled_bank: Path, skill: str, action: str
) -> None:
    """The default spec a user starts from has TAO's keys, order and values."""
    name = f"references/spec_template_{action}.yaml"
    ref, ours = _read_yaml(reference_bank / skill / name), _read_yaml(bundled_bank / skill / name)
    problems = _differences(ours, ref, "<spec>", ordered=True)
    assert not problems, f"{skill}/{name}: " + _report(problems)


@pytest.mark.parametrize("skill", SKILLS)
def test_manifest_matches_reference(reference_bank: Path, bundled_bank: Path, skill: str) -> None:
    """Reference entries are kept as they are; added entries have their shape and agree with their schema."""
    ref = _read_json(reference_bank / skill / "schemas" / "manifest.json")
    ours = _read_json(bundled_bank / skill / "schemas" / "manifest.json")
    problems = _differences(
        {k: v for k, v in ours.items() if k != "actions"},
        {k: v for k, v in ref.items() if k != "actions"},
        "<manifest>",
        ordered=False,
    )
    assert sorted(ours["actions"]) == sorted(ACTIONS[skill])
    for action, entry in ref["actions"].items():
        problems += _differences(ours["actions"][action], entry, f"actions.{action}", ordered=False)
    for action, entry in ours["actions"].items():
        schema = _schema(bundled_bank, skill, action)
        assert set(entry) == set(ref["actions"]["train"]), f"{skill} manifest {action}: keys {sorted(entry)}"
        assert entry["path"] == f"schemas/{action}.schema.json"
        assert entry["spec_template"] == f"references/spec_template_{action}.yaml"
        assert entry["schema_action"] == schema["x_tao_schema"]["schema_action"]
        assert entry["core_module"] == schema["x_tao_schema"]["core_module"]
        for key in ("automl_default_parameters", "automl_disabled_parameters"):
            assert entry[key] == sorted(schema[key]), (
                f"{skill} manifest {action}.{key} disagrees with its schema"
            )
        problems += _differences(
            entry["popular"], schema.get("popular", {}), f"actions.{action}.popular", ordered=False
        )
    assert not problems, f"{skill}/schemas/manifest.json: " + _report(problems)


@pytest.mark.parametrize(
    ("skill", "metric"),
    [
        (POSE, {"name": "val_loss", "direction": "minimize"}),
        (SPARSE4D, {"name": "val_mAP", "direction": "maximize"}),
    ],
)
def test_skill_info_matches_reference(
    reference_bank: Path, bundled_bank: Path, skill: str, metric: dict[str, str]
) -> None:
    """Commands, images, inputs/outputs, data sources and spec params are TAO facts; the prose is ours."""
    ref = _read_yaml(reference_bank / skill / "references" / "skill_info.yaml")
    ours = _read_yaml(bundled_bank / skill / "references" / "skill_info.yaml")
    assert set(ours) - set(ref) == {"automl_metric"}, f"{skill}: unexpected keys {set(ours) ^ set(ref)}"
    assert ours["automl_metric"] == metric
    problems: list[str] = []
    for key, value in ref.items():
        if key == "description":
            assert isinstance(ours[key], str) and ours[key].strip()
            assert _norm(ours[key]) != _norm(value), f"{skill}: skill_info description copied"
        elif key == "data_sources":
            for action, table in value.items():
                problems += _differences(
                    ours[key].get(action, MISSING), table, f"data_sources.{action}", False
                )
            assert set(ours[key]) <= set(ACTIONS[skill])
        else:
            problems += _differences(ours.get(key, MISSING), value, key, ordered=False)
    assert not problems, f"{skill}/references/skill_info.yaml: " + _report(problems)
    assert sorted(ours["actions"]) == sorted(ACTIONS[skill])
    for action, relative in ours["spec_templates"].items():
        assert (bundled_bank / skill / "schemas" / relative).resolve().is_file(), (
            f"{skill}: {action} -> {relative}"
        )
    if skill == POSE:
        assert ours["data_sources"]["dataset_convert"] == {
            "dataset_convert.data": {"source": "id", "path": ""}
        }


POSE_DATASET_CONVERT = {
    "results_dir": ("string", "", None, None, None),
    "data": ("string", "", None, None, None),
    "pose_type": ("categorical", "3dbp", None, None, ["3dbp", "25dbp", "2dbp"]),
    "num_joints": ("int", 34, 1, math.inf, None),
    "input_width": ("int", 1920, 1, math.inf, None),
    "input_height": ("int", 1080, 1, math.inf, None),
    "focal_length": ("float", 1200.0, 0.0, math.inf, None),
    "sequence_length_max": ("int", 300, 1, math.inf, None),
    "sequence_length_min": ("int", 10, 1, math.inf, None),
    "sequence_length": ("int", 100, 1, math.inf, None),
    "sequence_overlap": ("float", 0.5, 0.0, 1.0, None),
}


def test_pose_dataset_convert_schema_holds_tao_facts(bundled_bank: Path) -> None:
    """TAO's PCDatasetConvertExpConfig, in the dialect and filtering of the other pose schemas."""
    ours, train = _schema(bundled_bank, POSE, "dataset_convert"), _schema(bundled_bank, POSE, "train")
    assert set(ours["properties"]) == set(train["properties"]) | {"dataset_convert"}
    for key in ("type", "popular", "required", "automl_default_parameters", "automl_disabled_parameters"):
        assert ours[key] == train[key], f"top-level {key} differs from the train schema"
    assert (
        ours["properties"]["automl_disabled_parameters"] == train["properties"]["automl_disabled_parameters"]
    )
    assert ours["x_tao_schema"] == dict(
        train["x_tao_schema"], action="dataset_convert", schema_action="dataset_convert"
    )
    our_fields, train_fields = _fields(ours), _fields(train)
    for path, node in train_fields.items():
        problems = [
            p
            for key in FACT_KEYS
            for p in _differences(our_fields[path].get(key, MISSING), node.get(key, MISSING), path, False)
        ]
        assert not problems, _report(problems)
    section = ours["properties"]["dataset_convert"]
    assert section["type"] == "collection" and section["automl_enabled"] is False
    assert list(section["properties"]) == sorted(POSE_DATASET_CONVERT)
    for name, (kind, default, low, high, enum) in POSE_DATASET_CONVERT.items():
        leaf = section["properties"][name]
        facts = (leaf["type"], leaf["default"], leaf.get("minimum"), leaf.get("maximum"), leaf.get("enum"))
        assert not _differences(facts, (kind, default, low, high, enum), name, False), (
            f"dataset_convert.{name}"
        )
        assert section["default"][name] == default and ours["default"]["dataset_convert"][name] == default
    template = _read_yaml(bundled_bank / POSE / "references" / "spec_template_dataset_convert.yaml")
    assert not _differences(template["dataset_convert"], section["default"], "template", ordered=False)


def test_no_bundled_file_is_a_byte_copy(reference_bank: Path, bundled_bank: Path) -> None:
    """Every bundled file is written by us, even where its content equals TAO's."""

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    reference = {digest(p): p for p in reference_bank.rglob("*") if p.is_file()}
    copies = [
        f"{p.relative_to(bundled_bank)} == {reference[digest(p)].relative_to(reference_bank)}"
        for skill in SKILLS
        for p in (bundled_bank / skill).rglob("*")
        if p.is_file() and digest(p) in reference
    ]
    assert not copies, "byte copies of reference files: " + ", ".join(copies)


@pytest.mark.parametrize(("skill", "action"), SCHEMA_PAIRS)
def test_titles_and_descriptions_are_our_own(
    reference_bank: Path, bundled_bank: Path, skill: str, action: str
) -> None:
    """No title or description longer than a short label is taken over from the reference."""
    ref_fields = _fields(_schema(reference_bank, skill, action))
    our_fields = _fields(_schema(bundled_bank, skill, action))
    copied = [
        f"{path}.{key}"
        for path, node in ref_fields.items()
        for key in ("title", "description")
        if len(_norm(node.get(key))) > OWN_WORDS_MIN_LENGTH
        and _norm(node.get(key)) == _norm(our_fields[path].get(key))
    ]
    assert not copied, f"{skill}/{action}: copied text at " + ", ".join(copied)


@pytest.mark.parametrize(
    ("skill", "hardware"),
    [
        (POSE, {"min_gpus": 1, "recommended_gpus": 1, "min_gpu_memory_gb": 8}),
        (SPARSE4D, {"min_gpus": 2, "recommended_gpus": 8, "min_gpu_memory_gb": 40}),
    ],
)
def test_skill_md_front_matter_and_own_prose(
    bundled_bank: Path, shared_dir: Path, skill: str, hardware: dict[str, int]
) -> None:
    """SKILL.md carries the documented front matter, covers every action and is not lifted from the cards."""
    text = (bundled_bank / skill / "SKILL.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert match, f"{skill}/SKILL.md: no front matter"
    front, body = yaml.safe_load(match.group(1)), match.group(2)
    assert front["name"] == skill
    assert isinstance(front["description"], str) and front["description"].strip()
    assert isinstance(front["tags"], list) and all(isinstance(t, str) for t in front["tags"])
    assert front["hardware"] == hardware
    for action in ACTIONS[skill]:
        assert re.search(rf"^### {action}\b", body, re.M), f"{skill}/SKILL.md: no section for {action}"
    shared = _runs_shared_with_seed_cards(body, shared_dir)
    assert not shared, f"{skill}/SKILL.md repeats the seed cards: {shared[:5]}"


REQUIREMENT_KEYS = {"spec_key", "source", "files", "kind", "list", "optional", "format", "from_convert_job"}
SOURCES = {"train_datasets", "eval_dataset", "inference_dataset", "calibration_dataset", "id"}
ROW_COUNTS = {
    POSE: {"dataset_convert": 1, "train": 4, "evaluate": 2, "inference": 1},
    SPARSE4D: {"dataset_convert": 1, "train": 5, "evaluate": 5, "export": 1, "inference": 5, "quantize": 6},
}


@pytest.mark.parametrize("skill", SKILLS)
def test_dataset_requirements_follow_the_cards(bundled_bank: Path, skill: str) -> None:
    """Each row names a real spec key of its action; convert-job rows name a real split key."""
    data = _read_yaml(bundled_bank / skill / "references" / "dataset_requirements.yaml")
    assert data["version"] == 1
    assert {a: len(rows) for a, rows in data["actions"].items()} == ROW_COUNTS[skill]
    for action, rows in data["actions"].items():
        fields = _fields(_schema(bundled_bank, skill, action))
        for row in rows:
            where = f"{skill} {action} {row.get('spec_key')}"
            assert set(row) <= REQUIREMENT_KEYS and {"spec_key", "source"} <= set(row), where
            assert row["spec_key"] in fields, f"{where}: not a field of {action}.schema.json"
            assert row["source"] in SOURCES and row.get("kind", "file") in ("file", "folder"), where
            assert isinstance(row.get("list", False), bool) and isinstance(row.get("optional", False), bool)
            convert = row.get("from_convert_job")
            if convert is not None:
                assert convert["split_key"] in _fields(_schema(bundled_bank, skill, "dataset_convert")), where
            if row["spec_key"] == "model.head.instance_bank.anchor":
                assert row["files"] == "{dataset_convert_job_id}/anchor_init.npy"
                assert row["format"] == "sparse4d_anchor"
            if row["spec_key"].endswith(".ann_file"):
                assert row["format"] == "sparse4d_infos_pkl" and convert == {"split_key": "aicity.split"}
            if row["spec_key"].endswith((".data_root", ".images_dir", "aicity.root")):
                assert row["kind"] == "folder", where
            if row["spec_key"].endswith(".data_path"):
                assert row["format"] == "pose_data_npy" and row["files"].endswith(".npy"), where
            if row["spec_key"].endswith(".label_path"):
                assert row["format"] == "pose_label_pkl" and row["files"].endswith(".pkl"), where
    if skill == POSE:
        convert_row = data["actions"]["dataset_convert"][0]
        assert convert_row["optional"] is True and convert_row["format"] == "bodypose_json"


OPERATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
TAO_ASSERTS: dict[str, set[tuple[str, str, str | int, str]]] = {
    POSE: {
        ("train.checkpoint_interval", "<=", "train.num_epochs", "error"),
        ("train.validation_interval", "<=", "train.num_epochs", "error"),
    },
    SPARSE4D: {
        ("dataset.sequences.split_num", ">=", "dataset.batch_size", "error"),
        ("train.checkpoint_interval", "<=", "train.num_epochs", "error"),
        ("train.validation_interval", "<=", "train.num_epochs", "error"),
        ("model.head.deformable_model.max_num_cams", "==", 20, "warning"),
        ("model.head.instance_bank.num_anchor", "==", 900, "warning"),
        ("model.head.instance_bank.num_temp_instances", "==", 600, "warning"),
        ("model.head.num_output", "==", 900, "warning"),
    },
}


@pytest.mark.parametrize("skill", SKILLS)
def test_spec_rules_are_tao_asserts_on_real_keys(bundled_bank: Path, skill: str) -> None:
    """Rules use existing keys, state TAO's asserts, and TAO's own default specs pass the error rules."""
    data = _read_yaml(bundled_bank / skill / "references" / "spec_rules.yaml")
    assert data["version"] == 1
    stated = {(r["left"], r["op"], r["right"], r.get("severity", "error")) for r in data["rules"]}
    assert stated == TAO_ASSERTS[skill], (
        f"{skill}: missing {TAO_ASSERTS[skill] - stated}, unexpected {stated - TAO_ASSERTS[skill]}"
    )
    assert len({r["id"] for r in data["rules"]}) == len(data["rules"])
    for rule in data["rules"]:
        assert rule["op"] in OPERATORS and rule["message"].strip()
        assert rule.get("severity", "error") in ("error", "warning")
        for action in rule["actions"]:
            assert action in ACTIONS[skill]
            fields = _fields(_schema(bundled_bank, skill, action))
            keys = [k for k in (rule["left"], rule["right"]) if isinstance(k, str)] + list(
                rule.get("when") or {}
            )
            for key in keys:
                assert key in fields, f"{skill} rule {rule['id']}: {key} is not a field of {action}"
            template = _read_yaml(bundled_bank / skill / "references" / f"spec_template_{action}.yaml")
            if rule.get("severity", "error") != "error":
                continue
            applies = all(_get(template, k) == v for k, v in (rule.get("when") or {}).items())
            left, right = (
                _get(template, k) if isinstance(k, str) else k for k in (rule["left"], rule["right"])
            )
            assert not applies or OPERATORS[rule["op"]](left, right), (
                f"default {action} spec breaks {rule['id']}"
            )


LOG_SAMPLES = {
    POSE: {
        "dataset_smaller_than_batch": "ValueError: Dataset size (3) is smaller than the total batch size "
        "(16). Not enough data for train.",
        "label_out_of_range": "IndexError: Target 7 is out of bounds.",
        "graph_layout_mismatch": "RuntimeError: running_mean should contain 102 elements not 54",
        "missing_label_map": "AttributeError: 'NoneType' object has no attribute 'keys'",
        "missing_spec_file": "ERROR: /specs/train.yaml does not exist",
        "export_file_exists": "AssertionError: Default output file /results/export/pc.onnx already exists.",
        "cuda_out_of_memory": "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        "out_of_memory": "Killed",
        "shared_memory_bus_error": "RuntimeError: DataLoader worker (pid 42) is killed by signal: Bus error.",
        "unknown_user": "KeyError: 'getpwuid(): uid not found: 1000'",
    },
    SPARSE4D: {
        "missing_anchor_file": "FileNotFoundError: [Errno 2] No such file or directory: "
        "'/results/c/anchor_init.npy'",
        "missing_convert_artifacts": "omegaconf.errors.MissingMandatoryValue: Missing mandatory value: "
        "dataset.train_dataset.ann_file",
        "h5_depth_path_mismatch": "OSError: Unable to synchronously open file (file read failed: filename = "
        "'/data/aicity_root/train/Warehouse_014/Camera', errno = 21, "
        "error message = 'Is a directory')",
        "split_num_below_batch": "AssertionError: sequences_split_num: 1 should be >= batch_size: 2",
        "too_few_sequences_for_batch": "AssertionError: groups_num 3 should be greater or equal than "
        "global_batch_size 8",
        "temporal_out_of_memory": "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB",
        "out_of_memory": "Killed",
        "quantize_image_incompatible": "ModuleNotFoundError: No module named 'torchao'",
        "shared_memory_bus_error": "Bus error (core dumped)",
        "unknown_user": "KeyError: 'getpwuid(): uid not found: 1000'",
    },
}
BENIGN_LINES = (
    "Epoch 4: 100%|##########| 53/53 [00:12<00:00, train_loss=0.91, val_loss=0.88]",
    "Execution status: PASS",
    "Saving checkpoint to /results/train/model_epoch_004_step_00265.pth",
    "GroupInBatchSampler: built 12 groups over 900 samples in 0.01s",
    "Loading anchors from /results/convert/anchor_init.npy",
    "INFO: Starting Pose Classification train.",
)


@pytest.mark.parametrize("skill", SKILLS)
def test_error_patterns_recognise_tao_messages(bundled_bank: Path, shared_dir: Path, skill: str) -> None:
    """Each known TAO failure line is recognised by its pattern, and ordinary progress lines by none."""
    data = _read_yaml(bundled_bank / skill / "references" / "error_patterns.yaml")
    assert data["version"] == 1
    patterns = {p["id"]: p for p in data["patterns"]}
    assert len(patterns) == len(data["patterns"]), "duplicate pattern ids"
    assert set(LOG_SAMPLES[skill]) <= set(patterns)
    compiled = {}
    for pattern_id, pattern in patterns.items():
        assert pattern["title"].strip() and pattern["fix"].strip(), pattern_id
        assert not _runs_shared_with_seed_cards(pattern["fix"], shared_dir), (
            f"{pattern_id}: fix copied from a card"
        )
        assert set(pattern.get("actions") or []) <= set(ACTIONS[skill]), pattern_id
        compiled[pattern_id] = re.compile(pattern["regex"])
    for pattern_id, line in LOG_SAMPLES[skill].items():
        assert compiled[pattern_id].search(line), f"{skill}: {pattern_id} does not match {line!r}"
    for line in BENIGN_LINES:
        hits = [pid for pid, regex in compiled.items() if regex.search(line)]
        assert not hits, f"{skill}: {hits} match the ordinary line {line!r}"
