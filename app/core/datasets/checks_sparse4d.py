"""Sparse4D checks: the anchor file, the converted infos pickles, classes, depth paths, output prefix."""

from __future__ import annotations

import posixpath

from app.core.datasets.context import CheckContext, MiB
from app.core.datasets.depth_paths import classify_references
from app.core.datasets.findings import ERROR, INFO, NORMALIZE_DEPTH_PATHS, SET_VALUE, WARNING
from app.core.datasets.host_io import read_npy_header
from app.core.datasets.infos_scan import InfosSummary, scan_infos, summary_cache
from app.core.datasets.npy_header import NpyHeaderError
from app.core.datasets.pickle_outline import load_pickle_outline
from app.core.datasets.resolve import ResolvedRow, is_unset
from app.core.datasets.safe_pickle import PickleLoadError, PickleRefused, PickleTooLarge
from app.core.gc_pause import garbage_collection_paused
from app.core.hosts.errors import HostError

ANCHOR_FORMAT = "sparse4d_anchor"
INFOS_FORMAT = "sparse4d_infos_pkl"
ANCHOR_COLUMNS = 11
MAX_LIST_BYTES = 1 * MiB


def check_anchor(ctx: CheckContext) -> None:
    """The anchor .npy: (K, 11) floats; K against model.head.instance_bank.num_anchor."""
    num_anchor = ctx.value("model.head.instance_bank.num_anchor")
    for row, path in ctx.paths_to_check(ANCHOR_FORMAT):
        try:
            header = read_npy_header(ctx.session, path)
        except NpyHeaderError as error:
            ctx.add(ERROR, row.spec_key, f"{path}: {error}", check="sparse4d.anchor")
            continue
        if len(header.shape) != 2 or header.shape[1] != ANCHOR_COLUMNS or header.dtype.kind != "f":
            ctx.add(
                ERROR,
                row.spec_key,
                f"{path} holds {header.dtype} of shape {header.shape}; anchors "
                f"are floats of shape (K, {ANCHOR_COLUMNS})",
                "use the anchor file the convert job wrote",
                check="sparse4d.anchor",
            )
            continue
        count = header.shape[0]
        if isinstance(num_anchor, int) and count < num_anchor:
            ctx.add(
                WARNING,
                "model.head.instance_bank.num_anchor",
                f"{path} has {count} anchors but num_anchor is {num_anchor}: the model uses {count}",
                f"set num_anchor to {count}, or convert again with num_anchor {num_anchor}",
                check="sparse4d.anchor",
                fix_action=SET_VALUE,
                fix_value=count,
            )
        elif isinstance(num_anchor, int) and count > num_anchor:
            ctx.add(
                INFO,
                "model.head.instance_bank.num_anchor",
                f"{path} has {count} anchors; the first {num_anchor} are used",
                check="sparse4d.anchor",
            )


def infos_files(ctx: CheckContext, key: str, value: str) -> list[str]:
    """The pickles an ann_file names: a .pkl, a folder of .pkl files, or a .txt listing .pkl paths."""
    info = ctx.stat(value)
    if info is None:
        return []
    if info.is_dir:
        files = [
            posixpath.join(value, e.name) for e in ctx.session.list_dir(value) if e.name.endswith(".pkl")
        ]
        if not files:
            ctx.add(
                ERROR,
                key,
                f"the folder {value} holds no .pkl files",
                "point at the convert job's split folder",
                check="sparse4d.infos",
            )
        return files
    if value.endswith(".txt"):
        text = ctx.session.read_bytes(value, MAX_LIST_BYTES).decode("utf-8", "replace")
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [value]


def _load_summary(ctx: CheckContext, key: str, path: str) -> InfosSummary | None:
    cache_key = f"infos:{path}"
    if cache_key in ctx.cache:
        cached: InfosSummary | None = ctx.cache[cache_key]
        return cached
    ctx.cache[cache_key] = None
    info = ctx.stat(path)
    if info is None:
        ctx.add(ERROR, key, f"{path} does not exist on host '{ctx.host_name}'", check="sparse4d.infos")
        return None
    limit = ctx.options.max_infos_bytes
    reuse = ctx.options.reuse_summaries and info.size <= limit
    remembered = summary_cache.get(ctx.host_name, path, info.size, info.mtime) if reuse else None
    if remembered is not None:
        ctx.cache[cache_key] = remembered
        return remembered
    try:
        data = ctx.session.read_range(path, 0, info.size + 1) if info.size <= limit else b""
        with garbage_collection_paused():  # until the outline is summarised and freed
            document = load_pickle_outline(data, path, max_bytes=limit, size=info.size)
            del data
            summary = scan_infos(document, path)
            del document
    except PickleTooLarge:
        ctx.add(
            WARNING,
            key,
            f"{path} was not checked: it is {info.size / MiB:,.0f} MB, above the "
            f"{limit / MiB:,.0f} MB limit for reading infos",
            "raise the limit (--max-pickle-mb) to check it",
            check="sparse4d.infos",
        )
        return None
    except PickleRefused as error:
        ctx.add(ERROR, key, str(error), "use infos written by the converter", check="sparse4d.infos")
        return None
    except (PickleLoadError, HostError) as error:
        ctx.add(ERROR, key, str(error), check="sparse4d.infos")
        return None
    summary_cache.put(ctx.host_name, path, info.size, info.mtime, summary)
    ctx.cache[cache_key] = summary
    return summary


def row_summary(ctx: CheckContext, row: ResolvedRow) -> InfosSummary | None:
    """All the pickles of one ann_file row, read and summarised (each file once per run)."""
    merged = InfosSummary()
    any_read = False
    for value in row.paths:
        files = infos_files(ctx, row.spec_key, value)
        for index, path in enumerate(files):
            ctx.report(index / max(1, len(files)), f"reading {posixpath.basename(path)}")
            summary = _load_summary(ctx, row.spec_key, path)
            if summary is not None:
                merged.merge(summary)
                any_read = True
    return merged if any_read else None


def check_infos(ctx: CheckContext) -> None:
    """Each infos pickle: {'metadata', 'infos'}, frames present, 3x3 intrinsics and 4x4 transforms."""
    for row in ctx.rows(INFOS_FORMAT):
        if ctx.has_error_at(row.spec_key):
            continue
        summary = row_summary(ctx, row)
        if summary is None:
            continue
        ctx.cache[f"row:{row.spec_key}"] = summary
        for problem in summary.structure_problems[:3]:
            ctx.add(ERROR, row.spec_key, problem, "convert the data again", check="sparse4d.infos")
        if summary.bad_cameras:
            examples = "; ".join(summary.bad_camera_examples)
            ctx.add(
                ERROR,
                row.spec_key,
                f"{summary.bad_cameras} of {summary.cameras} camera entries lack a 3x3 "
                f"intrinsic or a 4x4 transform ({examples})",
                "convert the data again",
                check="sparse4d.infos",
            )
        if not summary.frames and not summary.structure_problems:
            ctx.add(ERROR, row.spec_key, "the infos hold no frames", check="sparse4d.infos")
        elif summary.frames:
            ctx.add(
                INFO,
                row.spec_key,
                f"{summary.frames:,} frames, {len(summary.scenes)} scene(s), {len(summary.files)} file(s)",
                check="sparse4d.infos",
            )


def _near_match(name: str, lowered: dict[str, str]) -> str:
    """``; dataset.classes has person`` when a listed class differs from ``name`` only in case."""
    return f"; dataset.classes has {lowered[name.lower()]}" if name.lower() in lowered else ""


def check_classes(ctx: CheckContext) -> None:
    """Class names in the infos against dataset.classes: names not listed become label -1."""
    if ctx.action not in ("train", "evaluate"):
        return
    counts: dict[str, int] = {}
    for key, value in ctx.cache.items():
        if key.startswith("infos:") and value is not None:
            for name, count in value.class_counts.items():
                counts[name] = counts.get(name, 0) + count
    classes = ctx.value("dataset.classes")
    if not counts or not isinstance(classes, list):
        return
    listed = {str(c) for c in classes}
    unknown = {name: n for name, n in counts.items() if name not in listed}
    if not unknown:
        return
    lowered = {str(c).lower(): str(c) for c in classes}
    shown = ", ".join(
        f"{name} ({n:,} boxes{_near_match(name, lowered)})"
        for name, n in sorted(unknown.items(), key=lambda item: -item[1])
    )
    every = len(unknown) == len(counts)
    message = (
        f"no class name in the infos is in dataset.classes: every box gets label -1 and is ignored ({shown})"
        if every
        else f"these class names are not in dataset.classes and get label -1 (ignored): {shown}"
    )
    found = list(counts)
    ctx.add(
        ERROR if every else WARNING,
        "dataset.classes",
        message,
        f"set dataset.classes to {found}",
        check="sparse4d.classes",
        fix_action=SET_VALUE,
        fix_value=found,
    )


def check_depth_paths(ctx: CheckContext) -> None:
    """Depth references of the infos against the H5 files under dataset.data_root."""
    data_root = ctx.value("dataset.data_root")
    if ctx.value("dataset.use_h5_file_for_depth") is False or not isinstance(data_root, str):
        return
    if is_unset(data_root) or ctx.has_error_at("dataset.data_root") or ctx.stat(data_root) is None:
        return
    reported: dict[tuple[str, ...], str] = {}
    for row in ctx.rows(INFOS_FORMAT):
        summary = ctx.cache.get(f"row:{row.spec_key}")
        if not isinstance(summary, InfosSummary) or not summary.depth_refs:
            continue
        refs = classify_references(list(summary.depth_refs), data_root, ctx.stat, ctx.options.max_depth_files)
        if refs.mismatched:
            pickles = sorted({p for r in refs.mismatched for p in summary.depth_refs[r]})
            example = next(iter(refs.mismatched.items()))
            first = reported.setdefault(tuple(pickles), row.spec_key)
            message = (
                f"{len(refs.mismatched)} depth reference(s) point at a camera folder ('{example[0]}') while "
                f"the H5 files are under depth_maps/ ('{example[1]}'); TAO cannot open them"
                if first == row.spec_key
                else f"the same depth-path problem as {first} (the same pickles)"
            )
            ctx.add(
                ERROR,
                row.spec_key,
                message,
                f"rewrite the depth paths of {len(pickles)} pickle(s) (a backup of each is kept)",
                check="sparse4d.depth",
                fix_action=NORMALIZE_DEPTH_PATHS,
                fix_value={"data_root": data_root, "pickles": pickles},
            )
        if refs.missing:
            ctx.add(
                ERROR,
                row.spec_key,
                f"{len(refs.missing)} depth file(s) are not under dataset.data_root "
                f"{data_root} (first: {refs.missing[0]})",
                "check dataset.data_root",
                check="sparse4d.depth",
            )
        if refs.unchecked:
            ctx.add(
                INFO,
                row.spec_key,
                f"{refs.unchecked} more depth files were not looked at",
                check="sparse4d.depth",
            )


def check_output_prefix(ctx: CheckContext) -> None:
    """inference.jsonfile_prefix should be absolute (a relative one lands in the working folder)."""
    if ctx.action != "inference":
        return
    prefix = ctx.value("inference.jsonfile_prefix")
    if isinstance(prefix, str) and prefix and not prefix.startswith("/"):
        ctx.add(
            WARNING,
            "inference.jsonfile_prefix",
            f"'{prefix}' is relative: the results go to the job's "
            "working folder (its results folder), not where you may look for them",
            "set an absolute path on the host",
            check="sparse4d.outputs",
        )


SPARSE4D_CHECKS = (check_anchor, check_infos, check_classes, check_depth_paths, check_output_prefix)
