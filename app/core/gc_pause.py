"""Pausing Python's cycle collector while a large document (JSON, a pickle) is turned into objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """Pause the cycle collector for the block; it is switched back on only if it was on before.

    Loading makes millions of objects and no garbage cycles; left running, the collector would walk
    them again and again and cost more than the loading itself. Nested pauses are fine: the collector
    comes back when the outermost one ends, so a caller can keep it paused until a loaded document
    has been read and dropped (a collection over a document about to be freed is wasted work).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
