"""TensorBoard event files written by hand: TFRecord framing with masked CRC32C around Event protos."""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path
from typing import BinaryIO

from . import protobuf as pb


def _crc32c_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of data."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC that TFRecord stores after the length and after the payload."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(payload: bytes) -> bytes:
    """One TFRecord: length, CRC of the length, payload, CRC of the payload."""
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )


def scalar_event(tag: str, value: float, step: int, wall_time: float) -> bytes:
    """An Event proto holding one Summary.Value with simple_value, as add_scalar writes it."""
    summary_value = pb.string_field(1, tag) + pb.float_field(2, value)
    summary = pb.bytes_field(1, summary_value)
    return pb.double_field(1, wall_time) + pb.int_field(2, step) + pb.bytes_field(5, summary)


def version_event(wall_time: float) -> bytes:
    """The first Event of every file: file_version "brain.Event:2"."""
    return pb.double_field(1, wall_time) + pb.string_field(3, "brain.Event:2")


class EventFileWriter:
    """Appends scalar events to `events.out.tfevents.<time>.<host>.<pid>.0` in a log folder."""

    def __init__(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        now = time.time()
        name = f"events.out.tfevents.{int(now)}.{socket.gethostname()}.{os.getpid()}.0"
        self.path = log_dir / name
        self._file: BinaryIO = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        self._file.write(tfrecord(version_event(now)))
        self._file.flush()

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        """Write one scalar (buffered until flush)."""
        self._file.write(tfrecord(scalar_event(tag, float(value), step, time.time())))

    def add_scalars(self, values: dict[str, float], step: int) -> None:
        """Write several scalars at the same step, one event each (as Lightning's logger does)."""
        for tag, value in values.items():
            self.add_scalar(tag, value, step)

    def flush(self) -> None:
        """Make everything written so far visible to readers."""
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()
