"""Read the pickles TAO writes (label files, converted infos) without ever running code from them.

A pickle is a small program: the standard loader imports and calls whatever the file names. This
loader only hands out plain data: dict, list, tuple, set, frozenset, OrderedDict, str, bytes,
bytearray, int, float, complex, bool, None, numpy arrays and numpy scalars. Anything else the file
asks for raises :class:`PickleRefused` naming the request and the file, before it is imported.

numpy dtypes and arrays are rebuilt with numpy's own constructors from checked recipes, never from
the file's raw state (`app.core.datasets.pickle_numpy`). Before unpickling, the opcode stream is
walked once so that a corrupt or hostile file cannot make the unpickler allocate memory out of
proportion to its size (`app.core.datasets.pickle_scan`). Files above ``max_bytes`` are refused.

`RestrictedUnpickler` is the loader itself; `app.core.datasets.pickle_outline` builds on it to
read large pickles without building their arrays.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np

from app.core.datasets.pickle_errors import (
    PickleLoadError,
    PickleRefused,
    PickleTooLarge,
    check_pickle_size,
    load_errors_named,
)
from app.core.datasets.pickle_numpy import (
    NDARRAY_MARKER,
    ArrayRecipe,
    DtypeRecipe,
    FrozenCallable,
    NumpyRecipes,
)
from app.core.datasets.pickle_scan import check_opcode_stream
from app.core.gc_pause import garbage_collection_paused

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PickleLoadError",
    "PickleRefused",
    "PickleTooLarge",
    "PlainBuilder",
    "RestrictedUnpickler",
    "load_pickle",
    "load_pickle_bytes",
]

DEFAULT_MAX_BYTES = 2 * 1024**3


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
            check_pickle_size(path.stat().st_size, max_bytes, name)
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
    check_pickle_size(len(data), max_bytes, source_name)
    data = bytes(data)
    check_opcode_stream(data, source_name)
    return RestrictedUnpickler(io.BytesIO(data), source_name, allow_object_arrays).load_plain()


_PLAIN_LEAVES: frozenset[type] = frozenset({str, bytes, int, float, complex, bool, type(None), bytearray})
_PLAIN_VALUE_TYPES: tuple[type, ...] = (np.ndarray, np.generic, dict, list, tuple, set, frozenset)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose globals are a fixed table of data constructors.

    Only use it on a stream that passed `check_opcode_stream`. What numpy's ``_reconstruct`` returns
    is an array recipe (`new_array_recipe`): `load_plain` builds real arrays from the recipes after
    loading, `load_recipes` leaves them as they are.
    """

    def __init__(self, stream: BinaryIO, source_name: str, allow_object_arrays: bool = True) -> None:
        super().__init__(stream, encoding="latin1")
        self.source_name = source_name
        self.numpy = NumpyRecipes(source_name, allow_object_arrays)
        self._handed_out_globals = False
        reconstruct = FrozenCallable(self._reconstruct, "numpy ndarray reconstruct")
        scalar = FrozenCallable(self.numpy.scalar, "numpy scalar")
        frombuffer = FrozenCallable(self.numpy.frombuffer, "numpy frombuffer")
        self._globals: dict[tuple[str, str], object] = {
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("builtins", "complex"): complex,
            ("builtins", "bytearray"): FrozenCallable(self._bytearray, "bytearray"),
            ("builtins", "bytes"): FrozenCallable(self._bytes, "bytes"),
            ("_codecs", "encode"): FrozenCallable(self._latin1_encode, "_codecs.encode"),
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("numpy", "ndarray"): NDARRAY_MARKER,
            ("numpy", "dtype"): FrozenCallable(self._dtype, "numpy.dtype"),
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

    def new_array_recipe(self) -> object:
        """What a numpy array is while loading: an `ArrayRecipe` (subclasses may hand out their own)."""
        return ArrayRecipe()

    def load_plain(self) -> Any:
        """Unpickle, then build numpy objects from their checked recipes."""
        with load_errors_named(self.source_name), garbage_collection_paused():
            loaded = self.load_recipes()
            if not self._handed_out_globals:
                return loaded
            return PlainBuilder(self.numpy).build(loaded)

    def load_recipes(self) -> Any:
        """Unpickle and stop there: arrays stay the recipes `new_array_recipe` made, and the loaded
        tree is not walked (a constructor the file put in a container stays in it, so callers must
        test the types of what they find)."""
        with load_errors_named(self.source_name), garbage_collection_paused():
            try:
                return self.load()
            finally:
                # The constructor table refers back to this unpickler, so only the cycle collector
                # would free it; emptied, its memo no longer holds on to everything that was loaded.
                self.memo.clear()

    def refuse(self, what: str, reason: str) -> NoReturn:
        """Raise :class:`PickleRefused` for this file."""
        self.numpy.refuse(what, reason)

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

    def _dtype(self, spec: object, align: object = False, copy: object = False) -> DtypeRecipe:
        return DtypeRecipe(spec)

    def _reconstruct(self, subtype: object, shape: object = None, typecode: object = None) -> object:
        if subtype is not NDARRAY_MARKER:
            self.refuse("numpy ndarray reconstruct of another type", "only plain numpy arrays are allowed")
        return self.new_array_recipe()


class PlainBuilder:
    """Walks loaded data once: builds arrays and dtypes from recipes, refuses anything not data."""

    def __init__(self, recipes: NumpyRecipes) -> None:
        self.recipes = recipes
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
        if kind is ArrayRecipe:
            array = self.array(value.state)
            self.done[id(value)] = (value, array)
            return array
        if kind is DtypeRecipe:
            return self.recipes.resolve_dtype(value)
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

    def array(self, state: object) -> np.ndarray:
        """The array an array recipe's state describes (object arrays: each item built and checked)."""
        return self.recipes.array(state, self._object_item)

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
        if isinstance(value, FrozenCallable):
            label = value.label
        elif isinstance(value, type):
            label = f"{value.__module__}.{value.__qualname__}"
        else:
            label = type(value).__name__
        self.recipes.refuse(f"{label} as a value", "only data values are allowed")

    def _object_item(self, item: Any) -> Any:
        built = self.build(item)
        if type(built) in _PLAIN_LEAVES or isinstance(built, _PLAIN_VALUE_TYPES):
            return built
        self._refuse_value(built)
