"""Readers for the smaller bundle files: SKILL.md front matter and the skill-data YAML files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from app.core.coerce import as_dict
from app.core.skills.model import DataRequirement, ErrorPattern, Hardware, SpecRule
from app.core.skills.problems import LoadProblem

_OPS = ("<=", ">=", "==", "!=", "<", ">")


def read_yaml_file(path: Path) -> Any:
    """Safe-load a YAML file; raises ValueError naming line and column on a syntax error."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ValueError(f"invalid YAML at {where}{exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {exc}") from exc


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split a SKILL.md into its YAML front matter and body."""
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ValueError("front matter starts with '---' but never ends")
    header = parts[0][3:]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        data = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML front matter: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("front matter is not a mapping")
    return data, body


def parse_hardware(value: Any) -> Hardware:
    """Hardware from the front matter (a mapping; anything else means unknown)."""
    if not isinstance(value, dict):
        return Hardware()
    return Hardware(
        min_gpus=int(value.get("min_gpus", 0) or 0),
        recommended_gpus=int(value.get("recommended_gpus", 0) or 0),
        min_gpu_memory_gb=float(value.get("min_gpu_memory_gb", 0) or 0),
    )


def parse_requirements(data: Any, file: str, problems: list[LoadProblem]) -> dict[str, list[DataRequirement]]:
    """``dataset_requirements.yaml`` -> rows per action."""
    result: dict[str, list[DataRequirement]] = {}
    actions = data.get("actions") if isinstance(data, dict) else None
    if not isinstance(actions, dict):
        problems.append(LoadProblem(file, "actions", "expected a mapping of action -> rows"))
        return result
    for action, rows in actions.items():
        if not isinstance(rows, list):
            problems.append(LoadProblem(file, f"actions.{action}", "expected a list of rows"))
            continue
        for index, row in enumerate(rows):
            key = f"actions.{action}[{index}]"
            if not isinstance(row, dict) or not row.get("spec_key") or not row.get("source"):
                problems.append(LoadProblem(file, key, "each row needs 'spec_key' and 'source'"))
                continue
            convert = row.get("from_convert_job")
            split_key = convert.get("split_key") if isinstance(convert, dict) else None
            result.setdefault(str(action), []).append(
                DataRequirement(
                    spec_key=str(row["spec_key"]),
                    source=str(row["source"]),
                    files=str(row.get("files") or ""),
                    kind=str(row.get("kind") or "file"),
                    is_list=bool(row.get("list", False)),
                    optional=bool(row.get("optional", False)),
                    format=str(row["format"]) if row.get("format") else None,
                    convert_split_key=str(split_key) if split_key else ("" if convert is True else None),
                )
            )
    return result


def requirements_from_data_sources(info: dict[str, Any]) -> dict[str, list[DataRequirement]]:
    """Requirement rows derived from NVIDIA's ``skill_info.yaml`` ``data_sources`` (no table file)."""
    result: dict[str, list[DataRequirement]] = {}
    sources = info.get("data_sources")
    actions = as_dict(info.get("actions"))
    if not isinstance(sources, dict):
        return result
    for action, rows in sources.items():
        if not isinstance(rows, dict):
            continue
        inputs = (actions.get(action) or {}).get("inputs") or {}
        for spec_key, row in rows.items():
            if not isinstance(row, dict):
                continue
            declared = inputs.get(spec_key) if isinstance(inputs, dict) else None
            kind = str(declared.get("type", "file")) if isinstance(declared, dict) else "file"
            result.setdefault(str(action), []).append(
                DataRequirement(
                    spec_key=str(spec_key),
                    source=str(row.get("source") or "train_datasets"),
                    files=str(row.get("path") or ""),
                    kind=kind,
                )
            )
    return result


def parse_error_patterns(data: Any, file: str, problems: list[LoadProblem]) -> list[ErrorPattern]:
    """``error_patterns.yaml`` -> compiled patterns (a bad regex is reported and skipped)."""
    rows = data.get("patterns") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        problems.append(LoadProblem(file, "patterns", "expected a list of patterns"))
        return []
    patterns = []
    for index, row in enumerate(rows):
        key = f"patterns[{index}]"
        if not isinstance(row, dict) or not row.get("id") or not row.get("regex"):
            problems.append(LoadProblem(file, key, "each pattern needs 'id' and 'regex'"))
            continue
        try:
            regex = re.compile(str(row["regex"]))
        except re.error as exc:
            problems.append(LoadProblem(file, f"{key}.regex", f"invalid regular expression: {exc}"))
            continue
        actions = row.get("actions") or []
        patterns.append(
            ErrorPattern(
                id=str(row["id"]),
                title=str(row.get("title") or row["id"]),
                regex=regex,
                fix=str(row.get("fix") or ""),
                actions=tuple(str(a) for a in actions) if isinstance(actions, list) else (),
            )
        )
    return patterns


def _operand(value: Any) -> str | float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def parse_spec_rules(data: Any, file: str, problems: list[LoadProblem]) -> list[SpecRule]:
    """``spec_rules.yaml`` -> rules (a rule with an unknown operator is reported and skipped)."""
    rows = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        problems.append(LoadProblem(file, "rules", "expected a list of rules"))
        return []
    rules = []
    for index, row in enumerate(rows):
        key = f"rules[{index}]"
        if not isinstance(row, dict) or not all(k in row for k in ("id", "left", "op", "right")):
            problems.append(LoadProblem(file, key, "each rule needs 'id', 'left', 'op' and 'right'"))
            continue
        if row["op"] not in _OPS:
            problems.append(
                LoadProblem(file, f"{key}.op", f"unknown operator {row['op']!r} (use {', '.join(_OPS)})")
            )
            continue
        when = row.get("when") or {}
        actions = row.get("actions") or []
        rules.append(
            SpecRule(
                id=str(row["id"]),
                left=_operand(row["left"]),
                op=str(row["op"]),
                right=_operand(row["right"]),
                message=str(row.get("message") or f"{row['left']} {row['op']} {row['right']}"),
                severity="warning" if row.get("severity") == "warning" else "error",
                actions=tuple(str(a) for a in actions) if isinstance(actions, list) else (),
                when=tuple((str(k), v) for k, v in when.items()) if isinstance(when, dict) else (),
            )
        )
    return rules
