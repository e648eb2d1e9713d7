"""Fast structural reading of large pickles (converted infos of hundreds of MB) for preflight checks.

This extends `app.core.datasets.safe_pickle` without changing it: the same opcode pre-scan, the same
restricted unpickler with the same fixed table of data constructors and the same refusals, except that
numpy arrays stay `ArrayOutline` objects (shape and dtype known, data built only on request through the
safe loader's own checked path) and the loaded tree is not walked afterwards. Building hundreds of
thousands of small camera matrices is what makes a full load slow; a check that wants one shape should
not pay for it.

Containers in the result hold plain values, `ArrayOutline`, numpy arrays and scalars; a pickle that
puts anything else in a container (a constructor as a value) gives an object callers do not recognise,
so checks must test types, never call or trust what they find.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

from app.core.datasets import safe_pickle
from app.core.datasets.safe_pickle import PickleLoadError, PickleTooLarge


class ArrayOutline:
    """A numpy array read from a pickle but not built: ``shape`` and ``dtype`` now, ``array()`` on demand."""

    __slots__ = ("_owner", "state")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, owner: _OutlineUnpickler) -> None:
        self._owner = owner
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        if self.state is not None:
            raise pickle.UnpicklingError("a numpy array was given its state twice")
        self.state = state

    def _parts(self) -> tuple[Any, ...]:
        state = self.state
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            self._owner.refuse("a numpy array with an unknown state layout", f"got {type(state).__name__}")
        return state

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape as the pickle states it (`PickleRefused` if malformed)."""
        return self._owner.check_shape(self._parts()[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        """The array's dtype, rebuilt by numpy's constructor from a plain type string."""
        return self._owner.resolve_dtype(self._parts()[1])

    def data_key(self) -> tuple[Any, ...] | None:
        """A hashable (shape, dtype, raw bytes) that equal arrays share; None for object arrays."""
        parts = self._parts()
        raw = parts[3]
        if not isinstance(raw, bytes | str) or not isinstance(parts[0], tuple):
            return None
        return parts[0], self.dtype.str, raw

    def array(self) -> np.ndarray:
        """The array itself, built as the safe loader builds arrays (`PickleLoadError` if refused)."""
        try:
            return safe_pickle._PlainBuilder(self._owner)._build_array(self)  # type: ignore[arg-type]
        except PickleLoadError:
            raise
        except Exception as error:
            raise PickleLoadError(
                self._owner.source_name, f"a numpy array cannot be built ({error})"
            ) from error


class _OutlineUnpickler(safe_pickle._RestrictedUnpickler):
    """The restricted unpickler, with arrays left as outlines."""

    def _reconstruct(self, subtype: object, shape: object = None, typecode: object = None) -> Any:
        if subtype is not safe_pickle._NDARRAY_MARKER:
            self.refuse("numpy ndarray reconstruct of another type", "only plain numpy arrays are allowed")
        return ArrayOutline(self)

    def load_outline(self) -> Any:
        """Unpickle without building arrays; errors as in `safe_pickle.load_pickle`."""
        try:
            with safe_pickle._garbage_collection_paused():
                return self.load()
        except PickleLoadError:
            raise
        except RecursionError as exc:
            raise PickleLoadError(self.source_name, "the pickle is nested too deeply to read") from exc
        except MemoryError as exc:
            raise PickleLoadError(self.source_name, "not enough memory to read the pickle") from exc
        except Exception as exc:
            problem = f"not a readable pickle ({type(exc).__name__}: {exc})"
            raise PickleLoadError(self.source_name, problem) from exc
        finally:
            # The outlines point back here; without its memo the loaded tree is freed by reference counting.
            self.memo.clear()


def load_pickle_outline(data: bytes, source_name: str, *, max_bytes: int, size: int | None = None) -> Any:
    """Load a pickle held in memory with arrays as `ArrayOutline`.

    ``size`` (the file's size, when known) is checked against ``max_bytes`` before anything else.
    Raises `PickleLoadError`, `safe_pickle.PickleRefused` or `PickleTooLarge` naming ``source_name``.
    """
    total = len(data) if size is None else max(size, len(data))
    if total > max_bytes:
        raise PickleTooLarge(
            source_name, f"the pickle is {total:,} bytes, more than the {max_bytes:,}-byte limit for pickles"
        )
    safe_pickle._scan_opcodes(data, source_name)
    return _OutlineUnpickler(io.BytesIO(data), source_name, True).load_outline()
