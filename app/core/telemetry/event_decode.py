"""General decoder for the scalars in one serialized TensorFlow `Event` (protobuf wire format).

Only the fields a scalar needs are read; everything else is skipped by its length, so images,
histograms and graphs cost little. No protobuf runtime is needed. Field numbers (from TensorFlow's
event.proto, summary.proto, tensor.proto, tensor_shape.proto):

    Event:        wall_time=1 (double), step=2 (int64), summary=5
    Summary:      value=1 (repeated)
    Value:        tag=1, simple_value=2 (float), node_name=7, tensor=8, metadata=9
    Metadata:     plugin_data=1 {plugin_name=1}, data_class=4 (1 = scalar)
    TensorProto:  dtype=1, tensor_shape=2 {dim=2 {size=1}}, tensor_content=4, float_val=5,
                  double_val=6, int_val=7, int64_val=10, bool_val=11, half_val=13,
                  uint32_val=16, uint64_val=17
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

SCALARS_PLUGIN = "scalars"
_DATA_CLASS_SCALAR = 1

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5

# TensorFlow DataType -> (struct format of one element in tensor_content, typed value field).
_DTYPES: dict[int, tuple[str, int]] = {
    1: ("<f", 5),  # DT_FLOAT, float_val
    2: ("<d", 6),  # DT_DOUBLE, double_val
    3: ("<i", 7),  # DT_INT32, int_val
    4: ("<B", 7),  # DT_UINT8
    5: ("<h", 7),  # DT_INT16
    6: ("<b", 7),  # DT_INT8
    9: ("<q", 10),  # DT_INT64, int64_val
    10: ("<?", 11),  # DT_BOOL, bool_val
    14: ("<H", 13),  # DT_BFLOAT16, half_val (bit pattern)
    17: ("<H", 7),  # DT_UINT16
    19: ("<e", 13),  # DT_HALF, half_val (bit pattern)
    22: ("<I", 16),  # DT_UINT32, uint32_val
    23: ("<Q", 17),  # DT_UINT64, uint64_val
}
_DT_BFLOAT16 = 14
_DT_HALF = 19
_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


class MalformedEvent(ValueError):
    """The bytes are not a well-formed Event message."""


@dataclass(frozen=True, slots=True)
class EventScalars:
    """The scalars found in one Event: shared wall time and step, and (tag, value) pairs."""

    wall_time: float
    step: int
    values: list[tuple[str, float]]


def read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Decode a base-128 varint at `pos`; return (value, position after it)."""
    result = 0
    shift = 0
    while pos < end:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
        if shift >= 70:
            break
    raise MalformedEvent("bad varint")


def iter_fields(data: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield (field number, wire type, value or start, end) for each field in data[pos:end].

    For varints the third item is the value; for fixed-width and length-delimited fields it is the
    start of the payload and the fourth item its end.
    """
    while pos < end:
        key, pos = read_varint(data, pos, end)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = read_varint(data, pos, end)
            yield field, wire, value, pos
        elif wire == _FIXED64:
            yield field, wire, pos, pos + 8
            pos += 8
        elif wire == _LENGTH:
            size, pos = read_varint(data, pos, end)
            yield field, wire, pos, pos + size
            pos += size
        elif wire == _FIXED32:
            yield field, wire, pos, pos + 4
            pos += 4
        else:
            raise MalformedEvent(f"unsupported wire type {wire}")
        if pos > end:
            raise MalformedEvent("field runs past the end of its message")


def decode_event_scalars(data: bytes, plugins: dict[str, str]) -> EventScalars:
    """Decode the scalars of one serialized Event.

    `plugins` maps tag -> plugin name; it is updated from any metadata seen (writers often send the
    metadata only with a tag's first value) and used to tell scalar tensors from other tensors.
    """
    wall_time = 0.0
    step = 0
    values: list[tuple[str, float]] = []
    end = len(data)
    for field, wire, start, stop in iter_fields(data, 0, end):
        if field == 1 and wire == _FIXED64:
            wall_time = _DOUBLE.unpack_from(data, start)[0]
        elif field == 2 and wire == _VARINT:
            step = start - (1 << 64) if start >= 1 << 63 else start
        elif field == 5 and wire == _LENGTH:
            for vfield, vwire, vstart, vstop in iter_fields(data, start, stop):
                if vfield == 1 and vwire == _LENGTH:
                    found = _decode_value(data, vstart, vstop, plugins)
                    if found is not None:
                        values.append(found)
    return EventScalars(wall_time, step, values)


def _decode_value(data: bytes, pos: int, end: int, plugins: dict[str, str]) -> tuple[str, float] | None:
    tag = ""
    node_name = ""
    simple: float | None = None
    tensor: tuple[int, int] | None = None
    for field, wire, start, stop in iter_fields(data, pos, end):
        if field == 1 and wire == _LENGTH:
            tag = data[start:stop].decode("utf-8", "replace")
        elif field == 7 and wire == _LENGTH:
            node_name = data[start:stop].decode("utf-8", "replace")
        elif field == 2 and wire == _FIXED32:
            simple = _FLOAT.unpack_from(data, start)[0]
        elif field == 8 and wire == _LENGTH:
            tensor = (start, stop)
        elif field == 9 and wire == _LENGTH:
            _remember_plugin(data, start, stop, tag or node_name, plugins)
    tag = tag or node_name
    if simple is not None:
        return tag, float(simple)
    if tensor is None or plugins.get(tag, SCALARS_PLUGIN) != SCALARS_PLUGIN:
        return None
    value = _scalar_from_tensor(data, tensor[0], tensor[1], known_scalar=tag in plugins)
    return None if value is None else (tag, value)


def _remember_plugin(data: bytes, pos: int, end: int, tag: str, plugins: dict[str, str]) -> None:
    """Note the tag's plugin: its plugin_name, else "scalars" if its data class says scalar."""
    plugin_name = ""
    scalar_class = False
    for field, wire, start, stop in iter_fields(data, pos, end):
        if field == 1 and wire == _LENGTH:
            for pfield, pwire, pstart, pstop in iter_fields(data, start, stop):
                if pfield == 1 and pwire == _LENGTH:
                    plugin_name = data[pstart:pstop].decode("utf-8", "replace")
        elif field == 4 and wire == _VARINT:
            scalar_class = start == _DATA_CLASS_SCALAR
    if plugin_name:
        plugins[tag] = plugin_name
    elif scalar_class:
        plugins[tag] = SCALARS_PLUGIN


def _scalar_from_tensor(data: bytes, pos: int, end: int, known_scalar: bool) -> float | None:
    """The value of a one-element numeric tensor; None for anything else.

    A rank-0 tensor is a scalar; a one-element tensor of higher rank only when its tag's metadata
    names the scalars plugin.
    """
    dtype = 0
    dims: list[int] = []
    content: tuple[int, int] | None = None
    typed: dict[int, list[tuple[int, int, int, int]]] = {}
    for field, wire, start, stop in iter_fields(data, pos, end):
        if field == 1 and wire == _VARINT:
            dtype = start
        elif field == 2 and wire == _LENGTH:
            dims = _shape_dims(data, start, stop)
        elif field == 4 and wire == _LENGTH:
            content = (start, stop)
        else:
            typed.setdefault(field, []).append((field, wire, start, stop))
    spec = _DTYPES.get(dtype)
    if spec is None or (dims and not known_scalar):
        return None
    size = 1
    for dim in dims:
        size *= dim
    if size != 1:
        return None
    element, value_field = spec
    if content is not None and content[1] > content[0]:
        if content[1] - content[0] < struct.calcsize(element):
            return None
        raw: float | int | bool = struct.unpack_from(element, data, content[0])[0]
    else:
        raw = _first_typed_value(data, typed.get(value_field, []), value_field)
    return _as_float(raw, dtype)


def _shape_dims(data: bytes, pos: int, end: int) -> list[int]:
    dims: list[int] = []
    for field, wire, start, stop in iter_fields(data, pos, end):
        if field == 2 and wire == _LENGTH:
            size = 0
            for dfield, dwire, dstart, _ in iter_fields(data, start, stop):
                if dfield == 1 and dwire == _VARINT:
                    size = dstart - (1 << 64) if dstart >= 1 << 63 else dstart
            dims.append(size)
    return dims


def _first_typed_value(data: bytes, fields: list[tuple[int, int, int, int]], value_field: int) -> float | int:
    """The first element of a repeated value field, packed or not; 0 when absent (as TensorFlow)."""
    if not fields:
        return 0
    _, wire, start, stop = fields[0]
    if value_field == 5:
        return float(_FLOAT.unpack_from(data, start)[0]) if stop - start >= 4 else 0.0
    if value_field == 6:
        return float(_DOUBLE.unpack_from(data, start)[0]) if stop - start >= 8 else 0.0
    if wire == _VARINT:
        return start
    if wire == _LENGTH and stop > start:
        return read_varint(data, start, stop)[0]
    return 0


def _as_float(raw: float | int | bool, dtype: int) -> float:
    if dtype in (3, 5, 6) and isinstance(raw, int):  # int32-like from a varint: sign-extend 32 bits
        raw &= 0xFFFFFFFF
        return float(raw - (1 << 32) if raw >= 1 << 31 else raw)
    if dtype == 9 and isinstance(raw, int) and raw >= 1 << 63:
        return float(raw - (1 << 64))
    if dtype == _DT_HALF and isinstance(raw, int):
        return float(struct.unpack("<e", struct.pack("<H", raw & 0xFFFF))[0])
    if dtype == _DT_BFLOAT16 and isinstance(raw, int):
        return float(struct.unpack("<f", struct.pack("<I", (raw & 0xFFFF) << 16))[0])
    return float(raw)
