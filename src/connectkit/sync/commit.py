"""The commit phase: execute a run's planned lines, batch by batch, exactly once.

Each batch (``Runtime.batch`` lines, in line order) is one transaction: the users rows
are written with executemany statements grouped by action, the lines are marked
``ok`` (with the user id), the ready staged rows they came from leave the ready list,
and the run's lease is renewed (fenced). A crash rolls the whole batch back and a
resumed commit starts again at the first line still ``planned``. If a batch fails
(e.g. a constraint), it is rolled back and replayed one line per transaction, so only
the lines that really fail are marked ``failed``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from connectkit.store.tables import areas, run_log, sites, staged_records, user_types, users
from connectkit.sync import actions as A
from connectkit.sync import bulk, killpoint, runs
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
                _apply(conn, integration_id, lines, rt.clock())
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
    no_op = sa.and_(run_log.c.run_id == run_id, run_log.c.outcome == A.PLANNED,
                    run_log.c.action.in_((A.UNCHANGED, A.SKIP)))
    unchanged = sa.select(run_log.c.mis_id).where(
        run_log.c.run_id == run_id, run_log.c.outcome == A.PLANNED,
        run_log.c.action == A.UNCHANGED,
    )
    with rt.engine.begin() as conn:
        conn.execute(
            sa.delete(staged_records).where(
                staged_records.c.integration_id == integration_id,
                staged_records.c.list == "ready",
                staged_records.c.mis_id.in_(unchanged),
            )
        )
        conn.execute(sa.update(run_log).where(no_op).values(outcome=A.OK))
        _fence(rt, conn, run_id)


_NEXT_LINES = (
    "SELECT id, run_id, mis_id, user_id, action, outcome, detail FROM run_log "
    "WHERE +run_id = {p} AND id > {p} AND outcome = 'planned' ORDER BY id LIMIT {p}"
)
# ``+run_id``: read the primary-key range in order; through the (run_id, action) index
# SQLite would re-read and sort every line of the run for each batch.
_MARK_DONE = "UPDATE run_log SET outcome = {p}, user_id = {p} WHERE id = {p}"
_NAMES = ("id", "run_id", "mis_id", "user_id", "action", "outcome", "detail")


def _next_lines(conn: sa.Connection, run_id: int, after: int, limit: int) -> list[Line]:
    """The next planned lines after line id ``after`` (keyset: no rescans of done lines)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    rows = conn.exec_driver_sql(_NEXT_LINES.format(p=mark), (run_id, after, limit)).all()
    lines: list[Line] = []
    for row in rows:
        line = dict(zip(_NAMES, row, strict=True))
        detail = line["detail"]
        if isinstance(detail, str | bytes):
            line["detail"] = orjson.loads(detail)
        lines.append(line)
    return lines


def _fence(rt: Runtime, conn: sa.Connection, run_id: int) -> None:
    runs.save(conn, run_id, worker=rt.worker, now=rt.clock(), lease_seconds=rt.lease_seconds)


def _replay_one_by_one(
    rt: Runtime, run_id: int, integration_id: int, lines: Sequence[Line]
) -> None:
    for line in lines:
        try:
            with rt.engine.begin() as conn:
                _apply(conn, integration_id, [line], rt.clock())
                _fence(rt, conn, run_id)
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig) if exc.orig is not None else type(exc).__name__
            with rt.engine.begin() as conn:
                conn.execute(
                    sa.update(run_log)
                    .where(run_log.c.id == line["id"])
                    .values(outcome=A.FAILED, detail={**(line["detail"] or {}), "error": reason})
                )
                _fence(rt, conn, run_id)


def _apply(conn: sa.Connection, integration_id: int, lines: Sequence[Line], now: datetime) -> None:
    by_action: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_action[line["action"]].append(line)
    targets = _Targets(conn)
    created = _create(conn, integration_id, by_action[A.CREATE], targets, now)
    writes = by_action[A.UPDATE] + by_action[A.MERGE] + by_action[A.RESTORE]
    _update(conn, integration_id, writes, targets, now)
    _deactivate(conn, by_action[A.DEACTIVATE], now)
    _delete(conn, by_action[A.DELETE])
    _leave_staging(conn, integration_id, lines)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    bulk.execute_many(
        conn,
        _MARK_DONE.format(p=mark),
        [(A.OK, created.get(ln["id"], ln["user_id"]), ln["id"]) for ln in lines],
    )


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


def _row(integration_id: int, line: Line, targets: _Targets, now: datetime) -> dict[str, Any]:
    values: Mapping[str, str | None] = line["detail"]["values"]
    row: dict[str, Any] = {k: values[k] for k in _COLUMNS if k in values}
    row |= targets.ids(values)
    keys = user_keys({k: values.get(k) for k in ("first_name", "last_name", "email", "phone")})
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
            "active": True,
            "updated_at": now,
        }
    )


def _create(
    conn: sa.Connection,
    integration_id: int,
    lines: Sequence[Line],
    targets: _Targets,
    now: datetime,
) -> dict[int, int]:
    """Insert new users (one driver-level executemany per column set, then one indexed
    select of their ids by MIS id); returns ``{line id: new user id}``."""
    if not lines:
        return {}
    stamp = bulk.timestamp(conn, now)
    for group in _homogeneous(lines, lambda ln: _row(integration_id, ln, targets, now)):
        columns = sorted(group[0][1])
        sql = bulk.insert_sql(conn, "users", [*columns, "created_at"])
        rows = [
            (*(stamp if c == "updated_at" else row[c] for c in columns), stamp)
            for _line, row in group
        ]
        bulk.execute_many(conn, sql, rows)
    found = conn.execute(
        sa.select(users.c.mis_id, users.c.id).where(
            users.c.integration_id == integration_id,
            users.c.mis_id.in_([line["mis_id"] for line in lines]),
        )
    )
    ids = {mis_id: user_id for mis_id, user_id in found}
    return {line["id"]: int(ids[line["mis_id"]]) for line in lines}


def _update(
    conn: sa.Connection,
    integration_id: int,
    lines: Sequence[Line],
    targets: _Targets,
    now: datetime,
) -> None:
    for group in _homogeneous(lines, lambda ln: _row(integration_id, ln, targets, now)):
        columns = sorted(group[0][1])
        stmt = (
            sa.update(users)
            .where(users.c.id == sa.bindparam("uid"))
            .values({c: sa.bindparam(f"v_{c}") for c in columns})
        )
        conn.execute(
            stmt,
            [
                {"uid": line["user_id"], **{f"v_{c}": row[c] for c in columns}}
                for line, row in group
            ],
        )


def _homogeneous(
    lines: Sequence[Line], build: Callable[[Line], dict[str, Any]]
) -> list[list[tuple[Line, dict[str, Any]]]]:
    """Rows grouped by their column set, as executemany needs one shape per statement."""
    groups: dict[tuple[str, ...], list[tuple[Line, dict[str, Any]]]] = defaultdict(list)
    for line in lines:
        row = build(line)
        groups[tuple(sorted(row))].append((line, row))
    return list(groups.values())


def _deactivate(conn: sa.Connection, lines: Sequence[Line], now: datetime) -> None:
    if lines:
        conn.execute(
            sa.update(users)
            .where(users.c.id.in_([ln["user_id"] for ln in lines]))
            .values(active=False, updated_at=now)
        )


def _delete(conn: sa.Connection, lines: Sequence[Line]) -> None:
    if lines:
        conn.execute(sa.delete(users).where(users.c.id.in_([ln["user_id"] for ln in lines])))


def _leave_staging(conn: sa.Connection, integration_id: int, lines: Sequence[Line]) -> None:
    """Committed records leave the ready list; removed records leave every list."""
    done = [ln["mis_id"] for ln in lines if ln["action"] in (*A.WRITES_USER, A.UNCHANGED)]
    gone = [ln["mis_id"] for ln in lines if ln["action"] in A.REMOVES_USER]
    here = staged_records.c.integration_id == integration_id
    if done:
        conn.execute(
            sa.delete(staged_records).where(
                here, staged_records.c.list == "ready", staged_records.c.mis_id.in_(done)
            )
        )
    if gone:
        conn.execute(sa.delete(staged_records).where(here, staged_records.c.mis_id.in_(gone)))
