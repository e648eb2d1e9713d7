"""Pose classification checks: skeleton arrays (.npy header only), label pickles, label map, outputs."""

from __future__ import annotations

import posixpath
from typing import Any

import numpy as np

from app.core.datasets.bodypose_json import check_bodypose_json
from app.core.datasets.checks_common import writable_folder
from app.core.datasets.context import CheckContext
from app.core.datasets.findings import ERROR, INFO, SET_VALUE, WARNING
from app.core.datasets.host_io import read_npy_header
from app.core.datasets.npy_header import NpyHeader, NpyHeaderError
from app.core.datasets.resolve import is_unset
from app.core.datasets.safe_pickle import PickleLoadError, PickleRefused, load_pickle_bytes
from app.core.hosts.errors import HostError
from app.core.results.layouts import LAYOUTS

DATA_FORMAT = "pose_data_npy"
LABEL_FORMAT = "pose_label_pkl"
JSON_FORMAT = "bodypose_json"


def _layouts_with_joints(joints: int) -> list[str]:
    return [name for name, layout in LAYOUTS.items() if layout.num_joints == joints]


def _check_array_header(ctx: CheckContext, key: str, path: str, header: NpyHeader) -> None:
    if header.dtype != np.dtype("float32"):
        ctx.add(
            ERROR,
            key,
            f"{path} holds {header.dtype} values; pose classification reads float32",
            "save the array with .astype(np.float32)",
            check="pose.data",
        )
    if len(header.shape) != 5:
        ctx.add(
            ERROR, key, f"{path} has shape {header.shape}; expected 5 axes (N, C, T, V, M)", check="pose.data"
        )
        return
    _, channels, _, joints, _ = header.shape
    layout_name = str(ctx.value("model.graph_layout", "nvidia"))
    layout = LAYOUTS.get(layout_name.strip().lower())
    if layout is not None and joints != layout.num_joints:
        matching = _layouts_with_joints(joints)
        fix = (
            f"set model.graph_layout to {' or '.join(matching)}" if matching else "use data of a known layout"
        )
        ctx.add(
            ERROR,
            "model.graph_layout",
            f"{path} has V={joints} joints; graph layout '{layout_name}' has {layout.num_joints}",
            fix,
            check="pose.data",
            fix_action=SET_VALUE if len(matching) == 1 else None,
            fix_value=matching[0] if len(matching) == 1 else None,
        )
    input_channels = ctx.value("model.input_channels", 3)
    if isinstance(input_channels, int) and channels != input_channels:
        ctx.add(
            ERROR,
            "model.input_channels",
            f"{path} has C={channels} channels; model.input_channels is {input_channels}",
            f"set model.input_channels to {channels}",
            check="pose.data",
            fix_action=SET_VALUE,
            fix_value=channels,
        )


def _devices_for(ctx: CheckContext) -> int:
    return ctx.gpu_count if ctx.action == "train" else 1


def _check_batch(ctx: CheckContext, key: str, path: str, count: int) -> None:
    batch = ctx.value("dataset.batch_size", 16)
    if not isinstance(batch, int) or batch < 1:
        return
    devices = _devices_for(ctx)
    if count < batch * devices:
        largest = max(1, count // devices)
        total = f"{batch} x {devices} GPUs" if devices > 1 else f"{batch}"
        ctx.add(
            ERROR,
            "dataset.batch_size",
            f"{path} has {count} sequences, fewer than the batch ({total}): TAO stops with 'Dataset "
            f"size is smaller than the total batch size' (for {key})",
            f"set dataset.batch_size to {largest} or less, or add sequences",
            check="pose.batch",
            fix_action=SET_VALUE,
            fix_value=largest,
            also_at=(key,),
        )


def check_pose_data(ctx: CheckContext) -> None:
    """Every skeleton array: header dtype, axes, joints vs. graph layout, channels, size, batch."""
    for row, path in ctx.paths_to_check(DATA_FORMAT):
        if path.endswith(".json"):
            ctx.add(
                ERROR,
                row.spec_key,
                f"{path} is DeepStream BodyPose JSON, not a skeleton array",
                "convert it first with this skill's dataset_convert action",
                check="pose.data",
            )
            continue
        try:
            header = read_npy_header(ctx.session, path)
        except NpyHeaderError as error:
            ctx.add(ERROR, row.spec_key, f"{path}: {error}", check="pose.data")
            continue
        ctx.npy_headers[path] = header
        info = ctx.stat(path)
        if info is not None and info.size < header.expected_file_size:
            ctx.add(
                ERROR,
                row.spec_key,
                f"{path} is cut short: {info.size:,} bytes, the header "
                f"announces {header.expected_file_size:,}",
                "copy the file again",
                check="pose.data",
            )
        _check_array_header(ctx, row.spec_key, path, header)
        if header.shape:
            _check_batch(ctx, row.spec_key, path, header.shape[0])


def _paired_count(ctx: CheckContext, label_key: str) -> tuple[str, int] | None:
    data_key = label_key.rsplit(".", 1)[0] + ".data_path"
    data_path = ctx.value(data_key)
    header = ctx.npy_headers.get(data_path) if isinstance(data_path, str) else None
    return (data_path, header.shape[0]) if header is not None and header.shape else None


def _as_labels(value: Any) -> list[int] | None:
    if isinstance(value, np.ndarray) and value.ndim == 1 and np.issubdtype(value.dtype, np.integer):
        return [int(v) for v in value]
    if isinstance(value, list | tuple) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value
    ):
        return [int(v) for v in value]
    return None


def _load_labels(ctx: CheckContext, key: str, path: str) -> tuple[list[Any], list[int]] | None:
    try:
        data = ctx.session.read_bytes(path, ctx.options.max_label_bytes)
        content = load_pickle_bytes(data, path, max_bytes=ctx.options.max_label_bytes)
    except PickleRefused as error:
        ctx.add(
            ERROR,
            key,
            str(error),
            "use a label file that holds plain (sample_names, labels) data",
            check="pose.labels",
        )
        return None
    except (PickleLoadError, HostError) as error:
        ctx.add(ERROR, key, str(error), check="pose.labels")
        return None
    if not isinstance(content, tuple | list) or len(content) != 2:
        ctx.add(
            ERROR,
            key,
            f"{path} should hold (sample_names, labels); it holds {type(content).__name__}"
            f"{' of ' + str(len(content)) if isinstance(content, tuple | list) else ''}",
            check="pose.labels",
        )
        return None
    names, labels = content
    label_list = _as_labels(labels)
    if not isinstance(names, list | tuple) or label_list is None:
        ctx.add(
            ERROR,
            key,
            f"{path}: sample_names must be a list and labels a list of integers",
            check="pose.labels",
        )
        return None
    return list(names), label_list


def check_pose_labels(ctx: CheckContext) -> None:
    """Every label pickle: restricted load, (names, labels), one label per sequence, labels in range."""
    num_classes = ctx.value("dataset.num_classes")
    for row, path in ctx.paths_to_check(LABEL_FORMAT):
        loaded = _load_labels(ctx, row.spec_key, path)
        if loaded is None:
            continue
        names, labels = loaded
        if len(names) != len(labels):
            ctx.add(
                ERROR,
                row.spec_key,
                f"{path} has {len(names)} sample names but {len(labels)} labels",
                check="pose.labels",
            )
        paired = _paired_count(ctx, row.spec_key)
        if paired is not None and paired[1] != len(labels):
            ctx.add(
                ERROR,
                row.spec_key,
                f"{path} has {len(labels)} labels but {paired[0]} has {paired[1]} sequences",
                "use the label file that belongs to the data file",
                check="pose.labels",
            )
        if isinstance(num_classes, int) and labels:
            outside = sorted({v for v in labels if not 0 <= v < num_classes})
            if outside:
                shown = ", ".join(map(str, outside[:10]))
                ctx.add(
                    ERROR,
                    row.spec_key,
                    f"{path} has labels outside [0, {num_classes}): {shown}",
                    f"set dataset.num_classes (and label_map) to cover {max(labels) + 1} classes",
                    check="pose.labels",
                )
            elif row.spec_key.startswith("dataset.train_dataset"):
                unused = sorted(set(range(num_classes)) - set(labels))
                if unused:
                    ctx.add(
                        WARNING,
                        row.spec_key,
                        f"classes {', '.join(map(str, unused[:10]))} never appear in {path}",
                        "add sequences of those classes, or lower dataset.num_classes",
                        check="pose.labels",
                    )


def check_label_map(ctx: CheckContext) -> None:
    """dataset.label_map: one name per class, values 0..num_classes-1."""
    if (
        not any(r.requirement.format == LABEL_FORMAT for r in ctx.resolution.rows)
        and ctx.action != "inference"
    ):
        return
    label_map = ctx.value("dataset.label_map")
    num_classes = ctx.value("dataset.num_classes")
    if not isinstance(label_map, dict) or not label_map:
        ctx.add(
            ERROR,
            "dataset.label_map",
            "label_map is not set: TAO needs a name for every class",
            "map each class name to its label, e.g. {walking: 0, sitting: 1}",
            check="pose.label_map",
        )
        return
    if not isinstance(num_classes, int):
        return
    if len(label_map) != num_classes:
        ctx.add(
            ERROR,
            "dataset.num_classes",
            f"num_classes is {num_classes} but label_map names {len(label_map)} classes",
            f"set dataset.num_classes to {len(label_map)}",
            check="pose.label_map",
            fix_action=SET_VALUE,
            fix_value=len(label_map),
        )
        return
    values = sorted(v for v in label_map.values() if isinstance(v, int) and not isinstance(v, bool))
    if values != list(range(num_classes)):
        ctx.add(
            ERROR,
            "dataset.label_map",
            f"label_map values must be 0..{num_classes - 1}, each once; they are {values}",
            "number the classes 0, 1, 2, ...",
            check="pose.label_map",
        )


def check_pose_outputs(ctx: CheckContext) -> None:
    """export.onnx_file must not exist; inference.output_file must go into a writable folder."""
    if ctx.action == "export":
        onnx = ctx.value("export.onnx_file")
        if isinstance(onnx, str) and not is_unset(onnx) and ctx.stat(onnx) is not None:
            ctx.add(
                ERROR,
                "export.onnx_file",
                f"{onnx} already exists: TAO's export refuses to overwrite it",
                "choose a new file name, or leave it empty to write into the job's results folder",
                check="pose.outputs",
                fix_action=SET_VALUE,
                fix_value="",
            )
    if ctx.action == "inference":
        output = ctx.value("inference.output_file")
        if isinstance(output, str) and not is_unset(output):
            if not output.startswith("/"):
                ctx.add(
                    ERROR,
                    "inference.output_file",
                    f"'{output}' is a relative path",
                    "use an absolute path, or leave it empty",
                    check="pose.outputs",
                )
            else:
                writable_folder(ctx, "inference.output_file", posixpath.dirname(output))


def check_pose_convert(ctx: CheckContext) -> None:
    """dataset_convert takes DeepStream BodyPose JSON; other actions use preconverted arrays."""
    if ctx.action != "dataset_convert":
        if ctx.rows(DATA_FORMAT):
            ctx.add(
                INFO,
                "dataset_convert",
                "not run: preconverted dataset (dataset_convert only converts DeepStream BodyPose JSON)",
                check="pose.convert",
            )
        return
    rows = ctx.rows(JSON_FORMAT)
    if not rows:
        ctx.add(
            INFO, "dataset_convert.data", "no BodyPose JSON chosen: nothing to convert", check="pose.convert"
        )
    for row in rows:
        for path in row.paths:
            if not ctx.has_error_at(row.spec_key):
                check_bodypose_json(ctx, row.spec_key, path)


POSE_CHECKS = (check_pose_data, check_pose_labels, check_label_map, check_pose_outputs, check_pose_convert)
