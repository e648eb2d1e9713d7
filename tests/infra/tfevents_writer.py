"""Write TensorBoard event files with real writers, and read them back with TensorBoard, for tests.

- `write_simple_scalars`: tensorboardX's SummaryWriter (`simple_value`, as Lightning/TAO write).
- `write_tensor_scalars`: TensorBoard's own TF-free EventFileWriter with scalars stored as rank-0
  tensors (as TensorFlow 2 writes them), in any dtype.
- `tensorboard_scalars` / `tensorboard_tensor_scalars`: what TensorBoard's EventAccumulator reads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

ScalarTriple = tuple[str, int, float]


def write_simple_scalars(
    folder: Path, points: Iterable[ScalarTriple], suffix: str = "", start_time: float | None = None
) -> Path:
    """Write (tag, step, value) points with tensorboardX; return the event file's path.

    Wall times are start_time + 0.001 * index (now by default), so every point's time is known.
    """
    from tensorboardX import SummaryWriter

    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.glob("events.out.tfevents.*"))
    writer = SummaryWriter(str(folder), filename_suffix=suffix, flush_secs=3600)
    base = time.time() if start_time is None else start_time
    for index, (tag, step, value) in enumerate(points):
        writer.add_scalar(tag, value, step, walltime=base + 0.001 * index)
    writer.close()
    (created,) = set(folder.glob("events.out.tfevents.*")) - before
    return created


def write_tensor_scalars(
    folder: Path,
    points: Iterable[tuple[str, int, float, str]],
    *,
    as_content: bool = False,
    plugin: str = "scalars",
    suffix: str = "",
) -> Path:
    """Write (tag, step, value, numpy dtype name) points as rank-0 tensors with TensorBoard's
    EventFileWriter; the scalars-plugin metadata goes with each tag's first value only, as
    TensorFlow 2 does. `as_content` stores the value in tensor_content instead of the typed field."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.scalar import metadata
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.glob("events.out.tfevents.*"))
    writer = EventFileWriter(str(folder), filename_suffix=suffix)
    seen: set[str] = set()
    for index, (tag, step, value, dtype) in enumerate(points):
        tensor = tensor_util.make_tensor_proto(np.array(value, dtype=dtype))
        if as_content:
            content = np.array(value, dtype=dtype).tobytes()
            tensor = type(tensor)(
                dtype=tensor.dtype, tensor_shape=tensor.tensor_shape, tensor_content=content
            )
        entry = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
        if tag not in seen:
            seen.add(tag)
            entry.metadata.CopyFrom(metadata.create_summary_metadata(display_name=tag, description=""))
            entry.metadata.plugin_data.plugin_name = plugin
        event = event_pb2.Event(
            wall_time=1_700_000_000.0 + index, step=step, summary=summary_pb2.Summary(value=[entry])
        )
        writer.add_event(event)
    writer.close()
    (created,) = set(folder.glob("events.out.tfevents.*")) - before
    return created


def tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float, float]]]:
    """(step, wall_time, value) per tag as TensorBoard's EventAccumulator reads `simple_value`s."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {
        tag: [(event.step, event.wall_time, event.value) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }


def tensorboard_tensor_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """(step, value) per tag for the rank-0 tensors EventAccumulator reads."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    found = {}
    for tag in accumulator.Tags()["tensors"]:
        rows = []
        for event in accumulator.Tensors(tag):
            array = tensor_util.make_ndarray(event.tensor_proto)
            if array.ndim == 0:
                rows.append((event.step, float(array)))
        found[tag] = rows
    return found


def same_value(left: float, right: float) -> bool:
    """Equal, treating NaN as equal to NaN."""
    return left == right or (math.isnan(left) and math.isnan(right))
