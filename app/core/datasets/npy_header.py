"""The header of a ``.npy`` file (format versions 1, 2 and 3), read from its first bytes only.

Layout: the magic ``\\x93NUMPY``, major and minor version bytes, the header length (2 bytes
little-endian in version 1, 4 bytes in 2 and 3), then a Python dict literal (latin-1 in 1 and 2,
UTF-8 in 3) with ``descr``, ``fortran_order`` and ``shape``. The literal is parsed with
``ast.literal_eval``, which evaluates literals only.
"""

from __future__ import annotations

import ast
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"\x93NUMPY"
PREAMBLE_BYTES = 12
MAX_HEADER_BYTES = 1024 * 1024
FIRST_READ_BYTES = 4096


class NpyHeaderError(ValueError):
    """The bytes are not a readable ``.npy`` header; the message says what is wrong."""


@dataclass(frozen=True)
class NpyHeader:
    """What a ``.npy`` header says about the array that follows it."""

    version: tuple[int, int]
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int

    @property
    def data_bytes(self) -> int:
        """How many bytes the array data takes after the header."""
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def expected_file_size(self) -> int:
        """The size of a complete file with this header."""
        return self.data_offset + self.data_bytes


def header_length(preamble: bytes) -> tuple[tuple[int, int], int]:
    """(version, total header bytes including the preamble) from at least the first 12 bytes."""
    if len(preamble) < 10 or not preamble.startswith(MAGIC):
        raise NpyHeaderError("not a .npy file (the magic bytes \\x93NUMPY are missing)")
    version = (preamble[6], preamble[7])
    if version[0] == 1:
        (length,) = struct.unpack("<H", preamble[8:10])
        return version, 10 + length
    if version[0] in (2, 3):
        if len(preamble) < PREAMBLE_BYTES:
            raise NpyHeaderError("the .npy header is cut short")
        (length,) = struct.unpack("<I", preamble[8:12])
        return version, 12 + length
    raise NpyHeaderError(f"unknown .npy format version {version[0]}.{version[1]}")


def parse_npy_header(data: bytes) -> NpyHeader:
    """Parse a header from the first bytes of a ``.npy`` file (at least `header_length` of them)."""
    version, total = header_length(data[:PREAMBLE_BYTES])
    if total > MAX_HEADER_BYTES:
        raise NpyHeaderError(
            f"the .npy header claims {total} bytes, more than the {MAX_HEADER_BYTES} allowed"
        )
    if len(data) < total:
        raise NpyHeaderError(f"the .npy header is cut short ({len(data)} of {total} bytes)")
    start = 10 if version[0] == 1 else 12
    encoding = "utf-8" if version[0] == 3 else "latin-1"
    try:
        text = data[start:total].decode(encoding)
        fields = ast.literal_eval(text)
    except (UnicodeDecodeError, ValueError, SyntaxError, MemoryError, RecursionError) as error:
        raise NpyHeaderError(f"the .npy header is not a readable dict literal ({error})") from error
    if not isinstance(fields, dict) or not {"descr", "fortran_order", "shape"} <= set(fields):
        raise NpyHeaderError("the .npy header lacks descr, fortran_order or shape")
    shape = fields["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise NpyHeaderError(f"the .npy header has an invalid shape {shape!r}")
    if not isinstance(fields["fortran_order"], bool):
        raise NpyHeaderError("the .npy header's fortran_order is not true or false")
    try:
        dtype = np.dtype(_descr(fields["descr"]))
    except (TypeError, ValueError) as error:
        raise NpyHeaderError(f"the .npy header has an unknown dtype {fields['descr']!r}") from error
    return NpyHeader(version, dtype, shape, fields["fortran_order"], total)


def _descr(descr: Any) -> Any:
    """A descr as numpy accepts it; structured descrs are lists of (name, type[, shape]) tuples."""
    if isinstance(descr, str):
        return descr
    if isinstance(descr, list):
        return [tuple(item) if isinstance(item, list | tuple) else item for item in descr]
    raise TypeError(f"descr must be a string or a list, not {type(descr).__name__}")
