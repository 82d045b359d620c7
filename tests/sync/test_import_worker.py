"""The forked import worker (connectkit.sync.import_worker): the same runs, counts and
directory as importing in-process, on SQLite and PostgreSQL; connector failures cross
the process boundary; the child never outlives the pages it was asked for."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectkit.context import ConnectorContext
from connectkit.errors import ConnectorError, RetryLaterError
from connectkit.models import PeoplePage, Role
from connectkit.processes import fork_available
from connectkit.store.engine import make_engine
from connectkit.store.tables import metadata
from connectkit.sync import service
from connectkit.sync.import_worker import GATHER_SECONDS, worker_pages
from connectkit.sync.people_read import PeopleRead

from .conftest import NAME, World, build_world
from .test_fast_path import _directory, _scenario
from .test_ongoing import nonzero

pytestmark = pytest.mark.skipif(not fork_available(), reason="needs the fork start method")


def _in_process_result(tmp_path: Path) -> tuple[list[dict[str, int]], list[tuple[Any, ...]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'in-process.sqlite'}")
    metadata.create_all(engine)
    world = build_world(engine, tmp_path / "state-in-process")
    try:
        return _scenario(world), _directory(world)
    finally:
        engine.dispose()


def test_worker_runs_reach_the_same_counts_and_directory(world: World, tmp_path: Path) -> None:
    world.rt = world.runtime(import_worker=True)
    counts = _scenario(world)
    assert counts[0] == {"created": 18}
    assert (counts, _directory(world)) == _in_process_result(tmp_path)
    assert multiprocessing.active_children() == []


def _worker_world(world: World) -> World:
    world.rt = world.runtime(import_worker=True)
    world.add(Role.STUDENT, 30)  # 5 pages of 7 (the fixture's page size)
    return world


def test_a_connector_error_in_the_worker_is_raised_in_the_run(world: World) -> None:
    _worker_world(world)
    world.fake.fail("fetch_people", RetryLaterError("MIS busy (503) on page 3"), page=3)
    with pytest.raises(RetryLaterError, match="MIS busy"):
        service.start_run(world.rt, NAME)
    assert len(world.staged()) == 14  # the two pages before the failure were kept
    world.fake.clear_failures()
    res = service.continue_run(world.rt, NAME)
    assert res.status == "awaiting_review"
    assert len(world.staged()) == 30


class Unpicklable(Exception):
    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


def test_an_error_that_cannot_cross_the_pipe_is_named(world: World) -> None:
    _worker_world(world)
    world.fake.fail("fetch_people", Unpicklable("odd failure", code=7), page=2)
    with pytest.raises(ConnectorError, match="Unpicklable: odd failure"):
        service.start_run(world.rt, NAME)


class DyingConnector:
    """Yields one page, then its process dies without a word."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def fetch_people(
        self, ctx: ConnectorContext, role: Role, since: datetime | None, cursor: str | None
    ) -> Iterator[PeoplePage]:
        pages = self.inner.fetch_people(ctx, role, since=since, cursor=cursor)
        yield next(pages)
        os._exit(7)


def _stager(world: World) -> Any:
    from connectkit.sync.mapper import compile_mapping
    from connectkit.sync.stage import Stager
    from connectkit.sync.validate import Validator

    from .conftest import MAPPING

    return Stager(
        integration_id=world.integration_id, integration=NAME, run_id=0,
        maps=compile_mapping(MAPPING), validator=Validator("GB"), site="Main Site",
        hooks=world.rt.hooks,
    )  # fmt: skip


def _connector_and_context(world: World) -> tuple[Any, ConnectorContext]:
    from connectkit import integrations as lifecycle

    with world.engine.connect() as conn:
        row = lifecycle.get(conn, world.integration_id)
    return world.rt.hooks.connector("fake"), world.rt.env.context_for(row)


def test_a_worker_that_dies_is_reported_not_waited_for(world: World) -> None:
    _worker_world(world)
    connector, ctx = _connector_and_context(world)
    read = PeopleRead(DyingConnector(connector), ctx, _stager(world), Role.STUDENT, None, None)
    pages = worker_pages(world.engine, read)
    [(first, cursor)] = next(pages)
    assert first.imported == 7
    assert cursor is not None
    with pytest.raises(ConnectorError, match="exit code 7"):
        next(pages)
    assert multiprocessing.active_children() == []


def test_stopping_early_ends_the_worker(world: World) -> None:
    _worker_world(world)
    connector, ctx = _connector_and_context(world)
    read = PeopleRead(connector, ctx, _stager(world), Role.STUDENT, None, None)
    pages = worker_pages(world.engine, read)
    next(pages)
    assert len(multiprocessing.active_children()) == 1
    pages.close()
    assert multiprocessing.active_children() == []


def test_worker_mode_unchanged_rerun_writes_nothing(world: World) -> None:
    _worker_world(world)
    service.start_run(world.rt, NAME)
    service.confirm(world.rt, NAME)
    before = world.users_raw()
    world.clock.advance(hours=1)
    res = service.start_run(world.rt, NAME, kind="reconcile")
    assert nonzero(res.counts) == {"unchanged": 30}
    assert world.users_raw() == before


def test_only_full_runs_read_through_the_worker(world: World) -> None:
    _worker_world(world)
    service.start_run(world.rt, NAME)
    service.confirm(world.rt, NAME)
    assert world.fake.calls("fetch_people") == []  # the child's copy of the fake was called
    world.clock.advance(hours=1)
    world.fake.update_person(Role.STUDENT, "S000002", last_name="Changed")
    res = service.start_run(world.rt, NAME)
    assert res.counts["updated"] == 1
    fetches = world.fake.calls("fetch_people")
    assert fetches
    assert all(call.args["since"] is not None for call in fetches)  # in this process



def test_a_failed_write_stops_the_worker_at_once(tmp_path: Path) -> None:
    """The store refuses the second page while the child is still reading: the child is
    ended before the error reaches the caller, not whenever the generator is collected."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER full_disk BEFORE INSERT ON staged_records "
            "WHEN (SELECT count(*) FROM staged_records) >= 7 "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    world = _worker_world(build_world(engine, tmp_path / "state"))
    world.rt = world.runtime(import_group=1)  # one page per transaction: 7 rows survive
    world.add(Role.STUDENT, 3000, start=1000)  # far more pages than the pipe buffers
    try:
        with pytest.raises(sa.exc.DBAPIError, match="disk full"):
            service.start_run(world.rt, NAME)
        assert multiprocessing.active_children() == []
        assert len(world.staged()) == 7  # the first page stayed, checkpointed
    finally:
        engine.dispose()


def test_an_in_memory_store_imports_in_process(tmp_path: Path) -> None:
    from sqlalchemy.pool import StaticPool

    engine = make_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    world = _worker_world(build_world(engine, tmp_path / "state"))
    try:
        res = service.start_run(world.rt, NAME)
        assert (res.status, res.ready) == ("awaiting_review", 30)
        assert world.fake.calls("fetch_people")  # read here: a child could not open it
    finally:
        engine.dispose()


def test_pages_that_are_ready_together_are_written_together(world: World) -> None:
    import time

    _worker_world(world)
    connector, ctx = _connector_and_context(world)
    read = PeopleRead(connector, ctx, _stager(world), Role.STUDENT, None, None)
    pages = worker_pages(world.engine, read, group=3)
    with closing(pages):
        first = next(pages)  # the child starts; let it get ahead
        time.sleep(0.5)
        groups = [first, *pages]
    sizes = [len(group) for group in groups]
    assert max(sizes) == 3  # ready pages come together, never more than the group
    cursors = [cursor for group in groups for _page, cursor in group]
    assert len(cursors) == 5  # 30 students, pages of 7, in order, once each
    assert cursors[-1] is None
    assert None not in cursors[:-1]
    assert sum(page.imported for group in groups for page, _cursor in group) == 30


class SteadyConnector:
    """Yields the inner connector's pages, the first at once, the second after ``pause``
    seconds and the rest ``gap`` seconds apart (a child slower than the writer, as in
    an unchanged re-run)."""

    def __init__(self, inner: Any, pause: float, gap: float) -> None:
        self.inner, self.pause, self.gap = inner, pause, gap

    def fetch_people(
        self, ctx: ConnectorContext, role: Role, since: datetime | None, cursor: str | None
    ) -> Iterator[PeoplePage]:
        pages = self.inner.fetch_people(ctx, role, since=since, cursor=cursor)
        for number, page in enumerate(pages):
            time.sleep(0 if number == 0 else self.pause if number == 1 else self.gap)
            yield page


def test_a_writer_ahead_of_the_worker_gathers_pages_into_groups(world: World) -> None:
    _worker_world(world)  # 5 pages
    connector, ctx = _connector_and_context(world)
    # the second page comes well after the first (so the first is written alone, at
    # once), but within the gather window of a writer found waiting; the rest follow
    slow = SteadyConnector(connector, pause=GATHER_SECONDS * 0.75, gap=GATHER_SECONDS / 10)
    read = PeopleRead(slow, ctx, _stager(world), Role.STUDENT, None, None)
    sizes = [len(group) for group in worker_pages(world.engine, read)]
    assert sum(sizes) == 5
    assert sizes[0] == 1  # nothing to wait for yet: the first page is written at once
    assert max(sizes) > 1  # then the writer, found waiting, gathers what follows


def test_a_worker_checks_pages_itself_while_the_writer_is_behind(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the writer found behind, the child checks each page (validation and the
    duplicate lookup) before sending it; otherwise it sends pages mapped only."""
    from connectkit.sync import import_worker
    from connectkit.sync.stage import MappedPage, StagedPage

    _worker_world(world)
    connector, ctx = _connector_and_context(world)
    read = PeopleRead(connector, ctx, _stager(world), Role.STUDENT, None, None)
    monkeypatch.setattr(import_worker, "BEHIND_BYTES", 0)  # the child is forked: it sees this
    pages = [page for group in worker_pages(world.engine, read) for page, _cursor in group]
    assert [type(page) for page in pages] == [StagedPage] * 5
    assert sum(len(page.rows) for page in pages) == 30
    monkeypatch.setattr(import_worker, "BEHIND_BYTES", 1 << 40)  # never behind
    pages = [page for group in worker_pages(world.engine, read) for page, _cursor in group]
    assert [type(page) for page in pages] == [MappedPage] * 5


def test_pages_the_worker_checked_reach_the_same_counts_and_directory(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectkit.sync import import_worker

    monkeypatch.setattr(import_worker, "BEHIND_BYTES", 0)  # every page checked in the child
    world.rt = world.runtime(import_worker=True)
    counts = _scenario(world)
    assert counts[0] == {"created": 18}
    assert (counts, _directory(world)) == _in_process_result(tmp_path)
