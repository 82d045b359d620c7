"""The import phase: fetch pages per role, stage each page, checkpoint after each.

Each page is staged and the run's checkpoint (role, cursor of that page, counters)
saved in ONE transaction, so after a crash the run resumes at the page after the last
checkpoint: nothing lost (the page in flight was rolled back) and nothing doubled
(staging is an upsert keyed on the MIS id).

With ``Runtime.import_worker`` (and ``fork`` available) the pages of a full run are
fetched and mapped by a child process ahead of this one
(:mod:`connectkit.sync.import_worker`); this process checks (unless the worker did)
and writes them, several ready pages in one transaction with one checkpoint after the
last.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from contextlib import closing
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from connectkit.context import ConnectorContext
from connectkit.models import PeoplePage, Role
from connectkit.plugins.facade import Connector
from connectkit.processes import fork_available
from connectkit.sync import killpoint, runs
from connectkit.sync.import_worker import worker_pages
from connectkit.sync.people_read import PeopleRead
from connectkit.sync.runtime import Runtime
from connectkit.sync.stage import MappedPage, StagedPage, Stager

Progress = Callable[[str, int], None]
"""Called after each staged page with the role and the records imported so far."""

Prepare = Callable[[sa.Connection], StagedPage]
"""Prepares one page inside the transaction that writes it."""


def run_import(
    rt: Runtime,
    run: runs.RunRow,
    connector: Connector,
    ctx: ConnectorContext,
    stager: Stager,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Import every enabled role from the checkpoint on; returns the final checkpoint."""
    checkpoint = dict(run.checkpoint)
    since = _since(checkpoint)
    if stager.by_fingerprint:
        ctx = replace(ctx, vouch=partial(_vouch, rt.engine, stager))
    for role in Role:
        if str(role) in checkpoint.get("roles_done", []):
            continue
        if not stager.maps[role].enabled:
            checkpoint = _finish_role(rt, run.id, checkpoint, role)
            continue
        cursor = checkpoint.get("cursor") if checkpoint.get("role") == str(role) else None
        pages = _pages(rt, PeopleRead(connector, ctx, stager, role, since, cursor))
        with closing(pages):  # on any exit: stop a worker process at once, not at GC
            for group in pages:
                checkpoint = _stage_pages(rt, run.id, checkpoint, stager, role, group)
                if progress is not None:
                    progress(str(role), int(checkpoint["seen"]))
        if str(role) not in checkpoint.get("roles_done", []):
            checkpoint = _finish_role(rt, run.id, checkpoint, role)
    return checkpoint


def _pages(
    rt: Runtime, read: PeopleRead
) -> Generator[list[tuple[Prepare, str | None]], None, None]:
    """The pages of ``read``, as groups to write in one transaction each: (how to
    prepare a page, its cursor).

    In this process a group is one page (the connector fetches between pages, and no
    transaction stays open across a fetch). The import worker reads full runs only (a
    changed-since read is usually a page or two, less work than starting a process)
    and hands over every page it has ready.
    """
    if rt.import_worker and read.since is None and fork_available() and _shared(rt.engine):
        ready_pages = worker_pages(rt.engine, read, rt.import_group)
        with closing(ready_pages):
            for ready in ready_pages:
                yield [(partial(_checked, read, page), cursor) for page, cursor in ready]
        return
    for page in read.pages():
        yield [(partial(_map_and_check, read, page), page.cursor)]


def _checked(read: PeopleRead, page: MappedPage | StagedPage, conn: sa.Connection) -> StagedPage:
    """A page from the import worker, checked here unless the worker checked it."""
    if isinstance(page, StagedPage):
        return page
    return read.stager.check(conn, read.role, page)


def _map_and_check(read: PeopleRead, page: PeoplePage, conn: sa.Connection) -> StagedPage:
    """Both halves of staging one page, in this process."""
    return read.stager.check(conn, read.role, read.map(conn, page))


def _shared(engine: sa.Engine) -> bool:
    """False for an in-memory SQLite store, which another process cannot open."""
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def _vouch(engine: sa.Engine, stager: Stager, fingerprints: Mapping[str, str]) -> frozenset[str]:
    """``ConnectorContext.unchanged`` during an import (in whichever process reads)."""
    with engine.connect() as conn:
        return stager.vouch(conn, fingerprints)


def _since(checkpoint: dict[str, Any]) -> datetime | None:
    value = checkpoint.get("since")
    return datetime.fromisoformat(value) if value else None


def _stage_pages(
    rt: Runtime,
    run_id: int,
    checkpoint: dict[str, Any],
    stager: Stager,
    role: Role,
    group: list[tuple[Prepare, str | None]],
) -> dict[str, Any]:
    """Stage a group of pages and save the checkpoint after its last, in one transaction."""
    with rt.engine.begin() as conn:
        new = checkpoint
        for prepare, cursor in group:
            page = prepare(conn)
            stager.write(conn, page)
            new = _advanced(new, role, cursor, page.imported)
            killpoint.reached("stage")
        runs.save(
            conn,
            run_id,
            worker=rt.worker,
            now=rt.clock(),
            lease_seconds=rt.lease_seconds,
            checkpoint=new,
        )
    killpoint.reached("import")
    return new


def _advanced(
    checkpoint: dict[str, Any], role: Role, cursor: str | None, imported: int
) -> dict[str, Any]:
    """The checkpoint after one more page of ``role`` (resume after ``cursor``)."""
    new = dict(checkpoint, role=str(role), cursor=cursor)
    new["pages"] = int(checkpoint.get("pages", 0)) + 1
    new["seen"] = int(checkpoint.get("seen", 0)) + imported
    if cursor is None:
        new["roles_done"] = [*checkpoint.get("roles_done", []), str(role)]
    return new


def _finish_role(
    rt: Runtime, run_id: int, checkpoint: dict[str, Any], role: Role
) -> dict[str, Any]:
    new = dict(checkpoint, role=str(role), cursor=None)
    new["roles_done"] = [*checkpoint.get("roles_done", []), str(role)]
    with rt.engine.begin() as conn:
        runs.save(
            conn,
            run_id,
            worker=rt.worker,
            now=rt.clock(),
            lease_seconds=rt.lease_seconds,
            checkpoint=new,
        )
    return new
