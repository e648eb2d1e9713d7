"""Versioned YAML files of named entries in the config folder (``hosts.yaml``, ``datasets.yaml``).

Such a file is ``{version: N, <entries key>: [entry, ...]}``. It is read with the safe loader; a
file written by a newer TAO Desk is refused and left untouched; broken entries are skipped and
listed, and before a file with broken entries is overwritten its old content is kept as ``.bak``.
Writes are atomic (a temporary file renamed over the old one). Each store keeps its own entry type,
migrations and error class; what they share is here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml


class NamedEntry(Protocol):
    """An entry of a versioned file: it has a unique name and can say what is wrong with it."""

    @property
    def name(self) -> str:
        """The entry's name, unique in its file."""
        ...

    def problems(self) -> list[str]:
        """Everything wrong with the entry, each naming it and the key (empty when valid)."""
        ...


Entry = TypeVar("Entry", bound=NamedEntry)


def read_yaml_document(path: Path, error: type[Exception]) -> Any:
    """The file's content through the safe loader (None for an empty file); ``error`` naming the file
    when it cannot be read or parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error(f"{path}: cannot be read: {exc}") from exc


def stored_version(document: Any, path: Path, newest: int, entries_key: str, error: type[Exception]) -> int:
    """The document's ``version`` (0 when absent); ``error`` for a document that is not a mapping, a
    version that is not a whole number, or one newer than ``newest`` (the file is left untouched)."""
    if not isinstance(document, dict):
        raise error(f"{path}: expected a mapping with 'version' and '{entries_key}'")
    version = document.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise error(f"{path}: 'version' must be a whole number")
    if version > newest:
        raise error(
            f"{path}: written by a newer TAO Desk (version {version}); this one reads up to version "
            f"{newest}. The file was left untouched."
        )
    return version


def parse_named_entries(
    entries: Any,
    path: Path,
    entries_key: str,
    kind: str,
    parse: Callable[[Any, str], Entry],
    error: type[Exception],
    problems: list[str],
) -> list[Entry]:
    """Every entry that ``parse`` accepts, in order; the broken ones and repeated names are skipped and
    described in ``problems``. ``error`` only when ``entries`` is not a list at all."""
    if not isinstance(entries, list):
        raise error(f"{path}: '{entries_key}' must be a list")
    parsed: list[Entry] = []
    for position, entry in enumerate(entries, start=1):
        try:
            item = parse(entry, f"{path}, entry {position}")
        except error as exc:
            problems.append(str(exc))
            continue
        if any(existing.name == item.name for existing in parsed):
            problems.append(f"{path}: {kind} name '{item.name}' is used twice")
            continue
        parsed.append(item)
    return parsed


def check_named_entries(entries: Sequence[NamedEntry], kind: str, error: type[Exception]) -> None:
    """``error`` for the first invalid entry or repeated name (before anything is written)."""
    names: set[str] = set()
    for entry in entries:
        problems = entry.problems()
        if problems:
            raise error("; ".join(problems))
        if entry.name in names:
            raise error(f"{kind} name '{entry.name}' is used twice")
        names.add(entry.name)


def write_yaml_document(path: Path, document: dict[str, Any], *, keep_backup: bool) -> None:
    """Write ``document`` atomically; with ``keep_backup``, an existing file is first copied to ``.bak``."""
    if keep_backup and path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
