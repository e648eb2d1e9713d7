"""The restricted unpickler: real TAO-style pickles load; code-running or forged pickles are refused."""

from __future__ import annotations

import collections
import functools
import io
import os
import pickle
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.datasets.safe_pickle import (
    PickleLoadError,
    PickleRefused,
    PickleTooLarge,
    load_pickle,
    load_pickle_bytes,
)

PROTOCOLS = [2, 4, 5]


# -- a tiny pickle assembler, for streams the standard pickler would never write -----------------


def _global(module: str, name: str) -> bytes:
    return f"c{module}\n{name}\n".encode()


def _text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _bytes(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


def _tuple(*parts: bytes) -> bytes:
    return b"(" + b"".join(parts) + b"t"


NONE, FALSE, TRUE, REDUCE, BUILD, STOP = b"N", b"\x89", b"\x88", b"R", b"b", b"."


def _dtype(spec: str, state: bytes, module: str = "numpy") -> bytes:
    return _global(module, "dtype") + _tuple(_text(spec), FALSE, TRUE) + REDUCE + state + BUILD


def _plain_dtype_state(byteorder: str = "<", flags: int = 0) -> bytes:
    return _tuple(_int(3), _text(byteorder), NONE, NONE, NONE, _int(-1), _int(-1), _int(flags))


def _array(dtype: bytes, shape: tuple[int, ...], raw: bytes, module: str = "numpy._core.multiarray") -> bytes:
    reconstruct = _global(module, "_reconstruct") + _tuple(
        _global("numpy", "ndarray"), _tuple(_int(0)), _bytes(b"b")
    )
    state = _tuple(_int(1), _tuple(*(_int(n) for n in shape)), dtype, FALSE, _bytes(raw))
    return b"\x80\x02" + reconstruct + REDUCE + state + BUILD + STOP


# -- payloads that would leave a marker file behind if they ever ran ------------------------------


class _Reduces:
    def __init__(self, function: Any, *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.function, self.args


def _malicious(kind: str, marker: Path, protocol: int) -> bytes:
    touch = f"touch {marker}"
    if kind == "os.system":
        return pickle.dumps(_Reduces(os.system, touch), protocol=protocol)
    if kind == "eval":
        return pickle.dumps(_Reduces(eval, f"open({str(marker)!r}, 'w').close()"), protocol=protocol)
    if kind == "subprocess":
        return pickle.dumps(_Reduces(subprocess.Popen, ["touch", str(marker)]), protocol=protocol)
    if kind == "partial":
        return pickle.dumps(_Reduces(functools.partial(os.system, touch)), protocol=protocol)
    if kind == "hidden in labels":
        return pickle.dumps((["a", "b"], [0, _Reduces(os.system, touch)]), protocol=protocol)
    if kind == "hidden in object array":
        array = np.array([1, _Reduces(os.system, touch)], dtype=object)
        return pickle.dumps({"infos": [{"gt_names": array}]}, protocol=protocol)
    raise ValueError(kind)


MALICIOUS = [
    ("os.system", "posix.system"),
    ("eval", "builtins.eval"),
    ("subprocess", "subprocess.Popen"),
    ("partial", "functools.partial"),
    ("hidden in labels", "posix.system"),
    ("hidden in object array", "posix.system"),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(("kind", "requested"), MALICIOUS)
def test_malicious_pickles_are_refused_and_never_run(
    tmp_path: Path, kind: str, requested: str, protocol: int
) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / "label.pkl"
    path.write_bytes(_malicious(kind, marker, protocol))
    with pytest.raises(PickleRefused) as caught:
        load_pickle(path)
    assert requested in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.requested == requested
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["os.system", "eval"])
def test_the_payloads_are_live_under_the_standard_unpickler(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "payload-ran"
    pickle.loads(_malicious(kind, marker, 4))
    assert marker.exists()


def test_a_raw_global_opcode_to_posix_system_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    data = b"cposix\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR."
    with pytest.raises(PickleRefused, match=r"posix\.system"):
        load_pickle_bytes(data, "crafted.pkl")
    assert not marker.exists()


@pytest.mark.parametrize(
    "requested",
    [
        "builtins.getattr",
        "builtins.__import__",
        "copyreg._reconstructor",
        "numpy.load",
        "pickle.loads",
        "nt.system",
    ],
)
def test_other_globals_are_refused_by_name(requested: str) -> None:
    module, name = requested.rsplit(".", 1)
    with pytest.raises(PickleRefused, match=requested.replace(".", r"\.")):
        load_pickle_bytes(b"\x80\x02" + _global(module, name) + b".", "x.pkl")


def test_a_bare_allowed_constructor_as_a_value_is_refused() -> None:
    with pytest.raises(PickleRefused, match="as a value"):
        load_pickle_bytes(b"\x80\x02" + _global("builtins", "set") + b".", "x.pkl")


# -- real pickles ----------------------------------------------------------------------------------


def _tao_like_document() -> dict[str, Any]:
    return {
        "metadata": {"version": "2025", "split_type": "train"},
        "infos": [
            {
                "token": "Warehouse_014+bev-sensor-random-0__000000123",
                "timestamp": 4.1,
                "cams": {
                    "Camera_01": {"data_path": ("a.h5", "rgb/rgb_00123.jpg"), "cam_intrinsic": np.eye(3)}
                },
                "gt_boxes": np.arange(14, dtype=np.float32).reshape(2, 7),
                "gt_names": np.array(["Person", "Transporter"]),
                "instance_inds": np.array([3, 9]),
                "valid_flag": np.array([True, False]),
                "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
                "big_endian": np.arange(3, dtype=">i4"),
                "stamps": np.array(["2025-01-01T00:00:01"], dtype="M8[ms]"),
                "scalars": (np.float64(1.5), np.int32(-2), np.bool_(True), np.str_("x")),
            }
        ],
        "misc": [
            b"raw",
            bytearray(b"ba"),
            {1, 2},
            frozenset({3}),
            2 + 3j,
            None,
            collections.OrderedDict(a=1),
        ],
    }


def _assert_same(expected: Any, loaded: Any) -> None:
    assert type(loaded) is type(expected)
    if isinstance(expected, np.ndarray):
        assert loaded.dtype == expected.dtype and loaded.shape == expected.shape
        np.testing.assert_array_equal(loaded, expected)
    elif isinstance(expected, dict):
        assert list(loaded) == list(expected)
        for key in expected:
            _assert_same(expected[key], loaded[key])
    elif isinstance(expected, list | tuple):
        assert len(loaded) == len(expected)
        for left, right in zip(expected, loaded, strict=True):
            _assert_same(left, right)
    else:
        assert loaded == expected


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_real_pickles_load_like_the_standard_unpickler(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "scene_infos_train.pkl"
    with path.open("wb") as stream:
        pickle.dump(_tao_like_document(), stream, protocol=protocol)
    loaded = load_pickle(path)
    _assert_same(pickle.loads(path.read_bytes()), loaded)
    assert loaded["infos"][0]["gt_boxes"].flags.writeable


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_label_pair_loads_from_a_path_bytes_and_a_stream(tmp_path: Path, protocol: int) -> None:
    labels = (["seq_0", "seq_1", "seq_2"], [0, 5, 2])
    data = pickle.dumps(labels, protocol=protocol)
    path = tmp_path / "train_label.pkl"
    path.write_bytes(data)
    stream = io.BytesIO(data)
    assert load_pickle(path) == labels
    assert load_pickle(data) == labels
    assert load_pickle_bytes(data, "remote:/results/train_label.pkl") == labels
    assert load_pickle(stream, "sftp://host/train_label.pkl") == labels


def test_shared_arrays_stay_shared() -> None:
    array = np.arange(4.0)
    loaded = load_pickle_bytes(pickle.dumps({"a": array, "b": [array]}, protocol=2), "x")
    assert loaded["a"] is loaded["b"][0]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_object_arrays_of_plain_values_load(protocol: int) -> None:
    array = np.array(["person", None, 3, np.arange(2)], dtype=object)
    loaded = load_pickle_bytes(pickle.dumps(array, protocol=protocol), "x")
    assert loaded.dtype == object and loaded[0] == "person" and loaded[1] is None
    np.testing.assert_array_equal(loaded[3], np.arange(2))


def test_object_arrays_can_be_turned_off() -> None:
    data = pickle.dumps(np.array(["a"], dtype=object), protocol=4)
    with pytest.raises(PickleRefused, match="object-dtype"):
        load_pickle_bytes(data, "x.pkl", allow_object_arrays=False)


# -- forged numpy state ------------------------------------------------------------------------------


def test_an_object_array_from_raw_bytes_is_refused() -> None:
    forged = _array(_dtype("O8", _plain_dtype_state("|", 63)), (1,), b"A" * 8)
    with pytest.raises(PickleRefused, match="raw bytes"):
        load_pickle_bytes(forged, "forged.pkl")


def test_a_structured_dtype_that_hides_an_object_field_is_refused() -> None:
    fields = b"}" + _text("a") + _tuple(_dtype("O8", _plain_dtype_state("|", 63)), _int(0)) + b"s"
    state = _tuple(_int(3), _text("|"), NONE, _tuple(_text("a")), fields, _int(8), _int(1), _int(0))
    forged = _array(_dtype("V8", state), (1,), b"A" * 8)
    with pytest.raises(PickleRefused, match="structured"):
        load_pickle_bytes(forged, "forged.pkl")


def test_lying_dtype_flags_are_ignored() -> None:
    values = np.array([1.0, 2.0, 3.0])
    forged = _array(_dtype("f8", _plain_dtype_state("<", flags=63)), (3,), values.astype("<f8").tobytes())
    loaded = load_pickle_bytes(forged, "forged.pkl")
    assert loaded.dtype == np.float64 and not loaded.dtype.hasobject
    np.testing.assert_array_equal(loaded, values)


def test_a_size_that_contradicts_the_type_is_refused() -> None:
    state = _tuple(_int(3), _text("<"), NONE, NONE, NONE, _int(400), _int(4), _int(8))
    with pytest.raises(PickleRefused, match="item size"):
        load_pickle_bytes(_array(_dtype("U2", state), (1,), b"x" * 8), "forged.pkl")


def test_numpy_1_module_paths_load() -> None:
    data = _array(
        _dtype("i4", _plain_dtype_state()), (2,), np.array([7, 8], "<i4").tobytes(), "numpy.core.multiarray"
    )
    np.testing.assert_array_equal(load_pickle_bytes(data, "old.pkl"), [7, 8])
    raw = np.array([1.5, 2.5], "<f4").tobytes()
    frombuffer = (
        b"\x80\x05"
        + _global("numpy.core.numeric", "_frombuffer")
        + _tuple(
            b"\x96" + struct.pack("<Q", len(raw)) + raw,
            _dtype("f4", _plain_dtype_state()),
            _tuple(_int(2)),
            _text("C"),
        )
        + REDUCE
        + STOP
    )
    np.testing.assert_array_equal(load_pickle_bytes(frombuffer, "old5.pkl"), [1.5, 2.5])


# -- limits and broken files --------------------------------------------------------------------------


def test_files_above_the_size_limit_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge_infos.pkl"
    path.write_bytes(pickle.dumps(list(range(1000))))
    for source in (path, path.read_bytes(), io.BytesIO(path.read_bytes())):
        with pytest.raises(PickleTooLarge, match="limit"):
            load_pickle(source, "huge_infos.pkl", max_bytes=100)


def test_a_truncated_pickle_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"a": np.arange(10)}, protocol=4)[:-7])
    with pytest.raises(PickleLoadError, match=r"cut\.pkl: not a readable pickle"):
        load_pickle(path)


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(PickleLoadError, match=r"absent\.pkl: cannot read"):
        load_pickle(tmp_path / "absent.pkl")


def test_very_deep_nesting_is_an_error_not_a_crash() -> None:
    depth = 50_000
    data = b"\x80\x02" + b"]" * depth + _global("builtins", "set") + b")R" + b"a" * depth + b"."
    with pytest.raises(PickleLoadError, match="nested too deeply"):
        load_pickle_bytes(data, "deep.pkl")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_corrupted_bytes_only_ever_give_data_or_a_load_error(protocol: int) -> None:
    original = pickle.dumps(_tao_like_document(), protocol=protocol)
    rng = np.random.default_rng(protocol)
    for _ in range(300):
        data = bytearray(original)
        for position in rng.integers(0, len(data), size=3):
            data[position] = int(rng.integers(0, 256))
        try:
            load_pickle_bytes(bytes(data), "corrupt.pkl")
        except PickleLoadError as exc:
            assert str(exc).startswith("corrupt.pkl: ")


@pytest.mark.parametrize(
    ("stream", "problem"),
    [
        (b"\x80\x02N0r" + struct.pack("<I", 2**31 + 7) + b".", "memo index"),
        (b"N0p3000000000\n.", "memo index"),
        (b"\x80\x05\x96" + struct.pack("<Q", 2**62) + b"abc.", "beyond the end"),
        (b"\x80\x04\x95" + struct.pack("<Q", 2**40) + b"N.", "frame length"),
        (b"\x80\x02X" + struct.pack("<I", 2**31) + b"abc.", "beyond the end"),
        (b"\x80\x02N", "ends before"),
    ],
)
def test_lengths_and_memo_indices_that_would_exhaust_memory_are_refused(stream: bytes, problem: str) -> None:
    with pytest.raises(PickleLoadError, match=problem):
        load_pickle_bytes(stream, "bomb.pkl")
