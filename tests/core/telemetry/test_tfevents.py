"""The tfevents readers against files written by tensorboardX and TensorBoard, read back by
TensorBoard's EventAccumulator; growing, corrupt and truncated files."""

from __future__ import annotations

import logging
import math
import random
from pathlib import Path

import numpy as np
import pytest

from app.core.telemetry.event_fastpath import decode_fast
from app.core.telemetry.record_index import MIN_INDEXED_BYTES, index_records
from app.core.telemetry.series import ScalarPoint
from app.core.telemetry.tfevents import ScalarEventStream, TFRecordStream, read_event_file
from tests.infra.tfevents_writer import (
    same_value,
    tensorboard_scalars,
    tensorboard_tensor_scalars,
    write_tensor_scalars,
)


def record_spans(data: bytes) -> list[tuple[int, int]]:
    """(header offset, data length) of each record, by the TFRecord layout (no checks)."""
    spans = []
    pos = 0
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 8], "little")
        if pos + 16 + length > len(data):
            break
        spans.append((pos, length))
        pos += 16 + length
    return spans


def stream_points(stream: ScalarEventStream, chunks: list[bytes]) -> list[ScalarPoint]:
    points: list[ScalarPoint] = []
    for chunk in chunks:
        for batch in stream.feed(chunk):
            points.extend(batch.points())
    return points


def by_tag(points: list[ScalarPoint]) -> dict[str, list[ScalarPoint]]:
    grouped: dict[str, list[ScalarPoint]] = {}
    for point in points:
        grouped.setdefault(point.tag, []).append(point)
    return grouped


def same_points(left: list[ScalarPoint], right: list[ScalarPoint]) -> bool:
    """The same points per tag, in the same order within each tag (NaN equal to NaN)."""
    left_tags, right_tags = by_tag(left), by_tag(right)
    return left_tags.keys() == right_tags.keys() and all(
        len(left_tags[tag]) == len(right_tags[tag])
        and all(
            a.step == b.step and a.wall_time == b.wall_time and same_value(a.value, b.value)
            for a, b in zip(left_tags[tag], right_tags[tag], strict=True)
        )
        for tag in left_tags
    )


def test_reads_exactly_what_tensorboard_reads(large_event_file: Path) -> None:
    assert large_event_file.stat().st_size > MIN_INDEXED_BYTES  # the bulk path is exercised
    series, problems = read_event_file(large_event_file)
    reference = tensorboard_scalars(large_event_file.parent)

    assert problems == []
    assert sorted(series) == sorted(reference)
    for tag, events in reference.items():
        mine = series[tag]
        assert mine.steps.tolist() == [step for step, _, _ in events], tag
        assert mine.wall_times.tolist() == [wall for _, wall, _ in events], tag
        assert all(
            same_value(a, b) for a, b in zip(mine.values.tolist(), [v for _, _, v in events], strict=True)
        )
    loss = series["train_loss_step"]
    assert math.isnan(loss.values[10]) and math.isinf(loss.values[11])
    assert series["big_step"].steps.tolist() == [2**40 + 1]
    assert series["negative_step"].points() == [
        ScalarPoint("negative_step", -5, reference["negative_step"][0][1], -2.5)
    ]


def test_bulk_record_index_finds_the_same_records_as_a_plain_walk(large_event_file: Path) -> None:
    data = large_event_file.read_bytes()
    indexed = index_records(data, 0)

    assert indexed is not None
    starts, lengths, end = indexed
    spans = record_spans(data)
    assert starts.tolist() == [offset + 12 for offset, _ in spans]
    assert lengths.tolist() == [length for _, length in spans]
    assert end == len(data)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_growing_file_read_in_random_pieces_gives_each_point_once(
    large_event_file: Path, seed: int
) -> None:
    data = large_event_file.read_bytes()
    whole = stream_points(ScalarEventStream(), [data])
    rng = random.Random(seed)
    chunks = []
    pos = 0
    while pos < len(data):
        size = rng.choice([1, 3, 17, 61, 500, 4096, MIN_INDEXED_BYTES + 999])  # both framing paths
        chunks.append(data[pos : pos + size])
        pos += size

    stream = ScalarEventStream()
    pieces = stream_points(stream, chunks)

    assert same_points(pieces, whole)
    assert len(whole) == sum(1 for _ in record_spans(data)) - 1  # every record but file_version
    assert stream.problems == [] and stream.records.buffered_bytes == 0


def test_a_record_arriving_byte_by_byte_is_returned_once_when_complete(small_event_file: Path) -> None:
    data = small_event_file.read_bytes()
    offset, length = record_spans(data)[1]
    stream = TFRecordStream()
    stream.feed(data[:offset])
    returned: list[tuple[int, bytes]] = []
    for index in range(offset, offset + 16 + length):
        batch = stream.feed(data[index : index + 1])
        returned.extend((index, bytes(record)) for record in batch)

    assert returned == [(offset + 16 + length - 1, data[offset + 12 : offset + 12 + length])]
    assert stream.offset == offset + 16 + length


@pytest.mark.parametrize("as_content", [False, True])
def test_tensor_encoded_scalars_of_every_common_dtype(tmp_path: Path, as_content: bool) -> None:
    dtypes = ["float32", "float64", "float16", "int32", "int64"]
    points = []
    for step in range(30):
        for dtype in dtypes:
            value = -3 - step if dtype.startswith("int") else 0.5 + step / 8
            points.append((f"metric_{dtype}", step, value, dtype))
    points.append(("metric_int64", 30, 2**40 + 3, "int64"))
    path = write_tensor_scalars(tmp_path, points, as_content=as_content)

    series, problems = read_event_file(path)
    reference = tensorboard_tensor_scalars(tmp_path)

    assert problems == []
    assert sorted(series) == sorted(reference) == sorted(f"metric_{dtype}" for dtype in dtypes)
    for tag, expected in reference.items():
        assert list(zip(series[tag].steps.tolist(), series[tag].values.tolist(), strict=True)) == expected


def test_tensors_that_are_not_scalars_are_ignored(tmp_path: Path) -> None:
    write_tensor_scalars(
        tmp_path, [("hist", 1, 1.0, "float32"), ("hist", 2, 2.0, "float32")], plugin="histograms", suffix=".a"
    )
    write_tensor_scalars(tmp_path, [("loss", 1, 0.5, "float32")], suffix=".b")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    writer = EventFileWriter(str(tmp_path), filename_suffix=".c")
    vector = summary_pb2.Summary.Value(
        tag="vector", tensor=tensor_util.make_tensor_proto(np.ones(3, np.float32))
    )
    text = summary_pb2.Summary.Value(tag="note", tensor=tensor_util.make_tensor_proto(np.array(b"hello")))
    writer.add_event(
        event_pb2.Event(step=1, wall_time=1.0, summary=summary_pb2.Summary(value=[vector, text]))
    )
    writer.close()

    tags = set()
    for path in sorted(tmp_path.glob("events.out.tfevents.*")):
        series, problems = read_event_file(path)
        assert problems == []
        tags |= set(series)
    assert tags == {"loss"}


def flipped(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x5A]) + data[position + 1 :]


@pytest.fixture(params=["small", "large"])
def event_file(request: pytest.FixtureRequest, small_event_file: Path, large_event_file: Path) -> Path:
    """Both a file read record by record and one read in bulk."""
    return small_event_file if request.param == "small" else large_event_file


@pytest.mark.parametrize("where", ["data", "length", "length_crc", "data_crc"])
def test_a_corrupt_record_is_skipped_with_a_warning_and_the_rest_is_read(
    event_file: Path, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = event_file.read_bytes()
    spans = record_spans(data)
    victim = len(spans) // 2
    offset, length = spans[victim]
    position = {
        "data": offset + 12 + length // 2,
        "length": offset,
        "length_crc": offset + 9,
        "data_crc": offset + 12 + length + 1,
    }[where]
    intact = stream_points(ScalarEventStream(), [data])
    lost = stream_points(ScalarEventStream(), [data[offset : offset + 16 + length]])

    stream = ScalarEventStream(str(event_file))
    with caplog.at_level(logging.WARNING):
        points = stream_points(stream, [flipped(data, position)])

    assert len(stream.problems) == 1
    problem = stream.problems[0]
    assert problem.source == str(event_file) and problem.offset == offset
    assert str(event_file) in caplog.text and f"byte offset {offset}" in caplog.text
    assert len(lost) == 1 and len(points) == len(intact) - 1
    assert same_points(points, [point for point in intact if point != lost[0]])


def test_garbage_between_records_is_skipped(small_event_file: Path) -> None:
    data = small_event_file.read_bytes()
    offset, _ = record_spans(data)[5]
    damaged = data[:offset] + bytes(range(200, 256)) * 3 + data[offset:]

    stream = ScalarEventStream("run.tfevents")
    points = stream_points(stream, [damaged[i : i + 7] for i in range(0, len(damaged), 7)])

    assert same_points(points, stream_points(ScalarEventStream(), [data]))
    assert [(problem.source, problem.offset) for problem in stream.problems] == [("run.tfevents", offset)]


@pytest.mark.parametrize("cut_inside", ["header", "data"])
def test_a_truncated_file_gives_the_complete_records_and_reports_the_rest(
    small_event_file: Path, cut_inside: str
) -> None:
    data = small_event_file.read_bytes()
    offset, length = record_spans(data)[-1]
    cut = offset + (5 if cut_inside == "header" else 12 + length // 2)
    stream = ScalarEventStream("cut.tfevents")

    points = stream_points(stream, [data[:cut]])
    assert stream.problems == []  # a file may still be growing: nothing to report yet
    stream.finish()

    assert same_points(points, stream_points(ScalarEventStream(), [data])[:-1])
    assert [(problem.offset, "truncated" in problem.message) for problem in stream.problems] == [
        (offset, True)
    ]


@pytest.mark.parametrize("kind", ["simple", "float32", "float64", "float32_content", "float64_content"])
def test_the_common_layouts_are_decoded_in_bulk(tmp_path: Path, small_event_file: Path, kind: str) -> None:
    if kind == "simple":
        path, metadata_records = small_event_file, 0
    else:
        dtype = kind.split("_")[0]
        points = [
            (tag, step, step / 4, dtype) for step in range(20) for tag in ("loss", "img_bbox_NuScenes/mAP")
        ]
        path = write_tensor_scalars(tmp_path, points, as_content=kind.endswith("content"))
        metadata_records = 2  # each tag's first value carries the plugin metadata
    data = path.read_bytes()
    batch = TFRecordStream().feed(data)

    fast = decode_fast(np.frombuffer(data, dtype=np.uint8), batch.starts, batch.lengths)

    assert fast.rows.size == len(batch) - 1 - metadata_records  # all but file_version and metadata
    assert sorted(fast.tags) == sorted({point.tag for point in stream_points(ScalarEventStream(), [data])})
