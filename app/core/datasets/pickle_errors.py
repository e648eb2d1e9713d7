"""The errors of the safe pickle readers, and the size limit they share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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


def check_pickle_size(size: int, max_bytes: int, source_name: str) -> None:
    """Raise `PickleTooLarge` naming the file when ``size`` is above ``max_bytes``."""
    if size > max_bytes:
        raise PickleTooLarge(
            source_name, f"the pickle is {size:,} bytes, more than the {max_bytes:,}-byte limit for pickles"
        )


@contextmanager
def load_errors_named(source_name: str) -> Iterator[None]:
    """Turn whatever unpickling raises into `PickleLoadError` naming the file (refusals pass as they are)."""
    try:
        yield
    except PickleLoadError:
        raise
    except RecursionError as exc:
        raise PickleLoadError(source_name, "the pickle is nested too deeply to read") from exc
    except MemoryError as exc:
        raise PickleLoadError(source_name, "not enough memory to read the pickle") from exc
    except Exception as exc:
        raise PickleLoadError(source_name, f"not a readable pickle ({type(exc).__name__}: {exc})") from exc
