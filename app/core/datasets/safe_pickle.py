"""Read the pickles TAO writes (label files, converted infos) without ever running code from them.

A pickle is a small program: the standard loader imports and calls whatever the file names. This
loader only hands out plain data: dict, list, tuple, set, frozenset, OrderedDict, str, bytes,
bytearray, int, float, complex, bool, None, numpy arrays and numpy scalars. Anything else the file
asks for raises :class:`PickleRefused` naming the request and the file, before it is imported.

numpy arrays and dtypes are never built from the file's raw state. The state numpy would trust
(dtype flags, field offsets) can be forged to make numpy read pointers from file bytes, so the
loader records what the file asks for and rebuilds each dtype and array with numpy's own
constructors: plain (non-structured) dtypes only, object arrays only from lists of plain values.
"""

from __future__ import annotations

import collections
import importlib
import io
import os
import pickle
import sys
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
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
            size = path.stat().st_size
            _check_size(size, max_bytes, name)
            with path.open("rb") as stream:
                return _RestrictedUnpickler(stream, name, allow_object_arrays).load_plain()
        except OSError as exc:
            raise PickleLoadError(name, f"cannot read the file ({exc.strerror or exc})") from exc
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
    return _RestrictedUnpickler(io.BytesIO(data), source_name, allow_object_arrays).load_plain()


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise PickleTooLarge(
            name, f"the pickle is {size:,} bytes, more than the {max_bytes:,}-byte limit for pickles"
        )


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


_SPURIOUS_BYTEARRAY_REPORT = "deallocated bytearray object has exported buffers"


@contextmanager
def _spurious_bytearray_report_hidden() -> Iterator[None]:
    """Hide one false report CPython 3.11 makes while a corrupt pickle is read.

    A BYTEARRAY8 opcode claiming an impossible size makes ``PyByteArray_FromStringAndSize`` free
    the half-made object before initialising its export count; its deallocator may then print
    the SystemError above through ``sys.excepthook`` (the load itself correctly fails with
    MemoryError). Every other exception is passed on to the hook that was installed before.
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        if kind is SystemError and str(value) == _SPURIOUS_BYTEARRAY_REPORT:
            return
        previous(kind, value, trace)

    sys.excepthook = hook
    try:
        yield
    finally:
        if sys.excepthook is hook:
            sys.excepthook = previous


class _ReadOnlyStream:
    """Offers the unpickler ``read``/``readline`` only. With ``readinto`` available, CPython 3.11's
    unpickler prints a SystemError through ``sys.excepthook`` when a BYTEARRAY8 claims more bytes
    than the file holds; without it, that is an ordinary truncation error."""

    __slots__ = ("read", "readline")

    def __init__(self, stream: BinaryIO) -> None:
        self.read = stream.read
        self.readline = stream.readline


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose globals are a fixed table of data constructors."""

    def __init__(self, stream: BinaryIO, source_name: str, allow_object_arrays: bool) -> None:
        super().__init__(_ReadOnlyStream(stream), encoding="latin1")
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
            with _spurious_bytearray_report_hidden():
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
        array = np.ndarray.__new__(np.ndarray, (0,), np.dtype("b"))
        array.__setstate__(cast(Any, (1, dims, dtype, bool(is_fortran), raw)))
        return array

    def _checked_object_item(self, item: Any) -> Any:
        if type(item) in _PLAIN_LEAVES or isinstance(item, _PLAIN_VALUE_TYPES):
            return item
        self._refuse_value(item)
