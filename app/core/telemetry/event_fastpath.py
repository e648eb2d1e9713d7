"""Vectorised decoding of the common one-scalar Event layouts, many records at a time.

Nearly every record in a training run's event file is one scalar, serialised by the writer as

    09 <wall_time f64> [10 <step varint>] 2a <len> 0a <len> 0a <tag len> <tag>
        ( 15 <f32>                                         simple_value
        | 42 <len> 08 <dtype> 12 00 <field> <len> <value>  rank-0 float/double tensor, no metadata )

with every length fitting one byte. Instead of walking each record in Python, the bytes of a whole
batch are checked against this layout with numpy and the step, wall time, value and tag are cut
out at per-record offsets. Records that do not match (file_version, metadata, histograms, long
tags ...) are left to the general decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

MAX_FAST_RECORD = 140  # every nested length must fit one varint byte
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

_IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class FastScalars:
    """Scalars cut out of the records that matched a fast layout (`rows` index the batch)."""

    rows: _IntArray
    tag_ids: _IntArray
    tags: list[str]
    from_tensor: npt.NDArray[np.bool_]
    steps: _IntArray
    wall_times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]


def decode_fast(u8: npt.NDArray[np.uint8], starts: _IntArray, lengths: _IntArray) -> FastScalars:
    """Decode the records data[starts[i] : starts[i] + lengths[i]] that match a fast layout."""
    head = _gather(u8, starts, 20)
    ok = (lengths >= 13) & (lengths <= MAX_FAST_RECORD) & (head[:, 0] == 0x09)
    wall_times = head[:, 1:9].copy().view("<f8")[:, 0]

    has_step = head[:, 9] == 0x10
    steps, width = _varints(head[:, 10:20])
    ok &= ~has_step | (width > 0)
    steps = np.where(has_step, steps, 0)
    pos = np.where(has_step, 10 + width, 9)

    frame = _gather(u8, starts + pos, 6).astype(np.int64)
    ok &= (frame[:, 0] == 0x2A) & (frame[:, 1] < 0x80) & (pos + 2 + frame[:, 1] == lengths)
    ok &= (frame[:, 2] == 0x0A) & (frame[:, 3] < 0x80) & (pos + 4 + frame[:, 3] == lengths)
    ok &= (frame[:, 4] == 0x0A) & (frame[:, 5] < 0x80)
    tag_starts = starts + pos + 6
    tag_lengths = frame[:, 5]
    after_tag = pos + 6 + tag_lengths

    tail = _gather(u8, starts + after_tag, 16)
    simple = (tail[:, 0] == 0x15) & (after_tag + 5 == lengths)
    values = tail[:, 1:5].copy().view("<f4")[:, 0].astype(np.float64)
    is_tensor = _tensor_layout(tail, after_tag, lengths) & ~simple
    tensor_f32 = is_tensor & (tail[:, 3] == 1)
    tensor_f64 = is_tensor & (tail[:, 3] == 2)
    if tensor_f32.any():
        values = np.where(tensor_f32, tail[:, 8:12].copy().view("<f4")[:, 0].astype(np.float64), values)
    if tensor_f64.any():
        values = np.where(tensor_f64, tail[:, 8:16].copy().view("<f8")[:, 0], values)
    ok &= simple | is_tensor

    rows = np.flatnonzero(ok)
    tag_ids, tags, matched = _group_tags(u8, tag_starts[rows], tag_lengths[rows])
    rows, tag_ids = rows[matched], tag_ids[matched]
    return FastScalars(
        rows=rows,
        tag_ids=tag_ids,
        tags=tags,
        from_tensor=is_tensor[rows],
        steps=steps[rows],
        wall_times=wall_times[rows],
        values=values[rows],
    )


def _varints(columns: npt.NDArray[np.uint8]) -> tuple[_IntArray, _IntArray]:
    """Decode a varint at the start of each row; width 0 means no terminating byte in the row."""
    ends = (columns & 0x80) == 0
    width = np.where(ends.any(axis=1), np.argmax(ends, axis=1) + 1, 0)
    result = np.zeros(columns.shape[0], dtype=np.uint64)
    for index in range(int(width.max(initial=0))):
        part = (columns[:, index] & 0x7F).astype(np.uint64) << np.uint64(7 * index)
        result |= np.where(index < width, part, np.uint64(0))
    return result.view(np.int64), width


def _tensor_layout(
    tail: npt.NDArray[np.uint8], after_tag: _IntArray, lengths: _IntArray
) -> npt.NDArray[np.bool_]:
    """42 <len> 08 <1|2> 12 00 <2a|32|22> <4|8> <value>, ending the record (no metadata)."""
    dtype = tail[:, 3]
    width = np.where(dtype == 1, 4, 8)
    value_field = tail[:, 6]
    packed_match = ((dtype == 1) & (value_field == 0x2A)) | ((dtype == 2) & (value_field == 0x32))
    return (
        (tail[:, 0] == 0x42)
        & (tail[:, 1] == 6 + width)
        & (tail[:, 2] == 0x08)
        & ((dtype == 1) | (dtype == 2))
        & (tail[:, 4] == 0x12)
        & (tail[:, 5] == 0x00)
        & (packed_match | (value_field == 0x22))
        & (tail[:, 7] == width)
        & (after_tag + 8 + width == lengths)
    )


def _gather(u8: npt.NDArray[np.uint8], starts: _IntArray, width: int) -> npt.NDArray[np.uint8]:
    """Bytes starts[i] .. starts[i] + width - 1 of every row, zeros past the end of the buffer.

    Rows only use bytes inside their own record (the layout checks compare every offset with the
    record's length), so the padding never reaches an accepted row."""
    last_start = u8.size - width
    if last_start < 0:
        rows = np.zeros((starts.size, width), dtype=np.uint8)
    else:
        rows = sliding_window_view(u8, width)[np.minimum(starts, last_start)]
    for row in np.flatnonzero(starts > last_start).tolist():
        piece = u8[starts[row] : starts[row] + width]
        rows[row, : piece.size] = piece
        rows[row, piece.size :] = 0
    return rows


def _group_tags(
    u8: npt.NDArray[np.uint8], tag_starts: _IntArray, tag_lengths: _IntArray
) -> tuple[_IntArray, list[str], npt.NDArray[np.bool_]]:
    """Give each row a tag id; rows whose bytes differ from their hash group's first row are
    marked unmatched (a hash collision) and left to the general decoder."""
    count = tag_starts.size
    tag_ids = np.zeros(count, dtype=np.int64)
    matched = np.ones(count, dtype=bool)
    tags: list[str] = []
    for length in np.unique(tag_lengths).tolist():
        rows = np.flatnonzero(tag_lengths == length)
        padded = -(-max(length, 1) // 8) * 8
        raw = np.zeros((rows.size, padded), dtype=np.uint8)
        if length:
            raw[:, :length] = _gather(u8, tag_starts[rows], length)
        words = raw.view(np.uint64)
        hashed = words[:, 0].copy()
        for column in range(1, words.shape[1]):
            hashed = hashed * _HASH_MULTIPLIER + words[:, column]
        _, first, inverse = np.unique(hashed, return_index=True, return_inverse=True)
        same = (words == words[first[inverse]]).all(axis=1)
        matched[rows[~same]] = False
        base = len(tags)
        tags.extend(bytes(raw[row, :length]).decode("utf-8", "replace") for row in first.tolist())
        tag_ids[rows] = base + inverse.ravel()
    return tag_ids, tags, matched
