"""Differences between a spec and its template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.specs.document import flatten


@dataclass(frozen=True)
class SpecChange:
    """One key that differs: added (not in the template), removed, or changed."""

    path: str
    change: str
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        if self.change == "added":
            return f"+ {self.path}: {self.new!r}"
        if self.change == "removed":
            return f"- {self.path}: {self.old!r}"
        return f"~ {self.path}: {self.old!r} -> {self.new!r}"


def diff_specs(template: dict[str, Any], spec: dict[str, Any]) -> list[SpecChange]:
    """Every leaf that differs between the template and the spec, in the template's order."""
    before = dict(flatten(template))
    after = dict(flatten(spec))
    changes = []
    for path, old in before.items():
        if path not in after:
            if not any(p.startswith(path + ".") for p in after):
                changes.append(SpecChange(path, "removed", old=old))
        elif after[path] != old:
            changes.append(SpecChange(path, "changed", old=old, new=after[path]))
    for path, new in after.items():
        if path not in before and not any(p.startswith(path + ".") for p in before):
            changes.append(SpecChange(path, "added", new=new))
    return changes
