"""Fast structural reading of large pickles (converted infos of hundreds of MB) for preflight checks.

The same opcode pre-scan and the same `RestrictedUnpickler` (fixed table of data constructors, same
refusals) as `app.core.datasets.safe_pickle.load_pickle`, except that numpy arrays stay
`ArrayOutline` objects (shape and dtype known, data built only on request through the safe loader's
own checked path) and the loaded tree is not walked afterwards. Building hundreds of thousands of
small camera matrices is what makes a full load slow; a check that wants one shape should not pay
for it.

Containers in the result hold plain values, `ArrayOutline`, numpy arrays and scalars; a pickle that
puts anything else in a container (a constructor as a value) gives an object callers do not recognise,
so checks must test types, never call or trust what they find.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

from app.core.datasets.pickle_errors import PickleLoadError, check_pickle_size
from app.core.datasets.pickle_numpy import DtypeRecipe, NumpyRecipes, array_state_parts
from app.core.datasets.pickle_scan import check_opcode_stream
from app.core.datasets.safe_pickle import PlainBuilder, RestrictedUnpickler


class ArrayOutline:
    """A numpy array read from a pickle but not built: ``shape`` and ``dtype`` now, ``array()`` on demand."""

    __slots__ = ("_recipes", "state")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, recipes: NumpyRecipes) -> None:
        self._recipes = recipes
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("a numpy array was given its state twice")
        self.state = state

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape as the pickle states it (`PickleRefused` if malformed)."""
        return self._recipes.check_shape(self._recipes.parts(self.state)[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        """The array's dtype, rebuilt by numpy's constructor from a plain type string."""
        return self._recipes.resolve_dtype(self._recipes.parts(self.state)[1])

    def data_key(self) -> tuple[Any, ...] | None:
        """A hashable (shape, dtype as requested, raw bytes) that equal arrays share; None for object
        arrays and malformed states. Equal keys always give equal arrays, so a caller may reuse what
        it made of one array for another with the same key."""
        parts = array_state_parts(self.state)
        if parts is None:
            return None
        shape, dtype, _, raw = parts
        if not isinstance(raw, bytes | str) or type(shape) is not tuple or type(dtype) is not DtypeRecipe:
            return None
        key = (shape, dtype.spec, dtype.state, raw)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def array(self) -> np.ndarray:
        """The array itself, built as the safe loader builds arrays (`PickleLoadError` if refused)."""
        try:
            return PlainBuilder(self._recipes).array(self.state)
        except PickleLoadError:
            raise
        except Exception as error:
            raise PickleLoadError(
                self._recipes.source_name, f"a numpy array cannot be built ({error})"
            ) from error


class _OutlineUnpickler(RestrictedUnpickler):
    """The restricted unpickler, with arrays left as outlines."""

    def new_array_recipe(self) -> ArrayOutline:
        """An outline in place of the array."""
        return ArrayOutline(self.numpy)


def load_pickle_outline(data: bytes, source_name: str, *, max_bytes: int, size: int | None = None) -> Any:
    """Load a pickle held in memory with arrays as `ArrayOutline`.

    ``size`` (the file's size, when known) is checked against ``max_bytes`` before anything else.
    Raises `PickleLoadError`, `safe_pickle.PickleRefused` or `PickleTooLarge` naming ``source_name``.
    For a large file, keep the cycle collector paused (`app.core.gc_pause`) until the outline has
    been read and dropped: a collection over millions of loaded objects costs more than the load.
    """
    check_pickle_size(len(data) if size is None else max(size, len(data)), max_bytes, source_name)
    check_opcode_stream(data, source_name)
    return _OutlineUnpickler(io.BytesIO(data), source_name).load_recipes()
