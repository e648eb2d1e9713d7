"""Just enough protocol-buffer wire encoding for TensorBoard events and ONNX-shaped model files."""

from __future__ import annotations

import struct

_VARINT = 0
_FIXED64 = 1
_LENGTH_DELIMITED = 2
_FIXED32 = 5


def varint(value: int) -> bytes:
    """Encode an unsigned (or two's-complement 64-bit) integer as a base-128 varint."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def int_field(field: int, value: int) -> bytes:
    """An int32/int64/enum/bool field."""
    return _key(field, _VARINT) + varint(value)


def double_field(field: int, value: float) -> bytes:
    """A double field."""
    return _key(field, _FIXED64) + struct.pack("<d", value)


def float_field(field: int, value: float) -> bytes:
    """A float field."""
    return _key(field, _FIXED32) + struct.pack("<f", value)


def bytes_field(field: int, value: bytes) -> bytes:
    """A bytes or embedded-message field."""
    return _key(field, _LENGTH_DELIMITED) + varint(len(value)) + value


def string_field(field: int, value: str) -> bytes:
    """A string field (UTF-8)."""
    return bytes_field(field, value.encode("utf-8"))
