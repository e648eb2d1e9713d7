"""The .npy header read from the first bytes: versions 1, 2 and 3, and broken headers."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from app.core.datasets.npy_header import NpyHeaderError, parse_npy_header


def _npy(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array(stream, array, version=version)
    return stream.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_each_format_version_gives_dtype_shape_and_offset(version: tuple[int, int]) -> None:
    array = np.zeros((5, 3, 7, 34, 1), dtype=np.float32)
    data = _npy(array, version)
    header = parse_npy_header(data[:4096])
    assert header.version == version
    assert header.dtype == np.float32 and header.shape == (5, 3, 7, 34, 1)
    assert header.expected_file_size == len(data)
    assert np.frombuffer(data[header.data_offset :], dtype=np.float32).size == array.size


def test_version_3_header_is_utf8() -> None:
    array = np.zeros(2, dtype=[("höhe", "<f4")])
    header = parse_npy_header(_npy(array, (3, 0)))
    assert header.dtype.names == ("höhe",)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"PK\x03\x04 not numpy", "not a .npy file"),
        (b"\x93NUMPY\x09\x00" + struct.pack("<H", 10) + b"{}", "unknown .npy format version 9.0"),
        (b"\x93NUMPY\x01\x00" + struct.pack("<H", 200) + b"{'descr'", "cut short"),
        (
            b"\x93NUMPY\x01\x00" + struct.pack("<H", 20) + b"__import__('os')    ",
            "not a readable dict literal",
        ),
        (
            b"\x93NUMPY\x01\x00"
            + struct.pack("<H", 48)
            + b"{'descr': '<f4', 'fortran_order': False}".ljust(48),
            "lacks descr, fortran_order or shape",
        ),
        (b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{}", "more than the"),
    ],
)
def test_broken_headers_say_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(NpyHeaderError, match=problem):
        parse_npy_header(data)
