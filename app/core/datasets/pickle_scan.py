"""The opcode pre-scan of the safe pickle readers: refuse memory bombs before the unpickler sees them.

CPython's unpickler allocates whatever a length or memo index in the stream asks for before it finds
out that the bytes are not there (one 4-byte memo index can make it zero-fill tens of gigabytes). So
before unpickling, the opcode stream is walked once: every length must fit in the file, every memo
index must be plausible (never above the number of bytes before it), every opcode must be known and
the stream must end with STOP.

Most opcodes need no check at all (their size follows from the opcode or a one-byte length). Runs of
those are skipped by a regular expression, in C; only the opcodes that carry a large length, a memo
index or a frame length come back to Python, one at a time, and get the checks. What is refused is
exactly what a plain opcode-by-opcode walk refuses, with the same message.
"""

from __future__ import annotations

import functools
import pickletools
import re
from typing import NoReturn

import numpy as np

from app.core.datasets.pickle_errors import PickleLoadError

_LINE = -100  # rule: the argument runs to a newline
_STOP, _FRAME, _LONG_BINPUT, _PUT = ord("."), 0x95, ord("r"), ord("p")
_TWO_LINES = frozenset(b"ci")  # GLOBAL and INST: module and name lines
_CHECKED = frozenset({_STOP, _FRAME, _LONG_BINPUT})
_SHORT_LENGTH = -1  # rule: a one-byte length, then that many bytes

# A run that starts at byte 64 Ki or later may also take LONG_BINPUT and PUT with a memo index
# below 64 Ki (always below the number of bytes before the opcode); from 16 Mi on, below 16 Mi.
_SMALL_MEMO_INDEX: tuple[bytes, ...] = (
    b"",
    rb"|\x72..\x00\x00|\x70[0-9]{1,4}\n",
    rb"|\x72...\x00|\x70[0-9]{1,7}\n",
)
_SAMPLE_BYTES = 1 << 20
_ADAPT_ABOVE = 8 * 1024 * 1024
_COMMON_LENGTHS = 16


def _opcode_tables() -> tuple[list[int], list[int | None]]:
    """Two tables indexed by opcode byte. ``steps``: bytes to skip for an opcode with a fixed-size
    argument that needs no check (0 otherwise). ``rules``: argument size (>= 0), ``_LINE`` for a
    newline-terminated argument, or -n for an n-byte length prefix; None for bytes that are no opcode."""
    prefixes = {
        pickletools.TAKEN_FROM_ARGUMENT1: -1,
        pickletools.TAKEN_FROM_ARGUMENT4: -4,
        pickletools.TAKEN_FROM_ARGUMENT4U: -4,
        pickletools.TAKEN_FROM_ARGUMENT8U: -8,
    }
    steps: list[int] = [0] * 256
    rules: list[int | None] = [None] * 256
    for opcode in pickletools.opcodes:
        code = ord(opcode.code)
        size = 0 if opcode.arg is None else opcode.arg.n
        if size == pickletools.UP_TO_NEWLINE:
            rules[code] = _LINE
        elif size < 0:
            rules[code] = prefixes[size]
        else:
            rules[code] = size
            steps[code] = 0 if code in _CHECKED else 1 + size
    return steps, rules


_STEPS, _RULES = _opcode_tables()
_SHORT_CODES = tuple(code for code, rule in enumerate(_RULES) if rule == _SHORT_LENGTH)


def check_opcode_stream(data: bytes, source_name: str) -> None:
    """Walk the opcodes of a pickle held in memory; `PickleLoadError` naming ``source_name`` when a
    length reaches past the end of the file, a memo index or frame length is out of range, a byte is
    no opcode, or the stream ends before STOP. Bytes after STOP are not looked at (nor unpickled)."""
    steps, rules, end, position = _STEPS, _RULES, len(data), 0
    length_order = _length_order(data)
    runs: list[re.Pattern[bytes] | None] = [None] * len(_SMALL_MEMO_INDEX)
    read_int = int.from_bytes
    while position < end:
        level = 2 if position >= 1 << 24 else 1 if position >= 1 << 16 else 0
        run = runs[level]
        if run is None:  # compiled when a run first starts at this level
            run = runs[level] = _run_pattern(length_order, level)
        match = run.match(data, position)
        position = match.end() if match is not None else position
        if position >= end:
            break
        code = data[position]
        step = steps[code]
        if step:  # a fixed-size opcode the run could not take: its argument is cut off by the end
            position += step
            continue
        rule, start = rules[code], position
        position += 1
        if rule is None:
            _unreadable(source_name, f"unknown opcode {code:#04x}", start)
        elif rule == _SHORT_LENGTH:
            position += 1 + data[position] if position < end else 1
        elif rule >= 0:
            argument = read_int(data[position : position + rule], "little")
            position += rule
            if code == _STOP:
                return
            if (code == _LONG_BINPUT and argument > start) or (code == _FRAME and argument > end - position):
                _unreadable(source_name, "memo index or frame length out of range", start)
        elif rule == _LINE:
            newline = data.find(b"\n", position)
            if newline >= 0 and code in _TWO_LINES:
                newline = data.find(b"\n", newline + 1)
            if newline < 0:
                _unreadable(source_name, "unterminated argument", start)
            text = data[position:newline]
            if code == _PUT and not (text.isdigit() and int(text) <= start):
                _unreadable(source_name, "memo index out of range", start)
            position = newline + 1
        else:
            position += read_int(data[position : position - rule], "little") - rule
        if position > end:
            _unreadable(source_name, "a length beyond the end of the file", start)
    _unreadable(source_name, "the file ends before the pickle's STOP opcode", end)


def _unreadable(name: str, problem: str, position: int) -> NoReturn:
    raise PickleLoadError(name, f"not a readable pickle ({problem}, at byte {position})")


def _length_order(data: bytes) -> tuple[int, ...]:
    """One-byte lengths in the order the run patterns try them: the most common first.

    Only speed depends on it (exactly one length can match). Estimated from the first MiB of a large
    file, where a byte of text or data that looks like such an opcode adds a little noise. Smaller
    files use 0..255, which saves compiling patterns for them.
    """
    if len(data) <= _ADAPT_ABOVE:
        return tuple(range(256))
    sample = np.frombuffer(data, np.uint8, count=min(len(data), _SAMPLE_BYTES))
    counts = np.bincount(sample[1:][np.isin(sample[:-1], _SHORT_CODES)], minlength=256)
    common = [int(length) for length in np.argsort(-counts, kind="stable")[:_COMMON_LENGTHS]]
    return tuple(common) + tuple(length for length in range(256) if length not in common)


@functools.lru_cache(maxsize=32)
def _run_pattern(length_order: tuple[int, ...], level: int) -> re.Pattern[bytes]:
    """A pattern matching the longest run of opcodes that need no check at ``level``.

    The run is ``(single-byte opcodes, then one longer opcode)`` repeated, then single-byte opcodes.
    The repeated part is written out four times over: the regular expression engine then pays its
    per-repetition cost once for four opcodes.
    """
    by_size: dict[int, list[int]] = {}
    one_line: list[int] = []
    two_lines: list[int] = []
    for code, rule in enumerate(_RULES):
        if _STEPS[code]:
            by_size.setdefault(_STEPS[code] - 1, []).append(code)
        elif rule == _LINE and code != _PUT:
            (two_lines if code in _TWO_LINES else one_line).append(code)
    single = _byte_class(by_size.pop(0))
    sized = {size: _byte_class(codes) + rb".{%d}" % size for size, codes in by_size.items()}
    lengths = b"|".join(rb"\x%02x" % n + (rb".{%d}" % n if n else b"") for n in length_order)
    short = _byte_class(_SHORT_CODES) + b"(?:" + lengths + b")"
    lines = [_byte_class(one_line) + rb"[^\n]*\n", _byte_class(two_lines) + rb"[^\n]*\n[^\n]*\n"]
    # most frequent first in typical files: memo gets and small ints, short strings, floats
    multi = b"|".join([sized.pop(1), short, sized.pop(8), *sized.values(), *lines])
    one = single + b"*+(?:" + multi + _SMALL_MEMO_INDEX[level] + b")"
    return re.compile(b"(?:" + one * 4 + b")*+(?:" + one + b")*+" + single + b"*+", re.DOTALL)


def _byte_class(codes: list[int] | tuple[int, ...]) -> bytes:
    return b"[" + b"".join(rb"\x%02x" % code for code in sorted(codes)) + b"]"
