"""Readers for what the stand-in writes, for assertions: status.json lines, tfevents, infos pickles."""

from __future__ import annotations

import importlib
import json
import pickle
import struct
from pathlib import Path
from typing import Any

import google_crc32c

# Globals a converted-infos pickle may name: numpy arrays and their dtypes, nothing callable otherwise.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an infos pickle")
        if module.startswith("numpy.core."):
            try:
                return getattr(importlib.import_module(module.replace("numpy.core.", "numpy._core.")), name)
            except ImportError:
                pass
        return getattr(importlib.import_module(module), name)


def load_infos_pickle(path: Path) -> Any:
    """A converted OVPKL pickle, admitting only containers, strings, numbers and numpy arrays."""
    with open(path, "rb") as stream:
        return _ArraysOnlyUnpickler(stream).load()


def status_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a status.json file as a dict (NaN allowed)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _masked_crc(data: bytes) -> int:
    crc = int.from_bytes(google_crc32c.Checksum(data).digest(), "big")
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfevent_scalars(path: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars by tag as (step, value), checking both masked CRC32Cs of every TFRecord."""
    from tensorboard.compat.proto import event_pb2

    data = path.read_bytes()
    offset = 0
    scalars: dict[str, list[tuple[int, float]]] = {}
    while offset < len(data):
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        payload = data[offset + 12 : offset + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[offset + 12 + length : offset + 16 + length])
        if length_crc != _masked_crc(header) or payload_crc != _masked_crc(payload):
            raise ValueError(f"{path}: bad CRC in the record at byte {offset}")
        event = event_pb2.Event.FromString(payload)
        for value in event.summary.value:
            scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
        offset += 16 + length
    return scalars
