"""Import on two cores: a forked worker fetches and maps, the run's process checks
and writes.

Staging a page is: fetch and map it (the connector), apply the mapping, record
adjusters and overrides, digest and set unchanged records aside
(:meth:`Stager.map_page`, which reads only tables an import never writes); then
validate, look duplicates up and build rows (:meth:`Stager.check`); then write them
with the checkpoint. :func:`worker_pages` runs the first part in a child process with
its own store connection, ahead of the parent, which checks and writes the pages
exactly as in-process staging does (the two halves cost about the same, so both cores
stay busy). Resuming, counting and the run log are therefore the same in both modes.

The child is forked (plugins, the connector context and any test transport are
inherited, nothing is pickled but the mapped pages). Pages travel through a pipe whose
buffer (64 KiB) bounds how far ahead the child gets, so memory stays flat; pages that
are ready together (the parent is the slower side) are written in one transaction with
one checkpoint, up to ``Runtime.import_group`` of them. An exception in the child is
re-raised in the parent (as a :class:`~connectkit.errors.ConnectorError` naming it when
it cannot cross the pipe). If the parent dies, the child's next send fails and it
exits; if the parent stops early, it terminates the child.

Where ``fork`` is unavailable (:func:`connectkit.processes.fork_available`) the engine
imports in-process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import warnings
from collections.abc import Generator
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from connectkit.context import ConnectorContext
from connectkit.errors import ConnectorError
from connectkit.models import Role
from connectkit.plugins.facade import Connector
from connectkit.sync.stage import MappedPage, Stager

log = logging.getLogger(__name__)

_PAGE, _END, _FAILED = "page", "end", "failed"
_FORK_WITH_THREADS = r".*multi-threaded, use of fork\(\) may lead to deadlocks"


def worker_pages(
    engine: Any,
    connector: Connector,
    ctx: ConnectorContext,
    stager: Stager,
    role: Role,
    since: datetime | None,
    cursor: str | None,
    group: int = 10,
) -> Generator[list[tuple[MappedPage, str | None]], None, None]:
    """Mapped pages of ``role`` from ``cursor`` on, with each page's resume cursor,
    fetched and mapped by a forked child process. Yields the pages that are ready, at
    least one and at most ``group``: when this process is the slower one it writes
    several in one transaction."""
    mp = multiprocessing.get_context("fork")
    receiver, sender = mp.Pipe(duplex=False)
    parent = os.getpid()
    child = mp.Process(
        target=_read,
        args=(sender, parent, engine, connector, ctx, stager, role, since, cursor),
        name=f"connectkit-import-{role}",
        daemon=True,
    )
    with warnings.catch_warnings():
        # Python >= 3.12 warns when a process with threads forks (a lock held by another
        # thread stays held in the child). The child runs only this module's loop: the
        # connector, the store (its own connection) and logging (reinitialised at fork).
        warnings.filterwarnings("ignore", _FORK_WITH_THREADS, DeprecationWarning)
        child.start()
    sender.close()
    try:
        done = False
        while not done:
            batch: list[tuple[MappedPage, str | None]] = []
            while True:
                try:
                    message = _receive(receiver, child)
                except ConnectorError:
                    if batch:
                        yield batch  # what was read before the child died is kept
                    raise
                if message[0] == _END:
                    done = True
                    break
                if message[0] == _FAILED:
                    if batch:
                        yield batch  # what was read before the failure is kept
                    raise message[1]
                batch.append((message[1], message[2]))
                if len(batch) >= group or not receiver.poll():
                    break
            if batch:
                yield batch
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _receive(receiver: Connection, child: Any) -> tuple[Any, ...]:
    try:
        message: tuple[Any, ...] = receiver.recv()
    except EOFError:
        child.join()
        raise ConnectorError(
            f"the import worker process ended without finishing (exit code {child.exitcode})"
        ) from None
    return message


def _read(
    sender: Connection,
    parent: int,
    engine: Any,
    connector: Connector,
    ctx: ConnectorContext,
    stager: Stager,
    role: Role,
    since: datetime | None,
    cursor: str | None,
) -> None:
    """The child: fetch and map every page, send each; then the end (or the error)."""
    engine.dispose(close=False)  # never touch the parent's pooled connections
    try:
        for page in connector.fetch_people(ctx, role, since=since, cursor=cursor):
            with engine.connect() as conn:
                staged = stager.map_page(conn, role, page.people, page.unchanged)
            if os.getppid() != parent:
                return  # the run's process is gone: nobody will write this
            sender.send((_PAGE, staged, page.cursor))
        sender.send((_END,))
    except BrokenPipeError:
        return
    except BaseException as exc:  # every failure goes to the parent
        log.debug("import worker failed", exc_info=True)
        with contextlib.suppress(OSError):
            sender.send((_FAILED, _portable(exc)))
    finally:
        sender.close()
        engine.dispose()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ConnectorError naming it."""
    try:
        copy: BaseException = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
        return copy
    except Exception:
        return ConnectorError(f"{type(exc).__name__}: {exc}")
