"""The opcode pre-scan refuses exactly what a plain opcode-by-opcode walk refuses, with the same message."""

from __future__ import annotations

import pickle
import pickletools
import struct

import numpy as np
import pytest

from app.core.datasets.pickle_errors import PickleLoadError
from app.core.datasets.pickle_scan import check_opcode_stream

_ONE_LINE = pickletools.UP_TO_NEWLINE
_LENGTH_PREFIX = {
    pickletools.TAKEN_FROM_ARGUMENT1: 1,
    pickletools.TAKEN_FROM_ARGUMENT4: 4,
    pickletools.TAKEN_FROM_ARGUMENT4U: 4,
    pickletools.TAKEN_FROM_ARGUMENT8U: 8,
}
_OPCODES = {ord(opcode.code): opcode for opcode in pickletools.opcodes}


def reference_walk(data: bytes) -> str | None:
    """The problem a plain walk finds (one opcode per step, no shortcuts), or None for a sound stream."""
    end, position = len(data), 0
    while position < end:
        start, code = position, data[position]
        position += 1
        opcode = _OPCODES.get(code)
        if opcode is None:
            return f"unknown opcode {code:#04x}, at byte {start}"
        size = 0 if opcode.arg is None else opcode.arg.n
        if size >= 0:
            argument = int.from_bytes(data[position : position + size], "little")
            position += size
            if opcode.name == "STOP":
                return None
            if opcode.name not in ("LONG_BINPUT", "FRAME"):
                continue  # if cut off by the end, that shows as a missing STOP
            if (opcode.name == "LONG_BINPUT" and argument > start) or (
                opcode.name == "FRAME" and argument > end - position
            ):
                return f"memo index or frame length out of range, at byte {start}"
            if position > end:
                return f"a length beyond the end of the file, at byte {start}"
            continue
        if size == _ONE_LINE:
            newline = data.find(b"\n", position)
            if newline >= 0 and opcode.name in ("GLOBAL", "INST"):
                newline = data.find(b"\n", newline + 1)
            if newline < 0:
                return f"unterminated argument, at byte {start}"
            text = data[position:newline]
            if opcode.name == "PUT" and not (text.isdigit() and int(text) <= start):
                return f"memo index out of range, at byte {start}"
            position = newline + 1
            continue
        prefix = _LENGTH_PREFIX[size]
        position += prefix + int.from_bytes(data[position : position + prefix], "little")
        if position > end:
            return f"a length beyond the end of the file, at byte {start}"
    return f"the file ends before the pickle's STOP opcode, at byte {end}"


def scan_problem(data: bytes) -> str | None:
    """What `check_opcode_stream` refuses, as the text inside 'not a readable pickle (...)'."""
    try:
        check_opcode_stream(data, "scanned.pkl")
    except PickleLoadError as error:
        text = str(error)
        assert text.startswith("scanned.pkl: not a readable pickle (") and text.endswith(")")
        return text[len("scanned.pkl: not a readable pickle (") : -1]
    return None


def _document(rows: int) -> dict[str, object]:
    """Strings of every short length, bytes, floats, arrays and enough rows to pass 64 KiB."""
    return {
        "names": ["n" * length for length in range(300)],
        "blobs": [bytes(range(length % 256)) * (1 + length // 256) for length in range(0, 600, 7)],
        "rows": [(index, index * 0.5, f"Camera_{index:04d}", None, True) for index in range(rows)],
        "arrays": [np.arange(length, dtype=np.float64) for length in (0, 3, 16, 40)],
    }


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_sound_pickles_pass_and_corrupted_ones_fail_as_in_a_plain_walk(protocol: int) -> None:
    original = pickle.dumps(_document(rows=1200), protocol=protocol)
    assert len(original) > 1 << 16, "long enough for the runs that also take small memo indices"
    assert scan_problem(original) is None and reference_walk(original) is None
    rng = np.random.default_rng(protocol)
    for _ in range(60):
        data = bytearray(original)
        for position in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[position] = int(rng.integers(0, 256))
        assert scan_problem(bytes(data)) == reference_walk(bytes(data))
    for cut in rng.integers(0, len(original), size=20):
        assert scan_problem(original[:cut]) == reference_walk(original[:cut])


def _after_padding(padding: int, tail: bytes) -> bytes:
    """A stream whose ``tail`` starts at byte ``padding + 7``: PROTO 4, then a BINBYTES of ``padding``."""
    return b"\x80\x04B" + struct.pack("<I", padding) + bytes(padding) + tail


@pytest.mark.parametrize("padding", [1_000, 70_000, 17_000_000])
def test_memo_indices_are_checked_against_their_position_wherever_they_stand(padding: int) -> None:
    start = padding + 8  # where the PUT opcode stands (after NONE)
    cases = {
        b"Nr" + struct.pack("<I", 65_535) + b".": start < 65_535,
        b"Nr" + struct.pack("<I", start) + b".": False,
        b"Nr" + struct.pack("<I", start + 1) + b".": True,
        b"Nr" + struct.pack("<I", 2**24 - 1) + b".": start < 2**24 - 1,
        b"Np9999\n.": start < 9_999,
        b"Np" + str(start).encode() + b"\n.": False,
        b"Np" + str(start + 1).encode() + b"\n.": True,
        b"Np3000000000\n.": True,
        b"Np12x\n.": True,
    }
    for tail, refused in cases.items():
        data = _after_padding(padding, tail)
        problem = scan_problem(data)
        assert problem == reference_walk(data), tail
        assert (problem is not None) == refused, (tail, problem)
        if problem is not None:
            assert "memo index" in problem and f"at byte {start}" in problem


def test_a_cut_off_opcode_after_a_long_run_is_reported_as_a_missing_stop() -> None:
    data = pickle.dumps(list(range(100_000)), protocol=4)[:-1] + b"G\x00\x00"
    assert scan_problem(data) == reference_walk(data)
    assert scan_problem(data) == f"the file ends before the pickle's STOP opcode, at byte {len(data)}"


def test_bytes_after_stop_are_not_looked_at() -> None:
    data = pickle.dumps({"a": 1}, protocol=4) + b"\xff\xff garbage"
    assert scan_problem(data) is None
