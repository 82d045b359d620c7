"""The commit phase: execute a run's planned lines, batch by batch, exactly once.

Each batch (``Runtime.batch`` lines, in line order) is one transaction: the ready
staged rows its lines came from leave the ready list, the users rows are written (the
carried-key creates set-based by :mod:`~connectkit.sync.commit_creates`, the other
lines with executemany statements grouped by action), the lines are marked ``ok`` (with
the user id), and the run's lease is renewed (fenced). A crash rolls the whole batch back and a
resumed commit starts again at the first line still ``planned``. If a batch fails
(e.g. a constraint), it is rolled back and replayed one line per transaction, so only
the lines that really fail are marked ``failed``.

A batch is, by construction, every line of the run still ``planned`` whose id lies
between its first and last line's ids (``_next_lines`` reads them in id order with a
limit; a replayed line is a batch of one). Leaving staging and marking the lines that
carry no new user id done are therefore set-based statements over that id span of
``run_log``, not per-line statements or long ``IN`` lists, and the marking checks that
it marked exactly those lines of the batch. Only the creates that took the per-line
path are marked one by one, with the ids of their new users, read in one indexed select
per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from connectkit.errors import StoreError
from connectkit.store.tables import areas, run_log, sites, staged_records, user_types
from connectkit.sync import actions as A
from connectkit.sync import bulk, killpoint, runs
from connectkit.sync import commit_creates as creates
from connectkit.sync.keys import user_keys
from connectkit.sync.runtime import Runtime

Line = Mapping[str, Any]
"""A planned ``run_log`` line: id, run_id, mis_id, user_id, action, outcome, detail."""
_COLUMNS = ("first_name", "last_name", "email", "phone", "person_id", "mis_code")


def commit(
    rt: Runtime, run_id: int, integration_id: int, progress: Callable[[int], None] | None = None
) -> None:
    """Execute every still-planned line of ``run_id``."""
    _settle_no_ops(rt, run_id, integration_id)
    done = after = 0
    while True:
        with rt.engine.connect() as conn:
            lines = _next_lines(conn, run_id, after, rt.batch)
        if not lines:
            return
        after = lines[-1]["id"]
        try:
            with rt.engine.begin() as conn:
                _apply(conn, run_id, integration_id, lines, rt.clock())
                _fence(rt, conn, run_id)
                killpoint.reached("commit")
        except sa.exc.DBAPIError:
            _replay_one_by_one(rt, run_id, integration_id, lines)
        done += len(lines)
        if progress is not None:
            progress(done)


def _settle_no_ops(rt: Runtime, run_id: int, integration_id: int) -> None:
    """``unchanged`` and ``skip`` lines write nothing: mark them all ok in two set-based
    statements (and let unchanged records leave the ready list) instead of per line."""
    no_op = sa.and_(
        run_log.c.run_id == run_id,
        run_log.c.outcome == A.PLANNED,
        run_log.c.action.in_((A.UNCHANGED, A.SKIP)),
    )
    unchanged = sa.select(run_log.c.mis_id).where(
        run_log.c.run_id == run_id,
        run_log.c.outcome == A.PLANNED,
        run_log.c.action == A.UNCHANGED,
    )
    with rt.engine.begin() as conn:
        if _any_ready(conn, integration_id):  # else nothing to vouch for or to drop
            _vouch_unchanged(conn, run_id, integration_id)
            conn.execute(
                sa.delete(staged_records).where(
                    staged_records.c.integration_id == integration_id,
                    staged_records.c.list == "ready",
                    staged_records.c.mis_id.in_(unchanged),
                )
            )
        conn.execute(sa.update(run_log).where(no_op).values(outcome=A.OK))
        _fence(rt, conn, run_id)


def _any_ready(conn: sa.Connection, integration_id: int) -> bool:
    """Whether the integration has staged rows in the ready list (through the
    ``(integration_id, list)`` index: an unchanged re-run usually has none)."""
    ready = sa.select(staged_records.c.id).where(
        staged_records.c.integration_id == integration_id, staged_records.c.list == "ready"
    )
    return bool(conn.execute(sa.select(ready.exists())).scalar())


_VOUCH = """
UPDATE users SET source_hash = (
    SELECT s.source_hash FROM staged_records AS s
    WHERE s.integration_id = {p} AND s.mis_id = users.mis_id AND s.list = 'ready')
WHERE id IN (SELECT user_id FROM run_log
             WHERE run_id = {p} AND outcome = 'planned' AND action = 'unchanged')
  AND EXISTS (SELECT 1 FROM staged_records AS s
              WHERE s.integration_id = {p} AND s.mis_id = users.mis_id AND s.list = 'ready'
                AND s.source_hash IS NOT NULL
                AND (users.source_hash IS NULL OR users.source_hash <> s.source_hash))
"""


def _vouch_unchanged(conn: sa.Connection, run_id: int, integration_id: int) -> None:
    """Users whose staged record planned ``unchanged`` take that record's source digest,
    so their next unchanged run takes the fast path."""
    conn.exec_driver_sql(bulk.driver_sql(conn, _VOUCH), (integration_id, run_id, integration_id))


_NEXT_LINES = (
    "SELECT id, run_id, mis_id, user_id, action, outcome, "
    "CASE WHEN {carried} THEN NULL ELSE detail END, {carried} FROM run_log "
    "WHERE run_id = {{p}} AND id > {{p}} AND outcome = 'planned' ORDER BY id LIMIT {{p}}"
)
# Read through the (run_id, id) index: the run's lines in order, from the last batch on,
# whatever the log holds of earlier runs (the primary-key range from 0 would walk every
# line of every earlier run). Carried-key creates are executed by the database from
# their own detail (:mod:`connectkit.sync.commit_creates`): their detail is not read
# here.
_NAMES = ("id", "run_id", "mis_id", "user_id", "action", "outcome", "detail", "carried")


DETAIL_LINES = 2000
"""Most lines of one batch read with their detail (updates, merges, restores ...): a
batch of carried-key creates holds ``Runtime.batch`` lines, one of updates this many,
so the memory a batch takes does not grow with the size of the change."""


def _next_lines(
    conn: sa.Connection, run_id: int, after: int, limit: int, details: int = DETAIL_LINES
) -> list[Line]:
    """The next planned lines after line id ``after`` (keyset: no rescans of done lines),
    in id order: at most ``limit``, and none after the ``details``-th line that comes
    with a detail (``carried`` lines come without theirs)."""
    template = _NEXT_LINES.format(carried=creates.carried(conn.dialect.name))
    lines: list[Line] = []
    sql = bulk.driver_sql(conn, template)
    with closing(conn.exec_driver_sql(sql, (run_id, after, limit))) as rows:
        for row in rows:
            line = dict(zip(_NAMES, row, strict=True))
            line["carried"] = bool(line["carried"])
            lines.append(line)
            detail = line["detail"]
            if detail is None:  # a carried-key create, or a line with nothing to say
                continue
            if isinstance(detail, str | bytes):
                line["detail"] = orjson.loads(detail)
            details -= 1
            if details <= 0:
                break  # the rest of the batch waits for the next one
    return lines


def _fence(rt: Runtime, conn: sa.Connection, run_id: int) -> None:
    runs.save(conn, run_id, worker=rt.worker, now=rt.clock(), lease_seconds=rt.lease_seconds)


def _replay_one_by_one(
    rt: Runtime, run_id: int, integration_id: int, lines: Sequence[Line]
) -> None:
    for line in lines:
        try:
            with rt.engine.begin() as conn:
                _apply(conn, run_id, integration_id, [line], rt.clock())
                _fence(rt, conn, run_id)
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig) if exc.orig is not None else type(exc).__name__
            with rt.engine.begin() as conn:
                detail = _stored_detail(conn, line) if line["carried"] else line["detail"]
                conn.execute(
                    sa.update(run_log)
                    .where(run_log.c.id == line["id"])
                    .values(outcome=A.FAILED, detail={**(detail or {}), "error": reason})
                )
                _fence(rt, conn, run_id)


def _stored_detail(conn: sa.Connection, line: Line) -> dict[str, Any] | None:
    """The line's detail as planned (carried-key creates are read without it)."""
    found = conn.execute(sa.select(run_log.c.detail).where(run_log.c.id == line["id"]))
    detail: dict[str, Any] | None = found.scalar()
    return detail


def _apply(
    conn: sa.Connection, run_id: int, integration_id: int, lines: Sequence[Line], now: datetime
) -> None:
    """Execute one batch inside the caller's transaction: let the records leave staging,
    write users, mark the lines ``ok`` (creates with their new user id)."""
    by_action: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_action["carried" if line["carried"] else line["action"]].append(line)
    targets = _Targets(conn)
    stamp = bulk.timestamp(conn, now)
    span = (run_id, lines[0]["id"], lines[-1]["id"])  # lines come in id order
    _leave_staging(conn, integration_id, span)  # while every line of the span is planned
    carried = _create_carried(conn, integration_id, span, by_action["carried"], targets, stamp)
    created = _create(conn, integration_id, by_action[A.CREATE], targets, stamp)
    writes = by_action[A.UPDATE] + by_action[A.MERGE] + by_action[A.RESTORE]
    _update(conn, integration_id, writes, targets, stamp)
    _deactivate(conn, by_action[A.DEACTIVATE], stamp)
    _delete(conn, by_action[A.DELETE])
    _mark_done(conn, span, created, len(lines) - carried)


def _create_carried(
    conn: sa.Connection, integration_id: int, span: creates.Span, lines: Sequence[Line],
    targets: _Targets, stamp: Any,
) -> int:  # fmt: skip
    """Create the users of the batch's carried-key create ``lines`` set-based and mark
    those lines ``ok``; returns how many. Raises StoreError (rolling the batch back)
    unless exactly those lines were marked."""
    if not lines:
        return 0
    creates.ensure_targets(conn, span, targets.ids)
    marked = creates.execute(conn, integration_id, span, stamp)
    if marked != len(lines):
        raise StoreError(
            f"sync run {span[0]}: {marked} create lines marked done in {span[1]}..{span[2]}, "
            f"expected the batch's {len(lines)} carried-key creates"
        )
    return marked


class _Targets:
    """Ids of user types, sites and areas by name, created on first use (one transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, str | None, str | None], int | None] = {}
        self.combos: dict[tuple[str | None, str | None, str | None], dict[str, int | None]] = {}

    def ids(self, values: Mapping[str, str | None]) -> dict[str, int | None]:
        """``user_type_id`` / ``site_id`` / ``area_id`` for these names (memoised per
        combination: a batch has only a handful)."""
        key = (values.get("user_type"), values.get("site"), values.get("area"))
        found = self.combos.get(key)
        if found is None:
            found = self.combos[key] = self._ids(values)
        return found

    def _ids(self, values: Mapping[str, str | None]) -> dict[str, int | None]:
        site = self._get(("site", None, values.get("site")))
        area = self._get(("area", values.get("site"), values.get("area"))) if site else None
        return {
            "user_type_id": self._get(("user_type", None, values.get("user_type"))),
            "site_id": site,
            "area_id": area,
        }

    def _get(self, key: tuple[str, str | None, str | None]) -> int | None:
        if key[2] is None:
            return None
        if key not in self.cache:
            self.cache[key] = self._find_or_make(*key)
        return self.cache[key]

    def _find_or_make(self, kind: str, site: str | None, name: str | None) -> int:
        table = {"user_type": user_types, "site": sites, "area": areas}[kind]
        values: dict[str, Any] = {"name": name}
        if kind == "area":
            values["site_id"] = self._get(("site", None, site))
        query = sa.select(table.c.id).where(*(table.c[k] == v for k, v in values.items()))
        found = self.conn.execute(query).scalar()
        if found is None:
            found = self.conn.execute(
                sa.insert(table).values(values).returning(table.c.id)
            ).scalar_one()
        return int(found)


def _row(integration_id: int, line: Line, targets: _Targets, stamp: Any) -> dict[str, Any]:
    """The users row a create / update / merge / restore line writes (the one place a
    row is built): column name -> driver-ready value, ``updated_at`` = ``stamp``."""
    values: Mapping[str, str | None] = line["detail"]["values"]
    row: dict[str, Any] = {k: values[k] for k in _COLUMNS if k in values}
    row |= targets.ids(values)
    # staging's keys of these very values (set-based create lines), else computed here
    keys = dict(line["detail"].get("keys") or user_keys(values))
    if "email" not in values:
        keys.pop("email_key")
    if "phone" not in values:
        keys.pop("phone_key")
    return (
        row
        | keys
        | {
            "integration_id": integration_id,
            "mis_id": line["mis_id"],
            "record_hash": line["detail"]["hash"],
            "source_hash": line["detail"].get("source"),
            "active": True,
            "updated_at": stamp,
        }
    )


def _create(
    conn: sa.Connection,
    integration_id: int,
    lines: Sequence[Line],
    targets: _Targets,
    stamp: Any,
) -> list[tuple[int, int]]:
    """Insert new users (one driver-level executemany per column set, then one indexed
    select of their ids by MIS id); returns ``[(new user id, line id), ...]``."""
    if not lines:
        return []
    for columns, rows in _homogeneous(lines, lambda ln: _row(integration_id, ln, targets, stamp)):
        values = [(*row.values(), stamp) for _line, row in rows]
        bulk.insert_rows(conn, "users", [*columns, "created_at"], values)
    mis_ids = [line["mis_id"] for line in lines]
    sql = bulk.driver_sql(conn, _NEW_IDS) + bulk.placeholders(conn, len(mis_ids)) + ")"
    ids: dict[str, int] = dict(conn.exec_driver_sql(sql, (integration_id, *mis_ids)).all())
    return [(int(ids[line["mis_id"]]), line["id"]) for line in lines]


_NEW_IDS = "SELECT mis_id, id FROM users WHERE integration_id = {p} AND mis_id IN ("
# An IN list, not a join from run_log: with statistics taken before the commit added the
# users, PostgreSQL looks each line's user up by integration_id alone (a scan of all the
# integration's users per line: 10k creates took 37 s instead of 0.1 s).


def _update(
    conn: sa.Connection,
    integration_id: int,
    lines: Sequence[Line],
    targets: _Targets,
    stamp: Any,
) -> None:
    """Rewrite the users of update / merge / restore lines: one driver-level executemany
    ``UPDATE ... WHERE id = ?`` per column set."""
    for columns, rows in _homogeneous(lines, lambda ln: _row(integration_id, ln, targets, stamp)):
        sql = bulk.update_sql(conn, "users", columns, "id")
        bulk.execute_many(conn, sql, [(*row.values(), line["user_id"]) for line, row in rows])


def _homogeneous(
    lines: Sequence[Line], build: Callable[[Line], dict[str, Any]]
) -> list[tuple[tuple[str, ...], list[tuple[Line, dict[str, Any]]]]]:
    """Rows grouped by their column names in order (executemany needs one shape per
    statement): ``[(columns, [(line, row), ...]), ...]``; every row of a group lists its
    values in that group's column order."""
    groups: dict[tuple[str, ...], list[tuple[Line, dict[str, Any]]]] = defaultdict(list)
    for line in lines:
        row = build(line)
        groups[tuple(row)].append((line, row))
    return list(groups.items())


_DEACTIVATE = "UPDATE users SET active = {p}, updated_at = {p} WHERE id = {p}"
_DELETE = "DELETE FROM users WHERE id = {p}"


def _deactivate(conn: sa.Connection, lines: Sequence[Line], stamp: Any) -> None:
    """Deactivate the users of these lines (one executemany)."""
    rows = [(False, stamp, ln["user_id"]) for ln in lines]
    bulk.execute_many(conn, bulk.driver_sql(conn, _DEACTIVATE), rows)


def _delete(conn: sa.Connection, lines: Sequence[Line]) -> None:
    """Delete the users of these lines (one executemany)."""
    bulk.execute_many(conn, bulk.driver_sql(conn, _DELETE), [(ln["user_id"],) for ln in lines])


def _literals(values: Sequence[str]) -> str:
    """SQL string literals of this package's action / outcome constants."""
    return ", ".join(f"'{v}'" for v in values)


def _span(t: str) -> str:
    """The batch's lines in table reference ``t``: this run's still-planned lines with ids
    in the batch's span (parameters: run id, first id, last id)."""
    return f"+{t}run_id = {{p}} AND {t}id BETWEEN {{p}} AND {{p}} AND {t}outcome = '{A.PLANNED}'"


_LEAVE_STAGING = f"""
DELETE FROM staged_records WHERE id IN (
    SELECT s.id FROM run_log AS r
    JOIN staged_records AS s ON s.integration_id = {{p}} AND s.mis_id = r.mis_id
    WHERE {_span("r.")}
      AND (r.action IN ({_literals(A.REMOVES_USER)})
           OR (r.action IN ({_literals((*A.WRITES_USER, A.UNCHANGED))}) AND s.list = 'ready')))
"""  # noqa: S608  (constants only; every value is a bound parameter)
_MARK_CREATED = f"UPDATE run_log SET outcome = '{A.OK}', user_id = {{p}} WHERE id = {{p}}"  # noqa: S608
_MARK_DONE = f"UPDATE run_log SET outcome = '{A.OK}' WHERE {_span('')}"  # noqa: S608


def _leave_staging(conn: sa.Connection, integration_id: int, span: tuple[int, int, int]) -> None:
    """Committed records leave the ready list; removed records leave every list. ``span``
    is (run id, first line id, last line id) of the batch, whose lines are still planned."""
    conn.exec_driver_sql(bulk.driver_sql(conn, _LEAVE_STAGING), (integration_id, *span))


def _mark_done(
    conn: sa.Connection,
    span: tuple[int, int, int],
    created: Sequence[tuple[int, int]],
    count: int,
) -> None:
    """Mark the batch's ``count`` lines ``ok``: the ``created`` ones (new user id, line
    id) with their user, then the rest of ``span`` in one statement. Raises StoreError
    (rolling the batch back) unless that statement marked exactly the rest."""
    bulk.execute_many(conn, bulk.driver_sql(conn, _MARK_CREATED), created)
    marked = conn.exec_driver_sql(bulk.driver_sql(conn, _MARK_DONE), span).rowcount
    if marked != count - len(created):
        raise StoreError(
            f"sync run {span[0]}: {marked} more planned lines in {span[1]}..{span[2]}, "
            f"expected the batch's other {count - len(created)}"
        )
