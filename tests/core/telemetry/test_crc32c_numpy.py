"""Vectorised CRC32C against google-crc32c, and the bulk record index on damaged buffers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from google_crc32c import value as crc32c

from app.core.telemetry.crc32c_numpy import mask_crcs, masked_crc32c, record_crcs
from app.core.telemetry.record_index import index_records


def test_record_crcs_equal_google_crc32c_for_every_length() -> None:
    rng = np.random.default_rng(5)
    buffer = rng.integers(0, 256, size=400_000, dtype=np.uint8).tobytes()
    lengths = np.concatenate([np.repeat(np.arange(0, 140), 70), rng.integers(0, 4000, size=300)])
    starts = rng.integers(0, len(buffer) - 4000, size=lengths.size)

    computed = record_crcs(buffer, starts.astype(np.int64), lengths.astype(np.int64))

    expected = [crc32c(buffer[start : start + length]) for start, length in zip(starts, lengths, strict=True)]
    assert computed.tolist() == expected
    masked = mask_crcs(computed[:50])
    assert masked.tolist() == [
        masked_crc32c(buffer[s : s + n]) for s, n in zip(starts[:50], lengths[:50], strict=True)
    ]


def test_the_bulk_index_declines_a_buffer_with_a_damaged_header(large_event_file: Path) -> None:
    data = bytearray(large_event_file.read_bytes())
    assert index_records(bytes(data), 0) is not None
    pos = 0
    for _ in range(3000):  # walk to a header in the middle of the file
        pos += 16 + int.from_bytes(data[pos : pos + 8], "little")
    data[pos + 1] ^= 0x01  # the record's length is now wrong, and so is its checksum

    assert index_records(bytes(data), 0) is None
