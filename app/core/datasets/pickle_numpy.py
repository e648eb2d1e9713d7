"""numpy objects in pickles, rebuilt with numpy's own constructors and never from the file's raw state.

The state numpy would trust (dtype flags, field offsets) can be forged to make numpy read pointers
from file bytes. So what a pickle asks ``numpy.dtype`` and ``numpy.ndarray`` for is recorded as a
recipe, and `NumpyRecipes` turns recipes into real objects: plain (non-structured) dtypes from type
strings only, arrays whose data fits their shape, object arrays only from lists of checked values.
"""

from __future__ import annotations

import importlib
import math
import pickle
from collections.abc import Callable
from typing import Any, NoReturn, cast

import numpy as np

from app.core.datasets.pickle_errors import PickleRefused

_DATETIME_UNITS = frozenset(
    {"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as", "generic"}
)


def _numpy_multiarray_scalar() -> Callable[..., Any]:
    try:
        module = importlib.import_module("numpy._core.multiarray")
    except ImportError:
        module = importlib.import_module("numpy.core.multiarray")
    scalar: Callable[..., Any] = module.scalar
    return scalar


_numpy_scalar = _numpy_multiarray_scalar()


class FrozenCallable:
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


NDARRAY_MARKER = FrozenCallable(lambda *args: None, "numpy.ndarray")
"""What the pickle gets for ``numpy.ndarray``: only ever accepted as the subtype of a reconstruct."""


class DtypeRecipe:
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


class ArrayRecipe:
    """What the pickle asked ``numpy.ndarray`` to hold (its BUILD state); built after loading."""

    __slots__ = ("state",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self) -> None:
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("a numpy array was given its state twice")
        self.state = state


def array_state_parts(state: object) -> tuple[Any, ...] | None:
    """``(shape, dtype recipe, is_fortran, raw data)`` from an array's BUILD state, None if malformed."""
    if isinstance(state, tuple) and len(state) == 5:
        state = state[1:]
    if not isinstance(state, tuple) or len(state) != 4:
        return None
    return state


class NumpyRecipes:
    """Builds the numpy objects one file asked for; refusals raise `PickleRefused` naming the file."""

    def __init__(self, source_name: str, allow_object_arrays: bool) -> None:
        self.source_name = source_name
        self.allow_object_arrays = allow_object_arrays

    def refuse(self, what: str, reason: str) -> NoReturn:
        """Raise `PickleRefused` for this file."""
        raise PickleRefused(self.source_name, what, reason)

    def check_shape(self, shape: object) -> tuple[int, ...]:
        """A numpy shape from the file: a tuple (numpy itself rejects bad or negative sizes)."""
        if type(shape) is not tuple:
            self.refuse("a numpy array with a malformed shape", f"got {type(shape).__name__}")
        return shape

    def parts(self, state: object) -> tuple[Any, ...]:
        """`array_state_parts`, refused when the state has an unknown layout."""
        parts = array_state_parts(state)
        if parts is None:
            self.refuse("a numpy array with an unknown state layout", f"got {type(state).__name__}")
        return parts

    def resolve_dtype(self, recipe: object) -> np.dtype[Any]:
        """Rebuild a dtype with numpy's constructor from a plain type string; never from raw state."""
        if not isinstance(recipe, DtypeRecipe) or not isinstance(recipe.spec, str):
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

    def scalar(self, dtype: object, data: object = None) -> Any:
        """``numpy.core.multiarray.scalar``: a numpy scalar of exactly one item's bytes."""
        real = self.resolve_dtype(dtype)
        if real.hasobject:
            return data
        if isinstance(data, str):
            data = data.encode("latin1")
        if not isinstance(data, bytes) or len(data) != real.itemsize:
            self.refuse("numpy scalar with malformed data", f"expected {real.itemsize} bytes for {real}")
        return _numpy_scalar(real, data)

    def frombuffer(self, buffer: object, dtype: object, shape: object, order: object) -> np.ndarray:
        """``numpy.core.numeric._frombuffer`` (protocol 5): an array over bytes, never of objects."""
        real = self.resolve_dtype(dtype)
        if real.hasobject:
            self.refuse("numpy frombuffer with object dtype", "object arrays cannot come from raw bytes")
        if not isinstance(buffer, bytes | bytearray) or order not in ("C", "F"):
            self.refuse("numpy frombuffer with malformed arguments", "expected bytes and order 'C' or 'F'")
        dims = self.check_shape(shape)
        return np.frombuffer(buffer, dtype=real).reshape(dims, order=order)

    def array(self, state: object, object_item: Callable[[Any], Any]) -> np.ndarray:
        """The array an `ArrayRecipe`'s state describes, its data checked against shape and dtype.

        The items of an object array go through ``object_item``, which returns the plain value to
        store or refuses it.
        """
        shape, dtype_recipe, is_fortran, raw = self.parts(state)
        dims = self.check_shape(shape)
        dtype = self.resolve_dtype(dtype_recipe)
        if dtype.hasobject:
            if not isinstance(raw, list):
                self.refuse("an object-dtype numpy array built from raw bytes", "it could forge pointers")
            raw = [object_item(item) for item in raw]
        elif isinstance(raw, str):
            raw = raw.encode("latin1")
        elif isinstance(raw, bytearray):
            raw = bytes(raw)
        elif not isinstance(raw, bytes):
            self.refuse("a numpy array with malformed data", f"got {type(raw).__name__}")
        if not all(type(size) is int and size >= 0 for size in dims):
            self.refuse("a numpy array with a malformed shape", f"got {dims!r:.80}")
        expected = math.prod(dims) * (1 if dtype.hasobject else dtype.itemsize)
        if expected != len(raw):
            self.refuse("a numpy array whose data does not fit its shape", f"{len(raw)} items for {dims}")
        array = np.ndarray.__new__(np.ndarray, (0,), np.dtype("b"))
        array.__setstate__(cast(Any, (1, dims, dtype, bool(is_fortran), raw)))
        return array

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
