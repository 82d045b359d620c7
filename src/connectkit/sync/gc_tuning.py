"""Cyclic garbage collection tuned for a streaming run.

A run allocates millions of short-lived containers (decoded JSON, mapped records, row
tuples) while the process holds a large long-lived heap (modules, SQLAlchemy's compiled
caches, plugin state). With CPython's default thresholds the collector runs every 700
net container allocations and regularly walks that whole heap; in the sync benchmark
that was about a third of a run's CPU time. While :func:`streaming_gc` is active the
heap that existed before it is frozen (``gc.freeze``: not scanned again) and the
youngest generation's threshold is raised, so collections are rarer and scan only the
run's own objects. Reference counting still frees almost everything at once, and
cycles are still collected, in larger batches, so memory stays bounded.

Nested and concurrent uses (threads driving runs) share one setting: the first entry
applies it, the last exit restores what was there before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""Net container allocations between collections of the youngest generation while a
run streams (CPython's default is 700)."""

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def streaming_gc() -> Iterator[None]:
    """Freeze the existing heap and collect the young generation less often inside."""
    _enter()
    try:
        yield
    finally:
        _exit()


def _enter() -> None:
    global _depth, _saved
    with _lock:
        _depth += 1
        if _depth == 1:
            _saved = gc.get_threshold()
            gc.freeze()
            young, middle, old = _saved
            gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)


def _exit() -> None:
    global _depth, _saved
    with _lock:
        _depth -= 1
        if _depth == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            gc.unfreeze()
            _saved = None
