"""connectkit.sync.bulk.insert_rows: the same rows, in the same order, with the same
conflict handling as one single-row INSERT per row, on SQLite and PostgreSQL (where
plain inserts go as multi-row VALUES statements, within the parameter limit)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from connectkit.sync import bulk

from .conftest import World

_COLUMNS = ("integration_id", "mis_id", "fields", "updated_at")
_UPSERT = 'ON CONFLICT ("integration_id", "mis_id") DO UPDATE SET "fields" = excluded.fields'
_SKIP = 'ON CONFLICT ("integration_id", "mis_id") DO NOTHING'


def _overrides(world: World) -> list[tuple[str, Any]]:
    with world.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT mis_id, fields FROM overrides ORDER BY mis_id").all()
    return [(m, orjson.loads(f) if isinstance(f, str | bytes) else f) for m, f in rows]


def _insert(world: World, rows: list[tuple[str, str]], on_conflict: str = "") -> None:
    """Insert (MIS id, fields JSON) rows into ``overrides`` with :func:`bulk.insert_rows`."""
    with world.engine.begin() as conn:
        stamp = bulk.timestamp(conn, datetime(2026, 12, 7, tzinfo=UTC))
        full = [(world.integration_id, mis_id, fields, stamp) for mis_id, fields in rows]
        bulk.insert_rows(conn, "overrides", _COLUMNS, full, on_conflict)


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The INSERT statements the engine sends while inside (one per driver call)."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT"):
            sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def test_many_rows_go_in_groups_within_the_parameter_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "PG_PARAMETERS", 30)  # 4 columns: 7 rows per statement
    rows = [(f"M{i:03d}", orjson.dumps({"n": i}).decode()) for i in range(50)]
    with _statements(world.engine) as sent:
        _insert(world, rows)
    assert _overrides(world) == [(f"M{i:03d}", {"n": i}) for i in range(50)]
    if world.engine.dialect.name == "postgresql":
        assert len(sent) == 8  # 7 x 7 rows, then 1
        assert [s.count("(%s, %s, %s, %s)") for s in sent] == [7] * 7 + [1]
    else:
        assert len(sent) == 1  # one executemany


def test_an_upsert_takes_the_last_of_repeated_keys_as_row_by_row_would(
    world: World,
) -> None:
    """An upsert goes row by row (PostgreSQL refuses to update a row twice in one
    statement): one executemany, the last of a repeated key wins."""
    _insert(world, [("A", '{"v": 0}'), ("B", '{"v": 0}')])
    rows = [("A", '{"v": 1}'), ("C", '{"v": 1}'), ("A", '{"v": 2}'), ("B", '{"v": 3}')]
    with _statements(world.engine) as sent:
        _insert(world, rows, _UPSERT)
    assert _overrides(world) == [("A", {"v": 2}), ("B", {"v": 3}), ("C", {"v": 1})]
    assert len(sent) == 1
    assert sent[0].count("(%s, %s, %s, %s)" if "%s" in sent[0] else "(?, ?, ?, ?)") == 1


def test_do_nothing_keeps_the_first_of_repeated_keys(world: World) -> None:
    _insert(world, [("A", '{"v": 1}'), ("A", '{"v": 2}'), ("B", '{"v": 1}')], _SKIP)
    assert _overrides(world) == [("A", {"v": 1}), ("B", {"v": 1})]


def test_no_rows_send_nothing(world: World) -> None:
    with _statements(world.engine) as sent:
        _insert(world, [])
    assert sent == []
    assert _overrides(world) == []
