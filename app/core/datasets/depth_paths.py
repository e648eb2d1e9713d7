"""The H5 depth-path mismatch in converted Sparse4D infos, and its fix.

When a scene had no ``depth_maps/`` folder at conversion time, the converter records each camera's
depth as ``("<scene>/<camera>", "distance_to_image_plane_png/distance_to_image_plane_%05d.png")``. If the
H5 files are in fact at ``<data_root>/<scene>/depth_maps/<camera>.h5``, TAO fails to open them. The fix
(as NVIDIA's ``normalize_depth_paths.py``) rewrites such tuples to
``("<scene>/depth_maps/<camera>.h5", "distance_to_image_plane_%05d.png")``. Pickles are read with the
restricted unpickler and written back as the same plain data; the original is kept as a backup.
"""

from __future__ import annotations

import io
import pickle
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.datasets.infos_scan import summary_cache
from app.core.datasets.pickle_outline import load_pickle_outline
from app.core.datasets.safe_pickle import PickleLoadError, load_pickle_bytes
from app.core.hosts.session import FileStat, HostSession

DEPTH_FOLDER = "depth_maps"
BACKUP_SUFFIX = ".bak"
Stat = Callable[[str], FileStat | None]


class DepthFixError(ValueError):
    """The fix could not be applied; the original pickles are unchanged."""


def normalized_reference(reference: str) -> tuple[str, str] | None:
    """``"<scene>/<camera>"`` -> ``("<scene>", "<scene>/depth_maps/<camera>.h5")``; None if not that form."""
    if reference.endswith(".h5") or f"/{DEPTH_FOLDER}/" in f"/{reference}/":
        return None
    scene, camera = posixpath.split(reference.rstrip("/"))
    if not scene or not camera:
        return None
    return scene, posixpath.join(scene, DEPTH_FOLDER, f"{camera}.h5")


@dataclass
class DepthReferences:
    """Depth references of some infos, sorted out against the files under ``data_root``."""

    mismatched: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    found: int = 0
    unchecked: int = 0


def classify_references(references: list[str], data_root: str, stat: Stat, limit: int) -> DepthReferences:
    """For each distinct first element of a depth tuple: fine, pointing at a camera folder, or missing."""
    result = DepthReferences()
    for index, reference in enumerate(sorted(references)):
        if index >= limit:
            result.unchecked = len(references) - limit
            break
        fixed = normalized_reference(reference)
        if fixed is not None:
            candidate = posixpath.join(data_root, fixed[1])
            info = stat(candidate)
            if info is not None and not info.is_dir:
                result.mismatched[reference] = fixed[1]
                continue
        target = stat(posixpath.join(data_root, reference))
        if target is None:
            result.missing.append(reference)
        else:
            result.found += 1
    return result


def _rewrite(document: Any, mapping: dict[str, str]) -> tuple[int, list[tuple[Any, Any]]]:
    """Rewrite matching depth tuples in place; (count, a few (old, new) examples)."""
    infos = document.get("infos") if isinstance(document, dict) else document
    changed = 0
    examples: list[tuple[Any, Any]] = []
    for info in infos if isinstance(infos, list) else []:
        cams = info.get("cams") if isinstance(info, dict) else None
        for cam in cams.values() if isinstance(cams, dict) else []:
            reference = cam.get("depth_map_path") if isinstance(cam, dict) else None
            if not isinstance(reference, tuple | list) or len(reference) != 2:
                continue
            new_first = mapping.get(reference[0]) if isinstance(reference[0], str) else None
            if new_first is None or not isinstance(reference[1], str):
                continue
            new = (new_first, posixpath.basename(reference[1]))
            if len(examples) < 3:
                examples.append((tuple(reference), new))
            cam["depth_map_path"] = new
            changed += 1
    return changed, examples


def plain_pickle_bytes(document: Any) -> bytes:
    """Pickle plain data (containers, strings, numbers, numpy arrays) readable by numpy 1.x and 2.x.

    numpy 2 names its array constructor ``numpy._core.multiarray._reconstruct``, which older numpy
    cannot import; the constructors are written once under their ``numpy.core`` names up front and
    the pickler refers back to them.
    """
    from numpy._core import multiarray  # numpy >= 2

    stream = io.BytesIO()
    pickler = pickle.Pickler(stream, protocol=4)
    preamble = b""
    memo: dict[int, tuple[int, Any]] = {}
    for index, name in enumerate(("_reconstruct", "scalar")):
        function = getattr(multiarray, name)
        preamble += (
            b"cnumpy.core.multiarray\n" + name.encode() + b"\n" + pickle.BINPUT + bytes([index]) + pickle.POP
        )
        memo[id(function)] = (index, function)
    pickler.memo = memo
    pickler.dump(document)
    data = preamble + stream.getvalue()
    if b"cnumpy._core" in data or b"\x8cnumpy._core" in data:
        raise DepthFixError("the pickle would name numpy._core, which older numpy cannot read")
    return data


@dataclass
class DepthFixFile:
    """One pickle's share of the fix."""

    path: str
    changes: int
    examples: list[tuple[Any, Any]] = field(default_factory=list)
    backup: str = ""


@dataclass
class DepthFixPlan:
    """What the fix would change (the preview), or did change (after `apply_depth_fix`)."""

    data_root: str
    mapping: dict[str, str]
    files: list[DepthFixFile] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Depth references rewritten across all files."""
        return sum(f.changes for f in self.files)

    def summary(self) -> str:
        """Plain-language summary for a dialog or a terminal: counts, one example, the files."""
        changed = [f for f in self.files if f.changes]
        lines = [
            f"{self.total} depth path(s) in {len(changed)} pickle(s); dataset.data_root is {self.data_root}"
        ]
        example = next((item.examples[0] for item in changed if item.examples), None)
        if example is not None:
            lines += ["", "For example:", f"    {example[0]!r}", f" -> {example[1]!r}"]
        folders = sorted({posixpath.dirname(item.path) for item in changed})
        lines += ["", f"Pickles (in {', '.join(folders)}):"]
        width = max((len(posixpath.basename(item.path)) for item in changed), default=0)
        lines += [f"    {posixpath.basename(item.path):<{width}}  {item.changes:>6}" for item in changed]
        return "\n".join(lines)


def _load(session: HostSession, path: str, max_bytes: int) -> Any:
    return load_pickle_bytes(session.read_bytes(path, max_bytes), path, max_bytes=max_bytes)


def preview_depth_fix(
    session: HostSession, pickles: list[str], data_root: str, *, max_bytes: int, limit: int = 1000
) -> DepthFixPlan:
    """Find the camera-folder depth references whose H5 file exists under depth_maps/ (nothing written)."""
    references: set[str] = set()
    documents = {}
    for path in pickles:
        documents[path] = load_pickle_outline(session.read_bytes(path, max_bytes), path, max_bytes=max_bytes)
        infos = documents[path].get("infos") if isinstance(documents[path], dict) else documents[path]
        for info in infos if isinstance(infos, list) else []:
            for cam in (info.get("cams") or {}).values() if isinstance(info, dict) else []:
                reference = cam.get("depth_map_path") if isinstance(cam, dict) else None
                if isinstance(reference, tuple | list) and reference and isinstance(reference[0], str):
                    references.add(reference[0])
    classified = classify_references(sorted(references), data_root, session.stat, limit)
    plan = DepthFixPlan(data_root, classified.mismatched)
    for path, document in documents.items():
        changes, examples = _rewrite(document, classified.mismatched)
        plan.files.append(DepthFixFile(path, changes, examples))
    return plan


def _backup_name(session: HostSession, path: str) -> str:
    candidate = path + BACKUP_SUFFIX
    if session.stat(candidate) is None:
        return candidate
    return f"{path}.{time.strftime('%Y%m%d-%H%M%S')}{BACKUP_SUFFIX}"


def apply_depth_fix(session: HostSession, plan: DepthFixPlan, *, max_bytes: int) -> DepthFixPlan:
    """Rewrite every pickle of the plan that still has changes; each original is kept as ``.bak``.

    Each new pickle is read back with the restricted unpickler before it replaces the original;
    ``changes`` of each file is updated to what was rewritten (0 when already fixed).
    """
    for item in plan.files:
        if not item.changes:
            continue
        try:
            document = _load(session, item.path, max_bytes)
        except PickleLoadError as error:
            raise DepthFixError(str(error)) from error
        changes, _ = _rewrite(document, plan.mapping)
        item.changes = changes
        if not changes:
            continue
        data = plain_pickle_bytes(document)
        check = load_pickle_bytes(data, item.path, max_bytes=max(max_bytes, len(data)))
        if _rewrite(check, plan.mapping)[0] != 0:
            raise DepthFixError(f"{item.path}: the rewritten pickle does not read back as written")
        summary_cache.forget(session.name, item.path)
        item.backup = _backup_name(session, item.path)
        session.rename(item.path, item.backup)
        try:
            session.write_bytes(item.path, data)
        except BaseException:
            session.rename(item.backup, item.path)
            raise
    return plan
