"""Loading skill banks: any folder of skill bundles, nested or flat, several at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.coerce import as_dict
from app.core.skills.dialect import ParsedSchema, SchemaParser, fields_from_template, read_json_file
from app.core.skills.extras import (
    parse_error_patterns,
    parse_hardware,
    parse_requirements,
    parse_spec_rules,
    read_yaml_file,
    requirements_from_data_sources,
    split_front_matter,
)
from app.core.skills.model import ACTION_ORDER, Action, Skill
from app.core.skills.problems import LoadProblem

_MAX_DEPTH = 4
_SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv"}


def is_skill_dir(path: Path) -> bool:
    """True when a folder looks like one skill bundle."""
    return (path / "schemas" / "manifest.json").is_file() or (
        (path / "SKILL.md").is_file() and ((path / "schemas").is_dir() or (path / "references").is_dir())
    )


def find_skill_dirs(root: Path, depth: int = 0) -> list[Path]:
    """Skill bundle folders at or below ``root`` (``skills/models/<name>/`` layouts included)."""
    if is_skill_dir(root):
        return [root]
    if depth >= _MAX_DEPTH or not root.is_dir():
        return []
    found: list[Path] = []
    for child in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in _SKIP_DIRS):
        found.extend(find_skill_dirs(child, depth + 1))
    return found


@dataclass
class SkillBank:
    """Every skill from one or more bank folders, with the problems found while loading."""

    folders: list[Path] = field(default_factory=list)
    skills: dict[str, Skill] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def skill(self, name: str) -> Skill:
        """The named skill; KeyError listing the known ones otherwise."""
        try:
            return self.skills[name]
        except KeyError:
            known = ", ".join(sorted(self.skills)) or "none"
            raise KeyError(f"no skill named '{name}' (known: {known})") from None

    def problems_for(self, skill: Skill) -> list[LoadProblem]:
        """Problems whose file lies inside this skill's bundle."""
        prefix = str(skill.path)
        return [p for p in self.problems if p.file.startswith(prefix)]


def load_banks(folders: Iterable[Path | str]) -> SkillBank:
    """Load several bank folders; a later bank's skill replaces an earlier one of the same name."""
    bank = SkillBank()
    for folder in folders:
        path = Path(folder).expanduser().resolve()
        bank.folders.append(path)
        if not path.is_dir():
            bank.problems.append(LoadProblem(str(path), "(bank)", "folder not found"))
            continue
        dirs = find_skill_dirs(path)
        if not dirs:
            bank.problems.append(LoadProblem(str(path), "(bank)", "no skill bundles found in this folder"))
        for skill_dir in dirs:
            skill = load_skill(skill_dir, path, bank.problems, bank.notices)
            if skill is None:
                continue
            if skill.name in bank.skills:
                bank.notices.append(
                    f"skill '{skill.name}' from {skill_dir} replaces the one from "
                    f"{bank.skills[skill.name].path}"
                )
            bank.skills[skill.name] = skill
    return bank


def _read(path: Path, reader: Any, problems: list[LoadProblem]) -> Any:
    try:
        return reader(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        problems.append(LoadProblem(str(path), "(file)", str(exc)))
        return None


def load_skill(
    skill_dir: Path, bank_dir: Path, problems: list[LoadProblem], notices: list[str] | None = None
) -> Skill | None:
    """Load one bundle; problems are appended, and whatever loads is kept."""
    notices = notices if notices is not None else []
    front: dict[str, Any] = {}
    body = ""
    skill_md = skill_dir / "SKILL.md"
    if skill_md.is_file():
        try:
            front, body = split_front_matter(skill_md.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            problems.append(LoadProblem(str(skill_md), "(front matter)", str(exc)))
    manifest_path = skill_dir / "schemas" / "manifest.json"
    manifest = _read(manifest_path, read_json_file, problems) if manifest_path.is_file() else None
    info_path = skill_dir / "references" / "skill_info.yaml"
    info = _read(info_path, read_yaml_file, problems) if info_path.is_file() else None
    for path, value in ((manifest_path, manifest), (info_path, info)):
        if value is not None and not isinstance(value, dict):
            problems.append(LoadProblem(str(path), "(root)", "expected a mapping"))
    manifest = manifest if isinstance(manifest, dict) else {}
    info = info if isinstance(info, dict) else {}
    name = str(front.get("name") or info.get("name") or skill_dir.name)
    tags = front.get("tags")
    skill = Skill(
        name=name,
        path=skill_dir,
        bank=bank_dir,
        description=str(front.get("description") or info.get("description") or "").strip(),
        tags=[str(t) for t in tags] if isinstance(tags, list) else ([str(tags)] if tags else []),
        hardware=parse_hardware(front.get("hardware")),
        body=body,
        info=info,
        manifest=manifest,
    )
    requirements = _load_requirements(skill_dir, info, problems)
    _load_actions(skill, requirements, problems, notices)
    refs = skill_dir / "references"
    patterns = refs / "error_patterns.yaml"
    if patterns.is_file():
        skill.error_patterns = parse_error_patterns(
            _read(patterns, read_yaml_file, problems), str(patterns), problems
        )
    rules = refs / "spec_rules.yaml"
    if rules.is_file():
        skill.rules = parse_spec_rules(_read(rules, read_yaml_file, problems), str(rules), problems)
    return skill


def _load_requirements(skill_dir: Path, info: dict[str, Any], problems: list[LoadProblem]) -> dict[str, Any]:
    table = skill_dir / "references" / "dataset_requirements.yaml"
    if table.is_file():
        return parse_requirements(_read(table, read_yaml_file, problems), str(table), problems)
    return requirements_from_data_sources(info)


def _action_names(skill: Skill, skill_dir: Path) -> list[str]:
    names: set[str] = set()
    if isinstance(skill.manifest.get("actions"), dict):
        names.update(skill.manifest["actions"])
    if isinstance(skill.info.get("actions"), dict):
        names.update(skill.info["actions"])
    schemas = skill_dir / "schemas"
    if schemas.is_dir():
        names.update(p.name.removesuffix(".schema.json") for p in schemas.glob("*.schema.json"))
    order = {name: index for index, name in enumerate(ACTION_ORDER)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def _load_actions(
    skill: Skill, requirements: dict[str, Any], problems: list[LoadProblem], notices: list[str]
) -> None:
    skill_dir = skill.path
    manifest_actions = (
        as_dict(skill.manifest.get("actions"))
    )
    info_actions = as_dict(skill.info.get("actions"))
    spec_params = as_dict(skill.info.get("spec_params"))
    for name in _action_names(skill, skill_dir):
        entry = as_dict(manifest_actions.get(name))
        schema_file = skill_dir / str(entry.get("path") or f"schemas/{name}.schema.json")
        template_file = skill_dir / str(entry.get("spec_template") or f"references/spec_template_{name}.yaml")
        parsed = None
        if schema_file.is_file():
            raw = _read(schema_file, read_json_file, problems)
            if raw is not None:
                parser = SchemaParser(str(schema_file))
                try:
                    parsed = parser.parse(raw)
                except ValueError as exc:
                    problems.append(LoadProblem(str(schema_file), "(root)", str(exc)))
                problems.extend(parser.problems)
        template: dict[str, Any] = {}
        if template_file.is_file():
            loaded = _read(template_file, read_yaml_file, problems)
            if isinstance(loaded, dict):
                template = loaded
            elif loaded is not None:
                problems.append(LoadProblem(str(template_file), "(root)", "the template is not a mapping"))
        else:
            problems.append(
                LoadProblem(str(template_file), "(file)", f"spec template for '{name}' not found")
            )
            template_file = None  # type: ignore[assignment]
        if parsed is None and not schema_file.is_file():
            if template:
                parsed = ParsedSchema(fields_from_template(template), {}, [], [], {}, [], {})
                notices.append(
                    f"{skill.name}/{name}: no schema in the bundle; fields inferred from the template"
                )
            else:
                problems.append(
                    LoadProblem(str(schema_file), "(file)", f"no schema or template for action '{name}'")
                )
        launch = as_dict(info_actions.get(name))
        params = as_dict(spec_params.get(name))
        skill.actions[name] = Action(
            name=name,
            skill_name=skill.name,
            schema_file=schema_file if schema_file.is_file() else None,
            template_file=template_file,
            parsed=parsed,
            template=template,
            command=str(launch["command"]) if launch.get("command") else None,
            image=str(launch.get("container_image") or skill.info.get("container_image") or "") or None,
            inputs=as_dict(launch.get("inputs")),
            outputs=as_dict(launch.get("outputs")),
            spec_params={str(k): str(v) for k, v in params.items()},
            requirements=list(requirements.get(name, [])),
        )
