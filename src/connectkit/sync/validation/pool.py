"""The optional worker pool that shares large batches of :meth:`Validator.validate_many`."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

log = logging.getLogger("connectkit.sync.validate")

_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool shared by every Validator of this process (forkserver: safe next to
    threads and open database connections); shut down at interpreter exit."""
    pool = _POOLS.get(workers)
    if pool is None:
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _POOLS[workers] = pool
    return pool


@contextmanager
def _main_hidden() -> Iterator[None]:
    """Hide ``__main__`` while workers may start (``submit`` starts them lazily).

    Workers need nothing from the caller's script; without this, multiprocessing would
    re-run a script that lacks an ``if __name__ == "__main__":`` guard in the forkserver
    and in every worker — running its sync a second time.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _pool_failed(workers: int, exc: BaseException) -> None:
    """A pool that cannot start or died: forget it and validate in this process (the
    verdicts are the same; only the second core is lost). A later batch tries anew."""
    pool = _POOLS.pop(workers, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    log.warning("validator worker pool unavailable (%s); validating in-process", exc)


def _default_workers() -> int:
    """Worker processes for large batches: ``CONNECTKIT_VALIDATE_WORKERS``, default 0.

    Measured (docs/performance.md): a worker halves the parent's validation CPU, but on a
    two-core machine whose second core is busy (the database, other workers) the engine
    staged no faster with it, so it is opt-in.
    """
    configured = os.environ.get("CONNECTKIT_VALIDATE_WORKERS")
    return max(0, int(configured)) if configured else 0
