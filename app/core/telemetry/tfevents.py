"""Incremental readers for TensorBoard event files (TFRecord framing, Event protos, scalars).

A TFRecord is `uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)`
(little-endian). `TFRecordStream` turns bytes into records as they arrive: a record cut mid-write
is held back and completed by the next chunk, both checksums are verified, and a corrupt record is
reported (file and byte offset) and skipped. `ScalarEventStream` decodes the records' scalar
summaries (`simple_value` and one-element numeric tensors) into per-tag batches of numpy arrays.
Neither needs TensorFlow, TensorBoard or a protobuf runtime.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from google_crc32c import value as crc32c

from app.core.telemetry.crc32c_numpy import mask_crcs, masked_crc32c, record_crcs
from app.core.telemetry.event_decode import SCALARS_PLUGIN, MalformedEvent, decode_event_scalars
from app.core.telemetry.event_fastpath import FastScalars, decode_fast
from app.core.telemetry.problems import ReadProblem, report
from app.core.telemetry.record_index import (
    FOOTER_BYTES,
    HEADER_BYTES,
    MAX_RECORD_BYTES,
    find_record_header,
    index_records,
    u32_at,
)
from app.core.telemetry.series import ScalarPoint, ScalarSeries

_HEADER = struct.Struct("<QI")
_DECODE_BATCH = 65536
_EMPTY = np.empty(0, dtype=np.int64)

_IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RecordBatch:
    """Records framed from one feed: record i is buffer[starts[i] : starts[i] + lengths[i]]."""

    buffer: bytes
    starts: _IntArray
    lengths: _IntArray
    base_offset: int

    def __len__(self) -> int:
        return int(self.starts.size)

    def __getitem__(self, index: int) -> bytes:
        start = int(self.starts[index])
        return self.buffer[start : start + int(self.lengths[index])]

    def __iter__(self) -> Iterator[bytes]:
        for index in range(len(self)):
            yield self[index]

    def file_offset(self, index: int) -> int:
        """Byte offset in the file of record `index`'s header."""
        return self.base_offset + int(self.starts[index]) - HEADER_BYTES


class TFRecordStream:
    """Bytes in, checked TFRecords out, for a file that may still be growing.

    `feed(chunk)` takes the next bytes of the file (any size, cut anywhere) and returns the records
    completed by them; a partial record is kept and retried with the next chunk. A record whose
    data checksum fails is skipped; a header whose length checksum fails makes the stream scan
    forward byte by byte for the next valid header. Both are reported in `problems` (and logged)
    with the file name and byte offset.
    """

    def __init__(self, source_name: str = "<stream>", start_offset: int = 0) -> None:
        self.source_name = source_name
        self.problems: list[ReadProblem] = []
        self._pending = b""
        self._pending_offset = start_offset
        self._chunks: list[bytes] = []
        self._chunk_bytes = 0
        self._needed = HEADER_BYTES
        self._resyncing = False
        self._length_crcs: dict[int, int] = {}

    @property
    def offset(self) -> int:
        """File offset of the first byte not yet turned into records (held back or unread)."""
        return self._pending_offset

    @property
    def buffered_bytes(self) -> int:
        """Bytes received but not yet part of a complete record."""
        return len(self._pending) + self._chunk_bytes

    def feed(self, chunk: bytes) -> RecordBatch:
        """Add the next bytes of the file; return the records they complete."""
        if chunk:
            self._chunks.append(bytes(chunk))
            self._chunk_bytes += len(chunk)
        if len(self._pending) + self._chunk_bytes < self._needed:
            return RecordBatch(b"", _EMPTY, _EMPTY, self._pending_offset)
        buffer = b"".join([self._pending, *self._chunks])
        self._chunks.clear()
        self._chunk_bytes = 0
        base = self._pending_offset
        starts, lengths, consumed = self._frame(buffer)
        self._pending = buffer[consumed:]
        self._pending_offset = base + consumed
        return RecordBatch(buffer, starts, lengths, base)

    def finish(self) -> None:
        """Declare the file complete: a held-back partial record is reported as truncated."""
        if self.buffered_bytes and not self._resyncing:
            report(
                self.problems,
                ReadProblem(
                    self.source_name,
                    f"truncated record ({self.buffered_bytes} bytes at the end of the file are "
                    "not a complete record)",
                    offset=self._pending_offset,
                ),
            )

    def _frame(self, buffer: bytes) -> tuple[_IntArray, _IntArray, int]:
        """Split `buffer` into complete records; return their starts, lengths and bytes consumed."""
        pos = self._scan(buffer, 0) if self._resyncing else 0
        indexed = None if self._resyncing else index_records(buffer, pos)
        if indexed is None:
            return self._frame_one_by_one(buffer, pos)
        index_starts, index_lengths, pos = indexed
        index_starts, index_lengths = self._checked(
            buffer, index_starts, index_lengths, record_crcs(buffer, index_starts, index_lengths)
        )
        rest_starts, rest_lengths, consumed = self._frame_one_by_one(buffer, pos)
        starts = np.concatenate((index_starts, rest_starts))
        return starts, np.concatenate((index_lengths, rest_lengths)), consumed

    def _frame_one_by_one(self, buffer: bytes, pos: int) -> tuple[_IntArray, _IntArray, int]:
        """The sequential walk: checks every header, reports corruption and resynchronises."""
        end = len(buffer)
        starts: list[int] = []
        lengths: list[int] = []
        crcs: list[int] = []
        known = self._length_crcs
        unpack_header = _HEADER.unpack_from
        while pos + HEADER_BYTES <= end:
            length, length_crc = unpack_header(buffer, pos)
            if known.get(length) != length_crc:
                if length > MAX_RECORD_BYTES or masked_crc32c(buffer[pos : pos + 8]) != length_crc:
                    self.report_problem(
                        self._pending_offset + pos,
                        "corrupt record header (length checksum mismatch); "
                        "skipping forward to the next valid record",
                    )
                    self._resyncing = True
                    pos = self._scan(buffer, pos + 1)
                    continue
                if len(known) > 4096:
                    known.clear()
                known[length] = length_crc
            data_start = pos + HEADER_BYTES
            stop = data_start + length + FOOTER_BYTES
            if stop > end:
                self._needed = stop - pos
                break
            starts.append(data_start)
            lengths.append(length)
            crcs.append(crc32c(buffer[data_start : data_start + length]))
            pos = stop
        else:
            self._needed = HEADER_BYTES
        checked_starts, checked_lengths = self._checked(
            buffer,
            np.array(starts, dtype=np.int64),
            np.array(lengths, dtype=np.int64),
            np.array(crcs, dtype=np.uint32),
        )
        return checked_starts, checked_lengths, pos

    def _checked(
        self, buffer: bytes, starts: _IntArray, lengths: _IntArray, crcs: npt.NDArray[np.uint32]
    ) -> tuple[_IntArray, _IntArray]:
        """Drop (and report) the records whose data checksum does not match."""
        if not starts.size:
            return _EMPTY, _EMPTY
        stored = u32_at(np.frombuffer(buffer, dtype=np.uint8), starts + lengths)
        bad = mask_crcs(crcs) != stored
        if not bad.any():
            return starts, lengths
        for index in np.flatnonzero(bad).tolist():
            self.report_problem(
                self._pending_offset + int(starts[index]) - HEADER_BYTES,
                f"corrupt record (data checksum mismatch); skipped its {int(lengths[index])} bytes",
            )
        return starts[~bad], lengths[~bad]

    def _scan(self, buffer: bytes, start: int) -> int:
        """Position of the first valid header at or after `start`; if none is complete yet, keep
        the last 11 bytes (a header may begin there) and stay in resync mode."""
        found = find_record_header(buffer, start)
        if found is None:
            self._needed = HEADER_BYTES
            return max(start, len(buffer) - (HEADER_BYTES - 1))
        self._resyncing = False
        return found

    def report_problem(self, offset: int, message: str) -> None:
        """Record (and log) a problem at byte `offset` of this file."""
        report(self.problems, ReadProblem(self.source_name, message, offset=offset))


@dataclass(frozen=True, slots=True)
class ScalarBatch:
    """New points of one tag, in file order."""

    tag: str
    steps: npt.NDArray[np.int64]
    wall_times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.steps.size)

    def points(self) -> list[ScalarPoint]:
        """The points as tuples."""
        return [
            ScalarPoint(self.tag, int(s), float(w), float(v))
            for s, w, v in zip(self.steps, self.wall_times, self.values, strict=True)
        ]


@dataclass
class _TagParts:
    rows: list[_IntArray] = field(default_factory=list)
    steps: list[_IntArray] = field(default_factory=list)
    wall_times: list[npt.NDArray[np.float64]] = field(default_factory=list)
    values: list[npt.NDArray[np.float64]] = field(default_factory=list)
    from_general: bool = False


class ScalarEventStream:
    """Bytes of one event file in, new scalar points out (`feed(chunk) -> list[ScalarBatch]`)."""

    def __init__(self, source_name: str = "<stream>") -> None:
        self.records = TFRecordStream(source_name)
        self._plugins: dict[str, str] = {}

    @property
    def problems(self) -> list[ReadProblem]:
        """Corrupt or truncated records seen so far."""
        return self.records.problems

    def feed(self, chunk: bytes) -> list[ScalarBatch]:
        """Add the next bytes of the file; return the scalar points they complete, per tag."""
        return self.decode(self.records.feed(chunk))

    def finish(self) -> None:
        """Declare the file complete (reports a truncated last record)."""
        self.records.finish()

    def decode(self, batch: RecordBatch) -> list[ScalarBatch]:
        """Decode the scalars in framed records."""
        if not len(batch):
            return []
        u8 = np.frombuffer(batch.buffer, dtype=np.uint8)
        parts: dict[str, _TagParts] = {}
        for low in range(0, len(batch), _DECODE_BATCH):
            starts = batch.starts[low : low + _DECODE_BATCH]
            lengths = batch.lengths[low : low + _DECODE_BATCH]
            fast = decode_fast(u8, starts, lengths)
            unmatched = np.ones(starts.size, dtype=bool)
            unmatched[fast.rows] = False
            # The general decoder also learns each tag's plugin from its metadata, which decides
            # below whether the tag's tensors are scalars: it must run first.
            self._decode_general(batch, low + np.flatnonzero(unmatched), parts)
            self._collect_fast(fast, low, parts)
        return _assemble(parts)

    def _collect_fast(self, fast: FastScalars, first_row: int, parts: dict[str, _TagParts]) -> None:
        """Split the bulk-decoded points by tag (dropping tensors of tags of other plugins)."""
        not_scalar = np.array(
            [self._plugins.get(tag, SCALARS_PLUGIN) != SCALARS_PLUGIN for tag in fast.tags], dtype=bool
        )
        kept = np.arange(fast.rows.size)
        if not_scalar.any():
            kept = np.flatnonzero(~(not_scalar[fast.tag_ids] & fast.from_tensor))
        ids = fast.tag_ids[kept]
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(len(fast.tags) + 1))
        for tag_id, tag in enumerate(fast.tags):
            chosen = kept[order[bounds[tag_id] : bounds[tag_id + 1]]]
            if not chosen.size:
                continue
            part = parts.setdefault(tag, _TagParts())
            part.rows.append(first_row + fast.rows[chosen])
            part.steps.append(fast.steps[chosen])
            part.wall_times.append(fast.wall_times[chosen])
            part.values.append(fast.values[chosen])

    def _decode_general(self, batch: RecordBatch, rows: _IntArray, parts: dict[str, _TagParts]) -> None:
        found: dict[str, tuple[list[int], list[int], list[float], list[float]]] = {}
        for row in rows.tolist():
            try:
                event = decode_event_scalars(batch[row], self._plugins)
            except (MalformedEvent, struct.error, IndexError) as error:
                self.records.report_problem(
                    batch.file_offset(row), f"record is not a valid Event ({error}); skipped"
                )
                continue
            for tag, value in event.values:
                lists = found.setdefault(tag, ([], [], [], []))
                lists[0].append(row)
                lists[1].append(event.step)
                lists[2].append(event.wall_time)
                lists[3].append(value)
        for tag, (tag_rows, steps, walls, values) in found.items():
            part = parts.setdefault(tag, _TagParts())
            part.rows.append(np.array(tag_rows, dtype=np.int64))
            part.steps.append(np.array(steps, dtype=np.int64))
            part.wall_times.append(np.array(walls, dtype=np.float64))
            part.values.append(np.array(values, dtype=np.float64))
            part.from_general = True


def _assemble(parts: dict[str, _TagParts]) -> list[ScalarBatch]:
    batches: list[tuple[int, ScalarBatch]] = []
    for tag, part in parts.items():
        rows = np.concatenate(part.rows)
        steps = np.concatenate(part.steps)
        walls = np.concatenate(part.wall_times)
        values = np.concatenate(part.values)
        if part.from_general and len(part.rows) > 1:
            order = np.argsort(rows, kind="stable")
            rows, steps, walls, values = rows[order], steps[order], walls[order], values[order]
        batches.append((int(rows[0]), ScalarBatch(tag, steps, walls, values)))
    batches.sort(key=lambda item: item[0])
    return [batch for _, batch in batches]


def read_event_file(
    path: str | Path, chunk_size: int = 16 << 20
) -> tuple[dict[str, ScalarSeries], list[ReadProblem]]:
    """Read every scalar of one local event file (a convenience over `ScalarEventStream`)."""
    stream = ScalarEventStream(str(path))
    series: dict[str, ScalarSeries] = {}
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            for batch in stream.feed(chunk):
                series.setdefault(batch.tag, ScalarSeries(batch.tag)).extend(
                    batch.steps, batch.wall_times, batch.values
                )
    stream.finish()
    return series, stream.problems
