"""The plan phase: every per-record action of a run, written before anything else is.

One transaction replaces the run's ``run_log`` lines with ``outcome='planned'`` lines:
one per ready staged record (create / update with its field diff / merge / restore /
unchanged; plain creates are planned set-based by :mod:`~connectkit.sync.plan_creates`),
one ``unchanged`` line per record the stager found unchanged
(``seen_unchanged``, written by one set-based statement; staged rows earlier runs left
for those records are dropped), one per skipped record (set-based too), and one per
linked user to deactivate or delete (absent from a full run, or in the deletions feed
of an incremental one). The commit phase then executes exactly these lines. Staged rows
are read in id-ordered chunks joined to their linked users, so memory stays flat.

A re-plan of the same run after review (``revise``: the first sync's confirm, under the
mapping and settings of the plan it replaces) keeps the plain create lines of the
records no review action marked (:mod:`~connectkit.sync.revisions`) and plans every
other line again; each staged row still has exactly one line, the one a full plan
would write. Every plan clears the integration's review marks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from connectkit.models import MISDeletion
from connectkit.store.tables import (
    areas,
    run_log,
    seen_unchanged,
    sites,
    staged_records,
    user_types,
    users,
)
from connectkit.sync import actions as A
from connectkit.sync import bulk, killpoint, revisions
from connectkit.sync.mapper import PopulationMap
from connectkit.sync.plan_creates import PLAIN_CREATE, insert_creates

CHUNK = 1000
_LINE_COLUMNS = ("run_id", "mis_id", "user_id", "action", "outcome", "detail")


@dataclass
class Planner:
    """Plans one run of one integration inside the caller's transaction."""

    integration_id: int
    run_id: int
    full: bool
    policy: str
    site: str | None
    maps: Mapping[str, PopulationMap]
    """Compiled mapping by role value (decides which directory fields are imported)."""
    counts: dict[str, int] = field(default_factory=dict)
    removals_by_type: dict[str, int] = field(default_factory=dict)
    moved: set[int] = field(default_factory=set)
    """Users relinked to a new MIS id by this plan (never also removed by it)."""
    set_based: bool = True
    """Plan plain creates with one statement per role (False: read each row back and
    plan it in Python; the lines are the same, only slower)."""
    revise: bool = False
    """Replace this run's plan after review, keeping the plain create lines of records
    no review action marked since (only for a plan of the same run under the same
    mapping and settings; see the module doc)."""

    def plan(self, conn: sa.Connection, deletions: Iterable[MISDeletion] = ()) -> dict[str, Any]:
        """Write the plan; returns the summary stored in ``sync_runs.plan_summary``."""
        self._drop_lines(conn)
        stale = staged_records.c.run_id != self.run_id
        if not self.full:  # only the rows of records this run found back to their user
            seen = sa.select(seen_unchanged.c.mis_id).where(seen_unchanged.c.run_id == self.run_id)
            stale = sa.and_(stale, staged_records.c.mis_id.in_(seen))
        conn.execute(
            sa.delete(staged_records).where(
                staged_records.c.integration_id == self.integration_id, stale
            )
        )
        self._unchanged_lines(conn)
        self._plain_creates(conn)
        self._skip_lines(conn)
        self._write(conn, self._record_lines(conn))
        removals = self._absent(conn) if self.full else self._deleted(conn, deletions)
        self._write(conn, removals)
        revisions.clear(conn, self.integration_id)
        killpoint.reached("plan")
        return {
            "actions": dict(self.counts),
            "removals_by_type": dict(self.removals_by_type),
            "linked_by_type": _linked_by_type(conn, self.integration_id),
        }

    def _drop_lines(self, conn: sa.Connection) -> None:
        """Delete the run's earlier lines; when revising, keep the plain create lines of
        unmarked records (counted as planned creates)."""
        if not (self.revise and self.set_based):
            conn.execute(sa.delete(run_log).where(run_log.c.run_id == self.run_id))
            return
        params = {"run": self.run_id, "integration": self.integration_id}
        conn.execute(sa.text(_DROP_REVISED), params)
        kept = conn.execute(sa.text(_KEPT_CREATES), params).scalar_one()
        if kept:
            self.counts[A.CREATE] = int(kept)

    # --- lines for staged records -----------------------------------------------------

    def _unchanged_lines(self, conn: sa.Connection) -> None:
        """One ``unchanged`` line per record the stager noted as seen unchanged (unless
        a later copy of it in the same run was staged), in one statement."""
        sql = bulk.driver_sql(conn, _UNCHANGED_LINES)
        done = conn.exec_driver_sql(sql, (self.integration_id, self.run_id))
        if done.rowcount:
            self.counts[A.UNCHANGED] = self.counts.get(A.UNCHANGED, 0) + done.rowcount

    def _plain_creates(self, conn: sa.Connection) -> None:
        """The plain create lines, set-based (:mod:`connectkit.sync.plan_creates`)."""
        if not self.set_based:
            return
        written = insert_creates(
            conn, self.integration_id, self.run_id, self.site, self.maps, unplanned=self.revise
        )
        if written:
            self.counts[A.CREATE] = self.counts.get(A.CREATE, 0) + written

    def _skip_lines(self, conn: sa.Connection) -> None:
        """One ``skip`` line per skipped staged row the run plans (ready ones, and the
        others staged by this run), set-based."""
        if not self.set_based:
            return
        sql = bulk.driver_sql(conn, _SKIP_LINES)
        done = conn.exec_driver_sql(sql, (self.run_id, self.integration_id, self.run_id))
        if done.rowcount:
            self.counts[A.SKIP] = self.counts.get(A.SKIP, 0) + done.rowcount

    def _record_lines(self, conn: sa.Connection) -> Iterator[dict[str, Any]]:
        """Lines of the staged rows the set-based statements did not plan."""
        last = 0
        planned_already = f"({PLAIN_CREATE}) OR k.mis_id IS NOT NULL" if self.set_based else "1 = 0"
        sql = sa.text(_STAGED_CHUNK.format(plain_create=planned_already))
        while True:
            params = {"integration": self.integration_id, "after": last, "run": self.run_id,
                      "limit": CHUNK}  # fmt: skip
            rows = _dicts(conn.execute(sql, params))
            if not rows:
                return
            last = rows[-1]["id"]
            unlinked = [r for r in rows if r["linked_id"] is None and r["skipped"] is None]
            merges = _users_by_id(conn, [r["match_user_id"] for r in unlinked
                                         if r["match_user_id"]])
            moved = self._users_by_person(conn, [r["person_id"] for r in unlinked
                                                 if r["person_id"]])
            for row in rows:
                yield self._line(row, merges.get(row["match_user_id"]),
                                 moved.get(row["person_id"]))

    def _users_by_person(
        self, conn: sa.Connection, person_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Users of this integration with these stable person ids whose old MIS record
        was not seen by this run: a re-enrolment under a new MIS id (R4.1)."""
        if not person_ids:
            return {}
        old_seen = self._seen_by_this_run(users.c.mis_id)
        query = (
            sa.select(users.c.id, users.c.person_id, users.c.mis_id, users.c.active,
                      *_current_values(users))
            .select_from(
                users.outerjoin(user_types, user_types.c.id == users.c.user_type_id)
                .outerjoin(sites, sites.c.id == users.c.site_id)
                .outerjoin(areas, areas.c.id == users.c.area_id)
            )
            .where(users.c.integration_id == self.integration_id,
                   users.c.person_id.in_(sorted(set(person_ids))), ~old_seen)
        )
        return {row["person_id"]: dict(row) for row in conn.execute(query).mappings()}

    def _line(
        self, row: Mapping[str, Any], merge_into: Mapping[str, Any] | None,
        moved: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        mis_id = row["mis_id"]
        if row["skipped"] is not None:
            return self._count(A.SKIP, mis_id, None, None)
        uid = row["linked_id"]
        if uid is not None and row["linked_active"] and row["linked_hash"] == row["record_hash"]:
            return self._count(A.UNCHANGED, mis_id, uid, None)  # decided by hash alone
        values = self._values(row)
        if uid is not None:
            if not row["linked_active"]:
                return self._count(A.RESTORE, mis_id, uid, self._detail(row, values, row))
            detail = self._detail(row, values, row)
            action = A.UPDATE if detail["diff"] else A.UNCHANGED
            return self._count(action, mis_id, uid, detail if detail["diff"] else None)
        if moved is not None:
            self.moved.add(int(moved["id"]))
            detail = self._detail(row, values, moved)
            detail["diff"]["mis_id"] = [moved["mis_id"], mis_id]
            action = A.UPDATE if moved["active"] else A.RESTORE
            return self._count(action, mis_id, moved["id"], detail)
        if row["match_user_id"] is not None and merge_into is not None:
            detail = self._detail(row, values, merge_into)
            return self._count(A.MERGE, mis_id, merge_into["id"], detail)
        return self._count(A.CREATE, mis_id, None, self._detail(row, values, None))

    def _values(self, row: Mapping[str, Any]) -> dict[str, str | None]:
        fields: Mapping[str, str | None] = _decoded(row["fields"])
        population = self.maps.get(row["role"])
        mapped = population.fields if population else {}
        area = population.area if population else None
        values = {"first_name": fields.get("first_name"), "last_name": fields.get("last_name")}
        for name in ("email", "phone"):
            if name in mapped:
                values[name] = fields.get(name)
        return values | {
            "user_type": fields.get("user_type"),
            "site": self.site,
            "area": area,
            "person_id": row["person_id"],
            "mis_code": fields.get("mis_code"),
        }

    def _detail(
        self,
        row: Mapping[str, Any],
        values: Mapping[str, str | None],
        current: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "role": row["role"],
            "values": dict(values),
            "hash": row["record_hash"],
            "source": row["source_hash"],
            "keys": _carried_keys(row),
        }
        if current is not None:
            detail["diff"] = {
                k: [current.get(f"cur_{k}"), v]
                for k, v in values.items()
                if current.get(f"cur_{k}") != v
            }
        return detail

    def _count(
        self, action: str, mis_id: str | None, uid: int | None, detail: dict[str, Any] | None
    ) -> dict[str, Any]:
        self.counts[action] = self.counts.get(action, 0) + 1
        return {
            "run_id": self.run_id,
            "mis_id": mis_id,
            "user_id": uid,
            "action": action,
            "outcome": A.PLANNED,
            "detail": detail,
        }

    # --- lines for removed records -----------------------------------------------------

    def _removal_action(self) -> str | None:
        return {"delete": A.DELETE, "deactivate": A.DEACTIVATE}.get(self.policy)

    def _removal_query(self, by_id: bool = False) -> sa.Select[Any]:
        """Linked users that may be removed. ``by_id``: the caller pages through them in id
        order, so the integration filter must not steer SQLite onto the (integration_id,
        mis_id) index (every chunk would then re-read and sort all linked users)."""
        owner = users.c.integration_id + 0 if by_id else users.c.integration_id
        query = (
            sa.select(users.c.id, users.c.mis_id, user_types.c.name.label("user_type"))
            .select_from(users.outerjoin(user_types, user_types.c.id == users.c.user_type_id))
            .where(owner == self.integration_id)
            .order_by(users.c.id)
        )
        if self.policy == "deactivate":
            query = query.where(users.c.active.is_(True))
        return query

    def _absent(self, conn: sa.Connection) -> Iterator[dict[str, Any]]:
        """Full reconciliation: linked users whose MIS record this run did not see."""
        action = self._removal_action()
        if action is None:
            return
        query = self._removal_query(by_id=True).where(~self._seen_by_this_run(users.c.mis_id))
        for row in _chunked(conn, query):
            line = self._removal(action, row, "absent from the MIS")
            if line is not None:
                yield line

    def _deleted(
        self, conn: sa.Connection, deletions: Iterable[MISDeletion]
    ) -> Iterator[dict[str, Any]]:
        """Incremental: linked users the MIS deletions feed names (restores come back
        through the changed-since fetch and are planned as ready records)."""
        action = self._removal_action()
        if action is None:
            return
        batch: list[str] = []
        for deletion in deletions:
            if deletion.restored_at is None:
                batch.append(deletion.mis_id)
            if len(batch) >= CHUNK:
                yield from self._deleted_batch(conn, action, batch)
                batch = []
        if batch:
            yield from self._deleted_batch(conn, action, batch)

    def _deleted_batch(
        self, conn: sa.Connection, action: str, mis_ids: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        staged_now = sa.select(staged_records.c.mis_id).where(
            staged_records.c.integration_id == self.integration_id,
            staged_records.c.run_id == self.run_id,
            staged_records.c.mis_id.in_(mis_ids),
        )
        unchanged_now = sa.select(seen_unchanged.c.mis_id).where(
            seen_unchanged.c.run_id == self.run_id, seen_unchanged.c.mis_id.in_(mis_ids)
        )
        back = set(conn.execute(staged_now).scalars()) | set(
            conn.execute(unchanged_now).scalars()
        )
        query = self._removal_query().where(users.c.mis_id.in_(sorted(set(mis_ids) - back)))
        for row in conn.execute(query).mappings().all():
            line = self._removal(action, row, "deleted in the MIS")
            if line is not None:
                yield line

    def _seen_by_this_run(self, mis_id: Any) -> sa.ColumnElement[bool]:
        """True for an MIS id this run staged or noted as seen unchanged."""
        staged = sa.select(staged_records.c.id).where(
            staged_records.c.integration_id == self.integration_id,
            staged_records.c.run_id == self.run_id,
            staged_records.c.mis_id == mis_id,
        )
        unchanged = sa.select(seen_unchanged.c.mis_id).where(
            seen_unchanged.c.run_id == self.run_id, seen_unchanged.c.mis_id == mis_id
        )
        return sa.or_(sa.exists(staged), sa.exists(unchanged))

    def _removal(self, action: str, row: sa.RowMapping, reason: str) -> dict[str, Any] | None:
        if row["id"] in self.moved:  # re-enrolled under a new MIS id: moved, not removed
            return None
        kind = row["user_type"] or "(none)"
        self.removals_by_type[kind] = self.removals_by_type.get(kind, 0) + 1
        return self._count(
            action, row["mis_id"], row["id"], {"user_type": row["user_type"], "reason": reason}
        )

    def _write(self, conn: sa.Connection, lines: Iterable[dict[str, Any]]) -> None:
        batch: list[tuple[Any, ...]] = []
        for line in lines:
            batch.append((line["run_id"], line["mis_id"], line["user_id"], line["action"],
                          line["outcome"], bulk.json_text(line["detail"])))  # _LINE_COLUMNS
            if len(batch) >= CHUNK:
                bulk.insert_rows(conn, "run_log", _LINE_COLUMNS, batch)
                batch = []
        bulk.insert_rows(conn, "run_log", _LINE_COLUMNS, batch)


def _carried_keys(row: Mapping[str, Any]) -> dict[str, str | None] | None:
    """The match keys staging computed for the staged row's fields (None if it did not):
    commit writes them instead of computing them again."""
    if row["name_key"] is None:
        return None
    return {"name_key": row["name_key"], "email_key": row["email_key"],
            "phone_key": row["phone_key"]}  # fmt: skip


def _decoded(value: Any) -> dict[str, Any]:
    """A JSON column read as text (SQLite) or already parsed (psycopg); decoded only for
    records that are not unchanged, with orjson."""
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        return dict(orjson.loads(value) or {})
    return dict(value)


_STAGED_CHUNK = """
SELECT s.id, s.mis_id, s.role, s.list, s.fields, s.record_hash, s.source_hash,
       s.match_user_id, s.name_key, s.email_key, s.phone_key,
       s.person_id, k.mis_id AS skipped, u.id AS linked_id, u.active AS linked_active,
       u.record_hash AS linked_hash, u.first_name AS cur_first_name,
       u.last_name AS cur_last_name, u.email AS cur_email, u.phone AS cur_phone,
       t.name AS cur_user_type, si.name AS cur_site, a.name AS cur_area,
       u.person_id AS cur_person_id, u.mis_code AS cur_mis_code
FROM staged_records AS s
LEFT OUTER JOIN skips AS k ON k.integration_id = :integration AND k.mis_id = s.mis_id
LEFT OUTER JOIN users AS u ON u.integration_id = :integration AND u.mis_id = s.mis_id
LEFT OUTER JOIN user_types AS t ON t.id = u.user_type_id
LEFT OUTER JOIN sites AS si ON si.id = u.site_id
LEFT OUTER JOIN areas AS a ON a.id = u.area_id
WHERE +s.integration_id = :integration AND s.id > :after
  AND (s.list = 'ready' OR (k.mis_id IS NOT NULL AND s.run_id = :run))
  AND NOT ({plain_create})
ORDER BY s.id
LIMIT :limit
"""
# ``+s.integration_id`` keeps the planner off the (integration_id, list) index, which
# would read every staged row of the integration and sort them for each chunk (quadratic
# in the school's size); the primary-key range read gives each chunk in id order.


_DROP_REVISED = """
DELETE FROM run_log WHERE run_id = :run
  AND (action <> 'create' OR mis_id IS NULL OR mis_id IN (
       SELECT r.mis_id FROM review_marks AS r WHERE r.integration_id = :integration))
"""
_KEPT_CREATES = "SELECT count(*) FROM run_log WHERE run_id = :run AND action = 'create'"


_UNCHANGED_LINES = """
INSERT INTO run_log (run_id, mis_id, user_id, action, outcome, detail)
SELECT f.run_id, f.mis_id, f.user_id, 'unchanged', 'planned', NULL
FROM seen_unchanged AS f
WHERE NOT EXISTS (SELECT 1 FROM staged_records AS s
                  WHERE s.integration_id = {p} AND s.mis_id = f.mis_id AND s.run_id = f.run_id)
  AND f.run_id = {p}
ORDER BY f.mis_id
"""


_SKIP_LINES = """
INSERT INTO run_log (run_id, mis_id, user_id, action, outcome, detail)
SELECT {p}, s.mis_id, NULL, 'skip', 'planned', NULL
FROM staged_records AS s
JOIN skips AS k ON k.integration_id = s.integration_id AND k.mis_id = s.mis_id
WHERE s.integration_id = {p} AND (s.list = 'ready' OR s.run_id = {p})
ORDER BY s.id
"""


def _dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    """Rows as plain dicts (cheaper than RowMapping for per-record use)."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result.all()]


def _current_values(u: Any) -> list[Any]:
    return [
        u.c.first_name.label("cur_first_name"),
        u.c.last_name.label("cur_last_name"),
        u.c.email.label("cur_email"),
        u.c.phone.label("cur_phone"),
        user_types.c.name.label("cur_user_type"),
        sites.c.name.label("cur_site"),
        areas.c.name.label("cur_area"),
        u.c.person_id.label("cur_person_id"),
        u.c.mis_code.label("cur_mis_code"),
    ]


def _users_by_id(conn: sa.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    query = (
        sa.select(users.c.id, *_current_values(users))
        .select_from(
            users.outerjoin(user_types, user_types.c.id == users.c.user_type_id)
            .outerjoin(sites, sites.c.id == users.c.site_id)
            .outerjoin(areas, areas.c.id == users.c.area_id)
        )
        .where(users.c.id.in_(sorted(set(ids))))
    )
    return {row["id"]: dict(row) for row in conn.execute(query).mappings()}


def _chunked(conn: sa.Connection, query: sa.Select[Any]) -> Iterator[sa.RowMapping]:
    """Keyset-paginate ``query`` (ordered by users.id) so reads never hold a live cursor
    across the writes of the same transaction."""
    last = 0
    while True:
        rows = conn.execute(query.where(users.c.id > last).limit(CHUNK)).mappings().all()
        if not rows:
            return
        last = rows[-1]["id"]
        yield from rows


def _linked_by_type(conn: sa.Connection, integration_id: int) -> dict[str, int]:
    """The integration's active users per user type name: counted from the covering
    ``(integration_id, user_type_id, active)`` index, then named."""
    counts = (
        sa.select(users.c.user_type_id, sa.func.count().label("n"))
        .where(users.c.integration_id == integration_id, users.c.active.is_(True))
        .group_by(users.c.user_type_id)
        .subquery()
    )
    query = sa.select(user_types.c.name, counts.c.n).select_from(
        counts.outerjoin(user_types, user_types.c.id == counts.c.user_type_id)
    )
    found: dict[str, int] = {}
    for name, n in conn.execute(query):
        found[name or "(none)"] = found.get(name or "(none)", 0) + int(n)
    return found
