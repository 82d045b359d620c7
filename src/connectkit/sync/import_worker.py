"""Import on two cores: a forked worker fetches and maps, the run's process checks
and writes.

Staging a page is: fetch and map it (the connector), apply the mapping, record
adjusters and overrides, digest and set unchanged records aside
(:meth:`Stager.map_page`, which reads only tables an import never writes); then
validate, look duplicates up and build rows (:meth:`Stager.check`); then write them
with the checkpoint. :func:`worker_pages` runs the first part in a child process with
its own store connection, ahead of the parent, which checks and writes the pages
exactly as in-process staging does. The halves cost about the same; whenever the parent
falls behind (:data:`BEHIND_BYTES` wait unread in the pipe) the child checks its next
page too (checking reads only ``users``, which no import writes), so the work balances
itself and both cores stay busy. Resuming, counting and the run log are therefore the
same in both modes.

The child is forked (plugins, the connector context and any test transport are
inherited, nothing is pickled but the mapped pages). Pages travel through a pipe whose
buffer (:data:`PIPE_BYTES` where Linux allows, else 64 KiB) bounds how far ahead the
child gets, so memory stays flat while the child rarely waits for the writer. Pages
that are ready together (the parent is the slower side) are written in one transaction
with one checkpoint, up to ``Runtime.import_group`` of them; when the parent is the
faster side (an unchanged re-run: the child decodes, the parent only notes) it gathers
the pages that follow each other closely into such groups too. An exception in the child is
re-raised in the parent (as a :class:`~connectkit.errors.ConnectorError` naming it when
it cannot cross the pipe). If the parent dies, the child's next send fails and it
exits; if the parent stops early, it terminates the child.

Where ``fork`` is unavailable (:func:`connectkit.processes.fork_available`) the engine
imports in-process.
"""

from __future__ import annotations

import array
import contextlib
import logging
import multiprocessing
import os
import pickle
import warnings
from collections.abc import Generator
from multiprocessing.connection import Connection
from typing import Any

try:
    import fcntl
    import termios
except ImportError:  # pragma: no cover - Windows (which has no fork either)
    fcntl = None  # type: ignore[assignment]
    termios = None  # type: ignore[assignment]

from connectkit.errors import ConnectorError
from connectkit.sync.people_read import PeopleRead
from connectkit.sync.stage import MappedPage, StagedPage

log = logging.getLogger(__name__)

_PAGE, _END, _FAILED = "page", "end", "failed"
GATHER_SECONDS = 0.02
"""How long a writer that is ahead of the child waits for one more page before it
writes the group it has (a transaction and its checkpoint cost about as much as the
rows of a page of unchanged records)."""
PIPE_BYTES = 1 << 20
"""The pipe buffer asked for: about ten pickled pages of 200 staged records."""
_FORK_WITH_THREADS = r".*multi-threaded, use of fork\(\) may lead to deadlocks"


BEHIND_BYTES = 1 << 18
"""Unread bytes in the pipe (about two or three pages) at which the child finds the
parent behind and checks its next page itself."""

Ready = list[tuple[MappedPage | StagedPage, str | None]]
"""Pages that arrived together, each with its resume cursor: mapped, or already checked
by the child."""


def worker_pages(engine: Any, read: PeopleRead, group: int = 10) -> Generator[Ready, None, None]:
    """The mapped pages of ``read``, fetched and mapped by a forked child process.
    Yields groups of at least one and at most ``group`` pages, to be written in one
    transaction each: the pages that are ready and, when this process found itself
    waiting for the child after its last write, those that follow within
    :data:`GATHER_SECONDS` of each other. Pages received before a failure are yielded
    before it is raised."""
    mp = multiprocessing.get_context("fork")
    receiver, sender = mp.Pipe(duplex=False)
    _widen(sender)
    child = mp.Process(
        target=_read,
        args=(sender, os.getpid(), engine, read),
        name=f"connectkit-import-{read.role}",
        daemon=True,
    )
    with warnings.catch_warnings():
        # Python >= 3.12 warns when a process with threads forks (a lock held by another
        # thread stays held in the child). The child runs only this module's loop: the
        # connector, the store (its own connection) and logging (reinitialised at fork).
        warnings.filterwarnings("ignore", _FORK_WITH_THREADS, DeprecationWarning)
        child.start()
    sender.close()
    batch: Ready = []
    ahead = False  # this process is the faster side: worth waiting for fuller groups
    try:
        for page in _received(receiver, child):
            batch.append(page)
            if len(batch) < group and _more(receiver, ahead):
                continue
            yield batch
            batch = []
            ahead = not receiver.poll()
        if batch:
            yield batch
    except Exception:
        if batch:
            yield batch  # what arrived before the failure is kept
        raise
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _more(receiver: Connection, wait: bool) -> bool:
    """True when another page is ready (or, with ``wait``, arrives within
    :data:`GATHER_SECONDS`)."""
    return receiver.poll(GATHER_SECONDS if wait else 0)


def _widen(pipe: Connection) -> None:
    """Grow the pipe's buffer to :data:`PIPE_BYTES` (Linux; elsewhere, or above the
    system's limit, it stays as it is)."""
    resize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if resize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), resize, PIPE_BYTES)


def _received(
    receiver: Connection, child: Any
) -> Generator[tuple[MappedPage, str | None], None, None]:
    """The child's pages until its end; its failure (or its death) raised."""
    while True:
        message = _receive(receiver, child)
        if message[0] == _END:
            return
        if message[0] == _FAILED:
            raise message[1]
        yield message[1], message[2]


def _receive(receiver: Connection, child: Any) -> tuple[Any, ...]:
    try:
        message: tuple[Any, ...] = receiver.recv()
    except EOFError:
        child.join()
        raise ConnectorError(
            f"the import worker process ended without finishing (exit code {child.exitcode})"
        ) from None
    return message


def _read(sender: Connection, parent: int, engine: Any, read: PeopleRead) -> None:
    """The child: fetch and map every page, send each; then the end (or the error)."""
    engine.dispose(close=False)  # never touch the parent's pooled connections
    try:
        for page in read.pages():
            with engine.connect() as conn:
                mapped = read.map(conn, page)
                staged = read.stager.check(conn, read.role, mapped) if _behind(sender) else mapped
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


def _behind(sender: Connection) -> bool:
    """True when at least :data:`BEHIND_BYTES` sent bytes wait unread in the pipe: the
    parent is the slower side, so the child takes the checking half of the next page
    too (Linux: FIONREAD on the pipe; elsewhere never)."""
    if fcntl is None or termios is None:
        return False
    queued = array.array("i", [0])
    try:
        fcntl.ioctl(sender.fileno(), termios.FIONREAD, queued)
    except OSError:
        return False
    return queued[0] >= BEHIND_BYTES


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ConnectorError naming it."""
    try:
        copy: BaseException = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
        return copy
    except Exception:
        return ConnectorError(f"{type(exc).__name__}: {exc}")
