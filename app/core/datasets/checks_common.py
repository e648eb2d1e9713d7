"""Checks every action gets: mandatory keys, the spec's own rules, paths on the host, GPUs and hardware."""

from __future__ import annotations

import posixpath
import stat as stat_flags

from app.core.datasets.context import CheckContext
from app.core.datasets.findings import ERROR, INFO, SET_VALUE, WARNING
from app.core.datasets.host_io import access_allowed
from app.core.datasets.resolve import SOURCE_ROLES, ResolvedRow, is_unset
from app.core.hosts.gpus import GpuInventory, list_gpus
from app.core.hosts.session import FileStat
from app.core.jobs.plan import gpu_spec_keys
from app.core.specs.validation import ERROR as SPEC_ERROR
from app.core.specs.validation import NEEDS_INPUT, SpecValidator

EXPORT_RULE_PREFIX = "export_"
_LAUNCH_FILLS = {
    "output_dir": "the job's results folder",
    "create_onnx_file": "a file in the job's results folder",
    "create_inference_result_file_pose": "results.txt in the job's results folder",
    "key": "the encryption key from the keyring",
    "ptm_if_no_resume_model": "",
    "resume_model": "",
}


def _dataset_fix(ctx: CheckContext, row: ResolvedRow) -> str:
    requirement = row.requirement
    if "dataset_convert" in row.note:
        return "choose the dataset_convert job that converted this data as the parent job, or type the path"
    role = SOURCE_ROLES.get(requirement.source, ("train",))[0]
    return (
        f"register a {role} dataset on host '{ctx.host_name}' (taodesk datasets add NAME --host "
        f"{ctx.host_name} --role {role} --path DIR), or type the path"
    )


def check_mandatory(ctx: CheckContext) -> None:
    """Every mandatory table row and every '???' key has a value (launch-filled keys excepted)."""
    table_keys = set()
    for row in ctx.resolution.rows:
        table_keys.add(row.spec_key)
        if row.is_set or row.requirement.optional:
            continue
        why = f" ({row.note})" if row.note else ""
        ctx.add(ERROR, row.spec_key, f"needs a value{why}", _dataset_fix(ctx, row), check="mandatory")
    params = ctx.skill.action(ctx.action).spec_params
    issues = SpecValidator(ctx.skill, ctx.action).validate(ctx.spec.data)
    gaps = [issue.path for issue in issues if issue.severity == NEEDS_INPUT]
    gaps += [key for key, rule in params.items() if rule.startswith("create_") and is_unset(ctx.value(key))]
    for path in dict.fromkeys(gaps):
        if path not in table_keys:
            _report_gap(ctx, path, params.get(path))


def _report_gap(ctx: CheckContext, path: str, rule: str | None) -> None:
    """One mandatory key without a value: filled at launch, or an error saying how to fill it."""
    parent = ctx.resolution.parent
    if rule == "parent_model":
        if parent is not None and parent.action != "dataset_convert":
            ctx.add(INFO, path, f"set at launch: the checkpoint of job {parent.id}", check="mandatory")
        else:
            ctx.add(
                ERROR,
                path,
                "needs a checkpoint",
                "choose a parent train job (it has the checkpoints), or type the checkpoint's path",
                check="mandatory",
            )
    elif rule in _LAUNCH_FILLS:
        if _LAUNCH_FILLS[rule]:
            ctx.add(INFO, path, f"set at launch: {_LAUNCH_FILLS[rule]}", check="mandatory")
    else:
        ctx.add(ERROR, path, "mandatory value not set", "type a value for it in the form", check="mandatory")


def check_spec(ctx: CheckContext) -> None:
    """The spec's own errors (types, bounds, unknown keys) and the skill's cross-field rules."""
    export_rules = {r.id for r in ctx.skill.rules if r.id.startswith(EXPORT_RULE_PREFIX)}
    export_messages = {r.message for r in ctx.skill.rules if r.id in export_rules}
    wants_export = ctx.options.plans_export or ctx.action == "export"
    for issue in SpecValidator(ctx.skill, ctx.action).validate(ctx.spec.data):
        if issue.severity == NEEDS_INPUT:
            continue
        is_export_rule = any(issue.message.startswith(message) for message in export_messages)
        if is_export_rule and not wants_export:
            continue
        severity = ERROR if issue.severity == SPEC_ERROR else WARNING
        fix = "keep the value export expects, or untick 'I plan to export'" if is_export_rule else ""
        ctx.add(severity, issue.path, issue.message, fix, check="spec")


def _describe_mode(info: FileStat) -> str:
    return f"owner {info.uid}:{info.gid}, mode {stat_flags.filemode(info.mode)}"


def _kind_ok(row: ResolvedRow, info: FileStat) -> bool:
    if row.requirement.kind == "folder":
        return info.is_dir
    if info.is_dir:
        return row.requirement.from_convert_job and not row.requirement.files
    return True


def check_path(ctx: CheckContext, key: str, path: str, row: ResolvedRow | None) -> FileStat | None:
    """One path: absolute, present on the host, of the right kind, readable by the container's user."""
    if not path.startswith("/"):
        ctx.add(
            ERROR,
            key,
            f"'{path}' is a relative path",
            "use an absolute path on the host (the container sees host paths unchanged)",
            check="paths",
        )
        return None
    info = ctx.stat(path)
    if info is None:
        if ctx.exists_only_here(path):
            ctx.add(
                ERROR,
                key,
                f"{path} exists on this computer but not on host '{ctx.host_name}'",
                f"paths are paths on '{ctx.host_name}': copy the data there and register it on that host",
                check="paths",
            )
        else:
            ctx.add(
                ERROR,
                key,
                f"{path} does not exist on host '{ctx.host_name}'",
                "check the path, or register the dataset again",
                check="paths",
            )
        return None
    if row is not None and not _kind_ok(row, info):
        expected = "a folder" if row.requirement.kind == "folder" else "a file"
        ctx.add(
            ERROR,
            key,
            f"{path} should be {expected} but is {'a folder' if info.is_dir else 'a file'}",
            check="paths",
        )
        return None
    if not access_allowed(info, ctx.uid, ctx.gid, search=info.is_dir):
        ctx.add(
            ERROR,
            key,
            f"{path} is not readable by {ctx.container_user}, the user the job runs as "
            f"({_describe_mode(info)})",
            f"on '{ctx.host_name}': chmod o+r{'x' if info.is_dir else ''} "
            f"{path} (or give group {ctx.gid} access)",
            check="paths",
        )
        return info
    if not info.is_dir:
        folder = posixpath.dirname(path)
        parent = ctx.stat(folder)
        if parent is not None and not access_allowed(parent, ctx.uid, ctx.gid, search=True):
            ctx.add(
                ERROR,
                key,
                f"the folder {folder} cannot be entered by {ctx.container_user} ({_describe_mode(parent)})",
                f"on '{ctx.host_name}': chmod o+x {folder}",
                check="paths",
            )
    return info


def check_paths(ctx: CheckContext) -> None:
    """Every resolved path of the table exists on the host as the table says and is readable."""
    rows = ctx.rows()
    for index, row in enumerate(rows):
        ctx.report(index / max(1, len(rows)), f"checking {row.spec_key}")
        for path in row.paths:
            check_path(ctx, row.spec_key, path, row)


def writable_folder(ctx: CheckContext, key: str, folder: str) -> bool:
    """True when ``folder`` exists on the host and the container's user may create files in it."""
    info = ctx.stat(folder)
    if info is None or not info.is_dir:
        ctx.add(
            ERROR,
            key,
            f"the folder {folder} does not exist on host '{ctx.host_name}'",
            "create it first, or leave the key empty so the job writes into its results folder",
            check="outputs",
        )
        return False
    if not access_allowed(info, ctx.uid, ctx.gid, write=True, search=True):
        ctx.add(
            ERROR,
            key,
            f"{ctx.container_user} cannot write into {folder} ({_describe_mode(info)})",
            "choose a folder the job's user can write, or leave the key empty",
            check="outputs",
        )
        return False
    return True


def _spec_gpu_request(ctx: CheckContext) -> tuple[str | None, int, list[int] | None]:
    count_key, ids_key = gpu_spec_keys(ctx.action, ctx.spec)
    if count_key is None or ids_key is None:
        return None, 0, None
    count = ctx.value(count_key)
    ids = ctx.value(ids_key)
    count_value = count if isinstance(count, int) and not isinstance(count, bool) else 1
    ids_value = [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else None
    if ids_value is not None and count_value != len(ids_value):
        ctx.add(
            WARNING,
            ids_key,
            f"{count_key} is {count_value} but {ids_key} lists {len(ids_value)}: TAO uses the larger "
            f"({max(count_value, len(ids_value))}) and renumbers the GPUs from 0",
            f"set {ids_key} to {list(range(count_value))}",
            check="gpus",
            fix_action=SET_VALUE,
            fix_value=list(range(count_value)),
        )
    return count_key, max(count_value, len(ids_value or [])), ids_value


def check_gpus(ctx: CheckContext) -> None:
    """GPUs asked for vs. GPUs on the host, and the skill's minimum hardware (a warning)."""
    count_key, requested, _ = _spec_gpu_request(ctx)
    chosen = list(ctx.options.gpus)
    ctx.gpu_count = len(chosen) if chosen else max(1, requested)
    if not ctx.options.check_gpus:
        return
    inventory: GpuInventory = list_gpus(ctx.session)
    indices = [gpu.index for gpu in inventory.gpus]
    missing = [g for g in chosen if g not in indices]
    key = count_key or ""
    if missing:
        ctx.add(
            ERROR,
            key,
            f"GPU(s) {', '.join(map(str, missing))} are not on host '{ctx.host_name}' "
            f"(it has: {', '.join(map(str, indices)) or 'none'})",
            "choose GPUs the host has",
            check="gpus",
        )
    if not inventory.gpus:
        if count_key is not None:
            ctx.add(
                WARNING,
                key,
                inventory.note or f"no NVIDIA GPUs found on host '{ctx.host_name}'",
                "run on a host with NVIDIA GPUs; TAO jobs need at least one",
                check="gpus",
            )
    elif count_key is not None and not chosen and requested > len(inventory.gpus):
        ctx.add(
            ERROR,
            key,
            f"the spec asks for {requested} GPUs; host '{ctx.host_name}' has {len(inventory.gpus)}",
            f"set {count_key} to {len(inventory.gpus)} or fewer",
            check="gpus",
            fix_action=SET_VALUE,
            fix_value=len(inventory.gpus),
        )
    hardware = ctx.skill.hardware
    if ctx.action == "train" and inventory.gpus and hardware.min_gpus > len(inventory.gpus):
        ctx.add(
            WARNING,
            key,
            f"{ctx.skill.name} needs at least {hardware.min_gpus} GPUs for training; host "
            f"'{ctx.host_name}' has {len(inventory.gpus)}",
            "expect slow or failing training",
            check="hardware",
        )
    small = [
        g
        for g in inventory.gpus
        if g.memory_total_mib is not None
        and hardware.min_gpu_memory_gb
        and g.memory_total_mib < hardware.min_gpu_memory_gb * 1024
    ]
    if ctx.action == "train" and small:
        ctx.add(
            WARNING,
            key,
            f"GPU(s) {', '.join(str(g.index) for g in small)} have less than "
            f"{hardware.min_gpu_memory_gb:g} GB, the minimum for {ctx.skill.name}",
            "lower the batch size if training runs out of memory",
            check="hardware",
        )


def report_resolution_notes(ctx: CheckContext) -> None:
    """Notes from resolving the table (which dataset was picked among several, split fallbacks)."""
    for note in ctx.resolution.notes:
        ctx.add(INFO, "", note, check="resolve")
    for row in ctx.resolution.rows:
        if row.is_set and row.note:
            ctx.add(INFO, row.spec_key, row.note, check="resolve")
    for key in ctx.resolution.inherited:
        parent = ctx.resolution.parent
        ctx.add(INFO, key, f"taken from job {parent.id if parent else '?'}'s spec", check="resolve")
