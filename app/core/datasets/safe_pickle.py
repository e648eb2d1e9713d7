"""Read the pickles TAO writes (label files, converted infos) without ever running code from them.

A pickle is a small program: the standard loader imports and calls whatever the file names. This
loader only hands out plain data: dict, list, tuple, set, frozenset, OrderedDict, str, bytes,
bytearray, int, float, complex, bool, None, numpy arrays and numpy scalars. Anything else the file
asks for raises :class:`PickleRefused` naming the request and the file, before it is imported.

numpy arrays and dtypes are never built from the file's raw state. The state numpy would trust
(dtype flags, field offsets) can be forged to make numpy read pointers from file bytes, so the
loader records what the file asks for and rebuilds each dtype and array with numpy's own
constructors: plain (non-structured) dtypes only, object arrays only from lists of plain values.

Before unpickling, the opcode stream is walked once to check that no length reaches past the end
of the file and no memo index is implausible, so a corrupt or hostile file cannot make the
unpickler allocate memory out of proportion to its size. Files above ``max_bytes`` are refused.
"""

from __future__ import annotations

import collections
import gc
import importlib
import io
import math
import os
import pickle
import pickletools
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, cast

import numpy as np

DEFAULT_MAX_BYTES = 2 * 1024**3


def _numpy_multiarray_scalar() -> Callable[..., Any]:
    try:
        module = importlib.import_module("numpy._core.multiarray")
    except ImportError:
        module = importlib.import_module("numpy.core.multiarray")
    scalar: Callable[..., Any] = module.scalar
    return scalar


_numpy_scalar = _numpy_multiarray_scalar()

_DATETIME_UNITS = frozenset(
    {"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as", "generic"}
)


class PickleLoadError(ValueError):
    """A pickle could not be loaded: unreadable, corrupt, too large, or refused."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class PickleRefused(PickleLoadError):
    """The pickle asks for something that is not plain data; nothing from it was run."""

    def __init__(self, source: str, requested: str, reason: str = "") -> None:
        why = reason or (
            "which is not a plain container, string, number or numpy array; "
            "pickles are only read as data, never as code"
        )
        super().__init__(source, f"refused to load: the pickle asks for {requested}, {why}")
        self.requested = requested


class PickleTooLarge(PickleLoadError):
    """The pickle is larger than the configured limit."""


def load_pickle(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO,
    source_name: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_object_arrays: bool = True,
) -> Any:
    """Load a pickle from a path, bytes or an open binary file (local or SFTP) as plain data.

    Raises :class:`PickleLoadError` (or its subclasses :class:`PickleRefused` and
    :class:`PickleTooLarge`) with a message naming ``source_name`` (default: the path or the file
    object's ``name``).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return load_pickle_bytes(
            source, source_name or "<bytes>", max_bytes=max_bytes, allow_object_arrays=allow_object_arrays
        )
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        name = source_name or str(path)
        try:
            _check_size(path.stat().st_size, max_bytes, name)
            data = path.read_bytes()
        except OSError as exc:
            raise PickleLoadError(name, f"cannot read the file ({exc.strerror or exc})") from exc
    else:
        name = source_name or str(getattr(source, "name", "<stream>"))
        try:
            data = source.read(max_bytes + 1)
        except OSError as exc:
            raise PickleLoadError(name, f"cannot read the file ({exc.strerror or exc})") from exc
    return load_pickle_bytes(data, name, max_bytes=max_bytes, allow_object_arrays=allow_object_arrays)


def load_pickle_bytes(
    data: bytes | bytearray | memoryview,
    source_name: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_object_arrays: bool = True,
) -> Any:
    """Load a pickle held in memory as plain data; ``source_name`` names it in error messages."""
    _check_size(len(data), max_bytes, source_name)
    data = bytes(data)
    _scan_opcodes(data, source_name)
    return _RestrictedUnpickler(io.BytesIO(data), source_name, allow_object_arrays).load_plain()


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise PickleTooLarge(
            name, f"the pickle is {size:,} bytes, more than the {max_bytes:,}-byte limit for pickles"
        )


_LINE = -100
_STOP, _FRAME, _LONG_BINPUT, _PUT = ord("."), 0x95, ord("r"), ord("p")
_TWO_LINES = frozenset(b"ci")  # GLOBAL and INST: module and name lines
_CHECKED = frozenset({_STOP, _FRAME, _LONG_BINPUT})


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


def _scan_opcodes(data: bytes, name: str) -> None:
    """Walk the opcodes before unpickling: every length must fit in the file and every memo index
    must be plausible. CPython's unpickler would otherwise allocate whatever a corrupt length or
    memo index asks for (one 4-byte memo index can make it zero-fill tens of gigabytes). A memo
    index can never legitimately exceed the number of bytes before it."""
    steps, rules, end, position = _STEPS, _RULES, len(data), 0
    read_int = int.from_bytes
    while position < end:
        code = data[position]
        step = steps[code]
        if step:
            position += step
            continue
        rule, start = rules[code], position
        position += 1
        if rule is None:
            _unreadable(name, f"unknown opcode {code:#04x}", start)
        elif rule == -1:
            position += 1 + data[position] if position < end else 1
        elif rule >= 0:
            argument = read_int(data[position : position + rule], "little")
            position += rule
            if code == _STOP:
                return
            if (code == _LONG_BINPUT and argument > start) or (code == _FRAME and argument > end - position):
                _unreadable(name, "memo index or frame length out of range", start)
        elif rule == _LINE:
            newline = data.find(b"\n", position)
            if newline >= 0 and code in _TWO_LINES:
                newline = data.find(b"\n", newline + 1)
            if newline < 0:
                _unreadable(name, "unterminated argument", start)
            text = data[position:newline]
            if code == _PUT and not (text.isdigit() and int(text) <= start):
                _unreadable(name, "memo index out of range", start)
            position = newline + 1
        else:
            position += read_int(data[position : position - rule], "little") - rule
        if position > end:
            _unreadable(name, "a length beyond the end of the file", start)
    _unreadable(name, "the file ends before the pickle's STOP opcode", end)


def _unreadable(name: str, problem: str, position: int) -> NoReturn:
    raise PickleLoadError(name, f"not a readable pickle ({problem}, at byte {position})")


@contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """Pause the cycle collector while the many objects of a large pickle are made (loading makes
    no garbage cycles, and repeated full collections would cost more than the loading itself)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _FrozenCallable:
    """A callable handed to the pickle in place of a real global; BUILD cannot change it."""

    __slots__ = ("_function", "label")
    __hash__ = None  # type: ignore[assignment]
    _function: Callable[..., Any]
    label: str

    def __init__(self, function: Callable[..., Any], label: str) -> None:
        object.__setattr__(self, "_function", function)
        object.__setattr__(self, "label", label)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"{self.label} cannot be modified")

    def __call__(self, *args: Any) -> Any:
        return self._function(*args)


class _DtypeRecipe:
    """What the pickle asked ``numpy.dtype`` for; turned into a real dtype by numpy itself."""

    __slots__ = ("resolved", "spec", "state")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, spec: object) -> None:
        self.spec = spec
        self.state: object = None
        self.resolved: np.dtype[Any] | None = None

    def __setstate__(self, state: object) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("a numpy dtype was given its state twice")
        self.state = state


class _ArrayRecipe:
    """What the pickle asked ``numpy.ndarray`` to hold; built after loading from checked parts."""

    __slots__ = ("state",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self) -> None:
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("a numpy array was given its state twice")
        self.state = state


_NDARRAY_MARKER = _FrozenCallable(lambda *args: None, "numpy.ndarray")
_PLAIN_LEAVES: frozenset[type] = frozenset({str, bytes, int, float, complex, bool, type(None), bytearray})
_PLAIN_VALUE_TYPES: tuple[type, ...] = (np.ndarray, np.generic, dict, list, tuple, set, frozenset)


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose globals are a fixed table of data constructors."""

    def __init__(self, stream: BinaryIO, source_name: str, allow_object_arrays: bool) -> None:
        super().__init__(stream, encoding="latin1")
        self.source_name = source_name
        self.allow_object_arrays = allow_object_arrays
        self._handed_out_globals = False
        reconstruct = _FrozenCallable(self._reconstruct, "numpy ndarray reconstruct")
        scalar = _FrozenCallable(self._scalar, "numpy scalar")
        frombuffer = _FrozenCallable(self._frombuffer, "numpy frombuffer")
        self._globals: dict[tuple[str, str], object] = {
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("builtins", "complex"): complex,
            ("builtins", "bytearray"): _FrozenCallable(self._bytearray, "bytearray"),
            ("builtins", "bytes"): _FrozenCallable(self._bytes, "bytes"),
            ("_codecs", "encode"): _FrozenCallable(self._latin1_encode, "_codecs.encode"),
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("numpy", "ndarray"): _NDARRAY_MARKER,
            ("numpy", "dtype"): _FrozenCallable(self._dtype, "numpy.dtype"),
            ("numpy.core.multiarray", "_reconstruct"): reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): reconstruct,
            ("numpy.core.multiarray", "scalar"): scalar,
            ("numpy._core.multiarray", "scalar"): scalar,
            ("numpy.core.numeric", "_frombuffer"): frombuffer,
            ("numpy._core.numeric", "_frombuffer"): frombuffer,
        }

    def find_class(self, module: str, name: str) -> Any:
        """Hand out a data constructor from the fixed table, or refuse by name."""
        python2_name = (IMPORT_MAPPING.get(module, module), name)
        mapped_module, mapped_name = NAME_MAPPING.get((module, name), python2_name)
        found = self._globals.get((mapped_module, mapped_name))
        if found is None:
            raise PickleRefused(self.source_name, f"{mapped_module}.{mapped_name}")
        self._handed_out_globals = True
        return found

    def persistent_load(self, pid: Any) -> NoReturn:
        """Persistent ids refer to objects outside the file: never allowed."""
        raise PickleRefused(self.source_name, "a persistent id", "which refers to objects outside the file")

    def load_plain(self) -> Any:
        """Unpickle, then build numpy objects from their checked recipes."""
        try:
            with _garbage_collection_paused():
                loaded = self.load()
                if not self._handed_out_globals:
                    return loaded
                return _PlainBuilder(self).build(loaded)
        except PickleLoadError:
            raise
        except RecursionError as exc:
            raise PickleLoadError(self.source_name, "the pickle is nested too deeply to read") from exc
        except MemoryError as exc:
            raise PickleLoadError(self.source_name, "not enough memory to read the pickle") from exc
        except Exception as exc:
            problem = f"not a readable pickle ({type(exc).__name__}: {exc})"
            raise PickleLoadError(self.source_name, problem) from exc

    def refuse(self, what: str, reason: str) -> NoReturn:
        """Raise :class:`PickleRefused` for this file."""
        raise PickleRefused(self.source_name, what, reason)

    def _latin1_encode(self, text: object, encoding: object = "latin1") -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            self.refuse("_codecs.encode", "used for something other than protocol-2 bytes")
        return text.encode("latin1")

    def _bytes(self, *args: object) -> bytes:
        if not args:
            return b""
        if len(args) == 1 and isinstance(args[0], bytes | bytearray | list | tuple):
            return bytes(args[0])
        return self._latin1_encode(*args)

    def _bytearray(self, *args: object) -> bytearray:
        if len(args) == 1 and isinstance(args[0], int):
            self.refuse("bytearray(size)", "which could allocate memory without limit")
        return bytearray(self._bytes(*args))

    def _dtype(self, spec: object, align: object = False, copy: object = False) -> _DtypeRecipe:
        return _DtypeRecipe(spec)

    def _reconstruct(self, subtype: object, shape: object = None, typecode: object = None) -> _ArrayRecipe:
        if subtype is not _NDARRAY_MARKER:
            self.refuse("numpy ndarray reconstruct of another type", "only plain numpy arrays are allowed")
        return _ArrayRecipe()

    def _scalar(self, dtype: object, data: object = None) -> Any:
        real = self.resolve_dtype(dtype)
        if real.hasobject:
            return data
        if isinstance(data, str):
            data = data.encode("latin1")
        if not isinstance(data, bytes) or len(data) != real.itemsize:
            self.refuse("numpy scalar with malformed data", f"expected {real.itemsize} bytes for {real}")
        return _numpy_scalar(real, data)

    def _frombuffer(self, buffer: object, dtype: object, shape: object, order: object) -> np.ndarray:
        real = self.resolve_dtype(dtype)
        if real.hasobject:
            self.refuse("numpy frombuffer with object dtype", "object arrays cannot come from raw bytes")
        if not isinstance(buffer, bytes | bytearray) or order not in ("C", "F"):
            self.refuse("numpy frombuffer with malformed arguments", "expected bytes and order 'C' or 'F'")
        dims = self.check_shape(shape)
        return np.frombuffer(buffer, dtype=real).reshape(dims, order=order)

    def check_shape(self, shape: object) -> tuple[int, ...]:
        """A numpy shape from the file: a tuple (numpy itself rejects bad or negative sizes)."""
        if type(shape) is not tuple:
            self.refuse("a numpy array with a malformed shape", f"got {type(shape).__name__}")
        return shape

    def resolve_dtype(self, recipe: object) -> np.dtype[Any]:
        """Rebuild a dtype with numpy's constructor from a plain type string; never from raw state."""
        if not isinstance(recipe, _DtypeRecipe) or not isinstance(recipe.spec, str):
            self.refuse("a numpy dtype that is not a type string", f"got {type(recipe).__name__}")
        if recipe.resolved is not None:
            return recipe.resolved
        try:
            real = np.dtype(recipe.spec)
        except TypeError as exc:
            self.refuse(f"numpy dtype {recipe.spec!r}", f"which numpy does not know ({exc})")
        if real.fields is not None or real.subdtype is not None:
            self.refuse(f"structured numpy dtype {recipe.spec!r}", "only plain numpy dtypes are allowed")
        state = recipe.state
        if state is not None:
            real = self._apply_dtype_state(real, state)
        if real.hasobject and not self.allow_object_arrays:
            self.refuse("an object-dtype numpy array", "object arrays are turned off for this file")
        recipe.resolved = real
        return real

    def _apply_dtype_state(self, real: np.dtype[Any], state: object) -> np.dtype[Any]:
        if not isinstance(state, tuple) or len(state) not in (8, 9) or state[0] not in (3, 4):
            self.refuse(f"numpy dtype {real} with an unknown state layout", f"got {state!r:.80}")
        byteorder, subarray, names, fields, elsize = state[1:6]
        if subarray is not None or names is not None or fields is not None:
            self.refuse(f"structured numpy dtype {real}", "only plain numpy dtypes are allowed")
        if real.kind in "SUV" and elsize not in (-1, real.itemsize):
            self.refuse(f"numpy dtype {real} with item size {elsize!r}", "the size contradicts the type")
        if byteorder in ("<", ">") and real.itemsize > 1 and real.kind not in "SVO":
            real = real.newbyteorder(byteorder)
        if len(state) == 9 and real.kind in "mM":
            real = self._datetime_dtype(real, state[8])
        return real

    def _datetime_dtype(self, real: np.dtype[Any], metadata: object) -> np.dtype[Any]:
        unit_info = metadata[1] if isinstance(metadata, tuple) and len(metadata) == 2 else None
        if not (isinstance(unit_info, tuple) and len(unit_info) == 4):
            self.refuse(f"numpy dtype {real} with malformed unit metadata", f"got {metadata!r:.80}")
        unit, count = unit_info[0], unit_info[1]
        unit_text = unit.decode("utf-8", "replace") if isinstance(unit, bytes) else unit
        if unit_text not in _DATETIME_UNITS or type(count) is not int or count < 1:
            self.refuse(f"numpy dtype {real} with unit {unit!r}", "which is not a datetime unit")
        if unit_text == "generic":
            return real
        return np.dtype(f"{real.str}[{count}{unit_text}]")


class _PlainBuilder:
    """Walks the loaded data once: builds arrays and dtypes from recipes, checks object arrays."""

    def __init__(self, owner: _RestrictedUnpickler) -> None:
        self.owner = owner
        # id -> (original, built): holding the original keeps its id from being reused meanwhile
        self.done: dict[int, tuple[Any, Any]] = {}
        self.leaves: set[type] = {*_PLAIN_LEAVES, np.ndarray}

    def build(self, value: Any) -> Any:
        """The plain value for one loaded object (containers are fixed up in place)."""
        kind = type(value)
        if kind in self.leaves:
            return value
        if issubclass(kind, np.generic):
            self.leaves.add(kind)
            return value
        known = self.done.get(id(value))
        if known is not None:
            return known[1]
        if kind is _ArrayRecipe:
            array = self._build_array(value)
            self.done[id(value)] = (value, array)
            return array
        if kind is _DtypeRecipe:
            return self.owner.resolve_dtype(value)
        if isinstance(value, dict):
            self.done[id(value)] = (value, value)
            self._build_dict_values(value)
            return value
        if isinstance(value, list):
            self.done[id(value)] = (value, value)
            self._build_list_items(value)
            return value
        if isinstance(value, tuple):
            self.done[id(value)] = (value, value)
            built = list(value)
            if self._build_list_items(built):
                self.done[id(value)] = (value, tuple(built))
            return self.done[id(value)][1]
        if isinstance(value, set | frozenset):
            for item in value:
                if not (type(item) in self.leaves or isinstance(item, np.generic | tuple | frozenset)):
                    self._refuse_value(item)
            return value
        self._refuse_value(value)

    def _build_dict_values(self, mapping: dict[Any, Any]) -> None:
        leaves = self.leaves
        for key, item in mapping.items():
            if type(item) not in leaves:
                built = self.build(item)
                if built is not item:
                    mapping[key] = built

    def _build_list_items(self, items: list[Any]) -> bool:
        leaves = self.leaves
        changed = False
        for index, item in enumerate(items):
            if type(item) not in leaves:
                built = self.build(item)
                if built is not item:
                    items[index] = built
                    changed = True
        return changed

    def _refuse_value(self, value: object) -> NoReturn:
        if isinstance(value, _FrozenCallable):
            label = value.label
        elif isinstance(value, type):
            label = f"{value.__module__}.{value.__qualname__}"
        else:
            label = type(value).__name__
        self.owner.refuse(f"{label} as a value", "only data values are allowed")

    def _build_array(self, recipe: _ArrayRecipe) -> np.ndarray:
        owner = self.owner
        state = recipe.state
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            owner.refuse("a numpy array with an unknown state layout", f"got {type(state).__name__}")
        shape, dtype_recipe, is_fortran, raw = state
        dims = owner.check_shape(shape)
        dtype = owner.resolve_dtype(dtype_recipe)
        if dtype.hasobject:
            if not isinstance(raw, list):
                owner.refuse("an object-dtype numpy array built from raw bytes", "it could forge pointers")
            raw = [self._checked_object_item(self.build(item)) for item in raw]
        elif isinstance(raw, str):
            raw = raw.encode("latin1")
        elif isinstance(raw, bytearray):
            raw = bytes(raw)
        elif not isinstance(raw, bytes):
            owner.refuse("a numpy array with malformed data", f"got {type(raw).__name__}")
        if not all(type(size) is int and size >= 0 for size in dims):
            owner.refuse("a numpy array with a malformed shape", f"got {dims!r:.80}")
        expected = math.prod(dims) * (1 if dtype.hasobject else dtype.itemsize)
        if expected != len(raw):
            owner.refuse("a numpy array whose data does not fit its shape", f"{len(raw)} items for {dims}")
        array = np.ndarray.__new__(np.ndarray, (0,), np.dtype("b"))
        array.__setstate__(cast(Any, (1, dims, dtype, bool(is_fortran), raw)))
        return array

    def _checked_object_item(self, item: Any) -> Any:
        if type(item) in _PLAIN_LEAVES or isinstance(item, _PLAIN_VALUE_TYPES):
            return item
        self._refuse_value(item)
