"""Find TFRecord boundaries in a large buffer without a Python loop per record.

Records are chained (each header gives the next record's position), which makes the walk
sequential. Here the buffer is cut into segments: at evenly spaced guesses the first position
holding a valid record header becomes an anchor, and all segments are walked in lockstep with
numpy, one record per segment per step. The result is trusted only if every segment's walk ends
exactly on the next anchor and every header checksum is valid; otherwise the caller falls back to
the sequential reader, which also reports and skips corruption.
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from app.core.telemetry.crc32c_numpy import equal_length_crcs, mask_crcs, masked_crc32c

MAX_RECORD_BYTES = 256 << 20
HEADER_BYTES = 12
FOOTER_BYTES = 4
MIN_INDEXED_BYTES = 256 << 10  # smaller buffers are walked record by record
_SEGMENT_BYTES = 16 << 10
_ANCHOR_WINDOW = 256
_LENGTH_TABLE_LIMIT = 1 << 20
_MAX_SCAN_WINDOW = 1 << 20

_IntArray = npt.NDArray[np.int64]
_U32Array = npt.NDArray[np.uint32]


def u32_at(u8: npt.NDArray[np.uint8], positions: _IntArray) -> _U32Array:
    """Little-endian uint32 at each position."""
    value = u8[positions].astype(np.uint32)
    for shift in (1, 2, 3):
        value |= u8[positions + shift].astype(np.uint32) << np.uint32(8 * shift)
    return value


def index_records(buffer: bytes, start: int) -> tuple[_IntArray, _IntArray, int] | None:
    """Data starts and lengths of the complete records from `start` (a record boundary), and the
    position after the last one; None when the buffer is small or anything does not add up."""
    u8 = np.frombuffer(buffer, dtype=np.uint8)
    end = u8.size
    if end - start < MIN_INDEXED_BYTES:
        return None
    anchors = _anchors(u8, start, end)
    walked = _walk_segments(u8, anchors, end)
    if walked is None:
        return None
    positions, lengths, resume = walked
    if not _headers_valid(u8, positions, lengths):
        return None
    return positions + HEADER_BYTES, lengths, resume


def _anchors(u8: npt.NDArray[np.uint8], start: int, end: int) -> _IntArray:
    """`start`, then the first valid-looking header after each evenly spaced guess."""
    count = (end - start) // _SEGMENT_BYTES
    guesses = start + (np.arange(1, count, dtype=np.int64) * (end - start)) // count
    guesses = guesses[guesses + _ANCHOR_WINDOW + HEADER_BYTES <= end]
    candidates = (guesses[:, None] + np.arange(_ANCHOR_WINDOW)).ravel()
    plausible = ~sliding_window_view(u8, 5)[candidates + 3].any(axis=1)  # length < 16 MiB
    candidates = candidates[plausible]
    candidates = candidates[_valid_headers(u8, candidates)]
    # First valid candidate per guess; later guesses' candidates sort after earlier ones.
    owner = np.searchsorted(guesses, candidates, side="right") - 1
    firsts = candidates[np.unique(owner, return_index=True)[1]]
    return np.unique(np.concatenate(([start], firsts)))


def _walk_segments(
    u8: npt.NDArray[np.uint8], anchors: _IntArray, end: int
) -> tuple[_IntArray, _IntArray, int] | None:
    """Walk every segment to the next anchor; header positions and lengths in file order."""
    limits = np.append(anchors[1:], end)
    pos = anchors.copy()
    length_words = sliding_window_view(u8, 8)
    active = np.arange(anchors.size)
    found_segment: list[_IntArray] = []
    found_position: list[_IntArray] = []
    found_length: list[_IntArray] = []
    while active.size:
        here = pos[active]
        has_header = here + HEADER_BYTES <= end
        lengths = np.zeros(here.size, dtype=np.int64)
        lengths[has_header] = length_words[here[has_header]].copy().view("<u8")[:, 0].astype(np.int64)
        stops = here + HEADER_BYTES + lengths + FOOTER_BYTES
        complete = has_header & (lengths >= 0) & (lengths <= MAX_RECORD_BYTES) & (stops <= end)
        if (~complete & (limits[active] != end)).any():
            return None  # a segment other than the last cannot reach its anchor
        stops = np.where(complete, stops, here)
        if (stops > limits[active]).any():
            return None  # walked past the next anchor: the anchor or a header is wrong
        found_segment.append(active[complete])
        found_position.append(here[complete])
        found_length.append(lengths[complete])
        pos[active] = stops
        active = active[complete & (stops < limits[active])]
    return (*_in_file_order(found_segment, found_position, found_length, anchors.size), int(pos[-1]))


def _in_file_order(
    segments: list[_IntArray], positions: list[_IntArray], lengths: list[_IntArray], segment_count: int
) -> tuple[_IntArray, _IntArray]:
    """Step j of segment k goes to slot offset[k] + j (segments are consecutive in the file)."""
    if not segments:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    steps = np.concatenate([np.full(part.size, index, dtype=np.int64) for index, part in enumerate(segments)])
    segment = np.concatenate(segments)
    offsets = np.zeros(segment_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(segment, minlength=segment_count), out=offsets[1:])
    slots = offsets[segment] + steps
    ordered_positions = np.empty(slots.size, dtype=np.int64)
    ordered_lengths = np.empty(slots.size, dtype=np.int64)
    ordered_positions[slots] = np.concatenate(positions)
    ordered_lengths[slots] = np.concatenate(lengths)
    return ordered_positions, ordered_lengths


def _headers_valid(u8: npt.NDArray[np.uint8], positions: _IntArray, lengths: _IntArray) -> bool:
    """Every header's length checksum matches (one CRC per distinct length)."""
    if not positions.size:
        return True
    stored = u32_at(u8, positions + 8)
    top = int(lengths.max())
    if top < _LENGTH_TABLE_LIMIT:
        present = np.zeros(top + 1, dtype=bool)
        present[lengths] = True
        distinct = np.flatnonzero(present)
    else:
        distinct = np.unique(lengths)
    expected = np.array([masked_crc32c(struct.pack("<Q", int(n))) for n in distinct], dtype=np.uint32)
    return bool(np.array_equal(expected[np.searchsorted(distinct, lengths)], stored))


def find_record_header(buffer: bytes, start: int) -> int | None:
    """The first position >= start holding a record header with a valid length checksum and a
    plausible length (vectorised over growing windows of the buffer)."""
    u8 = np.frombuffer(buffer, dtype=np.uint8)
    window = 4096
    while start + HEADER_BYTES <= u8.size:
        stop = min(u8.size, start + window + HEADER_BYTES - 1)
        positions = np.arange(start, stop - HEADER_BYTES + 1, dtype=np.int64)
        for hit in positions[_valid_headers(u8, positions)].tolist():
            if int.from_bytes(buffer[hit : hit + 8], "little") <= MAX_RECORD_BYTES:
                return int(hit)
        start = stop - HEADER_BYTES + 1
        window = min(window * 4, _MAX_SCAN_WINDOW)
    return None


def _valid_headers(u8: npt.NDArray[np.uint8], positions: _IntArray) -> npt.NDArray[np.bool_]:
    """Whether the 12 bytes at each position are a header whose length checksum matches."""
    return mask_crcs(equal_length_crcs(u8, positions, 8)) == u32_at(u8, positions + 8)
