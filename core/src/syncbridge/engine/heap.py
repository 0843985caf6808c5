"""Keeping the collector's full passes off the objects that were there before a run.

A run allocates steadily (pages, models, rows) while the process already holds a large,
stable heap: imported modules, validators, the connectors' state. Python's full (oldest
generation) collections walk all of it, tens of milliseconds each, a few times per run,
for garbage that is never there. ``gc.freeze`` moves what exists to a permanent generation
that those passes skip; it is undone when the outermost run ends, so an application that
embeds syncbridge gets its collector back as it was.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the heap for the duration (re-entrant: only the outermost use unfreezes)."""
    global _depth
    with _lock:
        if _depth == 0:
            gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
