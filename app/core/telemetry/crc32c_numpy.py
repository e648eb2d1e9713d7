"""CRC32C (Castagnoli) of many records at once, and TFRecord's masking.

CRC32C is affine in its input: for messages of a fixed length n,
crc(m) = crc(0^n) XOR (XOR over byte pairs p of table_d[p]), where table_d gives the effect of a
byte pair followed by d zero bytes. With those tables the CRCs of all equal-length records of a
batch are computed with one numpy lookup per byte pair and record, instead of one Python call per
record. Long records and small groups use google-crc32c's C implementation record by record.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
from google_crc32c import value as crc32c
from numpy.lib.stride_tricks import sliding_window_view

MASK_DELTA = 0xA282EAD8
_POLYNOMIAL = 0x82F63B78  # CRC32C, reflected
_MAX_TABLED_LENGTH = 128  # pair tables are 256 KiB each: at most 64 of them
_MIN_GROUP = 64
_ROWS_PER_PASS = 65536

_IntArray = npt.NDArray[np.int64]
_U32Array = npt.NDArray[np.uint32]


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC32C of `data`."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def mask_crcs(crc: _U32Array) -> _U32Array:
    """TFRecord's masking applied to raw CRC32C values."""
    return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(MASK_DELTA)


def record_crcs(buffer: bytes, starts: _IntArray, lengths: _IntArray) -> _U32Array:
    """Raw CRC32C of buffer[starts[i] : starts[i] + lengths[i]] for every i."""
    result = np.empty(starts.size, dtype=np.uint32)
    if not starts.size:
        return result
    u8 = np.frombuffer(buffer, dtype=np.uint8)
    counts = np.bincount(np.minimum(lengths, _MAX_TABLED_LENGTH + 1), minlength=_MAX_TABLED_LENGTH + 2)
    tabled = np.flatnonzero(counts[: _MAX_TABLED_LENGTH + 1] >= _MIN_GROUP)
    by_record = np.ones(starts.size, dtype=bool)
    for length in tabled.tolist():
        rows = np.flatnonzero(lengths == length)
        for low in range(0, rows.size, _ROWS_PER_PASS):  # bounds the temporary byte matrix
            part = rows[low : low + _ROWS_PER_PASS]
            result[part] = equal_length_crcs(u8, starts[part], length)
        by_record[rows] = False
    for row in np.flatnonzero(by_record).tolist():
        start = int(starts[row])
        result[row] = crc32c(buffer[start : start + int(lengths[row])])
    return result


def equal_length_crcs(u8: npt.NDArray[np.uint8], starts: _IntArray, length: int) -> _U32Array:
    """Raw CRC32C of u8[start : start + length] for each start (all rows the same length)."""
    crc = np.full(starts.size, _zero_crc(length), dtype=np.uint32)
    if length == 0:
        return crc
    rows = sliding_window_view(u8, length)[starts]
    first = length % 2
    if first:
        crc ^= _byte_table(length - 1)[rows[:, 0]]
    if length > first:
        pairs = np.ascontiguousarray(rows[:, first:]).view("<u2")
        for column in range(pairs.shape[1]):
            crc ^= _pair_table(length - first - 2 * column - 2)[pairs[:, column]]
    return crc


@functools.cache
def _zero_crc(length: int) -> int:
    return crc32c(bytes(length))


@functools.cache
def _byte_table(distance: int) -> _U32Array:
    """The CRC register effect of a byte followed by `distance` zero bytes (linear part)."""
    if distance == 0:
        table = np.arange(256, dtype=np.uint32)
        for _ in range(8):
            table = (table >> np.uint32(1)) ^ np.where(table & 1, np.uint32(_POLYNOMIAL), np.uint32(0))
        return table
    previous = _byte_table(distance - 1)
    return _byte_table(0)[previous & 0xFF] ^ (previous >> np.uint32(8))


@functools.cache
def _pair_table(distance: int) -> _U32Array:
    """Same for a little-endian byte pair (first byte at distance + 1), indexed by the uint16."""
    return (_byte_table(distance + 1)[None, :] ^ _byte_table(distance)[:, None]).ravel()
