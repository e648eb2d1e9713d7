"""The structure of DeepStream BodyPose JSON, the input of pose classification's dataset_convert.

A list of ``{"num_frames_in_batch": n, "batches": [{"frame_num", "objects": [{"object_id",
"pose3d": [...], "pose25d": [...]}]}]}``; each pose holds ``num_joints`` x 4 numbers. The converter
asserts ``num_frames_in_batch == len(batches)`` and reads ``pose3d`` for 3dbp, ``pose25d`` otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from app.core.datasets.context import CheckContext
from app.core.datasets.findings import ERROR, INFO, WARNING
from app.core.hosts.errors import HostError

HEAD_BYTES = 1024 * 1024


def _pose_key(ctx: CheckContext) -> str:
    return "pose3d" if str(ctx.value("dataset_convert.pose_type", "3dbp")) == "3dbp" else "pose25d"


def structure_problem(entries: Any, pose_key: str, joints: int) -> tuple[str | None, int, set[Any]]:
    """(first problem or None, frames seen, object ids seen) for a parsed BodyPose document."""
    if not isinstance(entries, list):
        return f"the file holds a {type(entries).__name__}, not a list of frame batches", 0, set()
    frames = 0
    objects: set[Any] = set()
    for index, entry in enumerate(entries):
        where = f"[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("batches"), list):
            return f"{where} has no 'batches' list", frames, objects
        if entry.get("num_frames_in_batch") != len(entry["batches"]):
            return (
                (
                    f"{where}.num_frames_in_batch is {entry.get('num_frames_in_batch')!r} but it has "
                    f"{len(entry['batches'])} batches"
                ),
                frames,
                objects,
            )
        for batch_index, batch in enumerate(entry["batches"]):
            place = f"{where}.batches[{batch_index}]"
            if not isinstance(batch, dict) or not isinstance(batch.get("objects"), list):
                return f"{place} has no 'objects' list", frames, objects
            frames += 1
            for object_index, item in enumerate(batch["objects"]):
                spot = f"{place}.objects[{object_index}]"
                if not isinstance(item, dict) or "object_id" not in item:
                    return f"{spot} has no object_id", frames, objects
                pose = item.get(pose_key)
                if not isinstance(pose, list):
                    return f"{spot} has no '{pose_key}' list", frames, objects
                if len(pose) != joints * 4:
                    return (
                        (
                            f"{spot}.{pose_key} has {len(pose)} numbers; expected {joints * 4} "
                            f"({joints} joints x 4)"
                        ),
                        frames,
                        objects,
                    )
                objects.add(item["object_id"])
    return None, frames, objects


def _first_entry(head: bytes) -> Any:
    text = head.decode("utf-8", "replace")
    start = text.find("[")
    if start < 0:
        raise ValueError("no JSON list at the start of the file")
    after = text[start + 1 :].lstrip()
    value, _ = json.JSONDecoder().raw_decode(after)
    return [value]


def check_bodypose_json(ctx: CheckContext, key: str, path: str) -> None:
    """Parse the file (whole up to the JSON size limit, else its first entry) and check its structure."""
    info = ctx.stat(path)
    size = info.size if info is not None else 0
    joints = ctx.value("dataset_convert.num_joints", 34)
    joints = joints if isinstance(joints, int) and joints > 0 else 34
    pose_key = _pose_key(ctx)
    whole = size <= ctx.options.max_json_bytes
    try:
        data = (
            ctx.session.read_bytes(path, ctx.options.max_json_bytes)
            if whole
            else (ctx.session.read_range(path, 0, HEAD_BYTES))
        )
        entries = json.loads(data) if whole else _first_entry(data)
    except HostError as error:
        ctx.add(ERROR, key, str(error), check="pose.convert")
        return
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        ctx.add(
            ERROR,
            key,
            f"{path} is not readable JSON ({error})",
            "export it again with --save-pose",
            check="pose.convert",
        )
        return
    problem, frames, objects = structure_problem(entries, pose_key, joints)
    if problem:
        ctx.add(
            ERROR,
            key,
            f"{path}: {problem}",
            "use the JSON written by deepstream-bodypose-3d --save-pose",
            check="pose.convert",
        )
        return
    if not whole:
        ctx.add(
            WARNING, key, f"{path} is {size:,} bytes: only its first entry was checked", check="pose.convert"
        )
    elif not objects:
        ctx.add(ERROR, key, f"{path} has no objects: there is nothing to convert", check="pose.convert")
    else:
        ctx.add(INFO, key, f"{frames} frames, {len(objects)} objects", check="pose.convert")
