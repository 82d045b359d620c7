"""Stage one page of MIS records: map -> adjust -> override -> validate -> match -> store.

A record whose source digest (:mod:`~connectkit.sync.fingerprint`) equals its linked,
active, unskipped user's ``source_hash`` is unchanged: it is only noted as seen in
``seen_unchanged`` (and any stale staged row of it dropped); everything after the
override step is skipped for it.

Every imported record lands in exactly one list of ``staged_records``: ``error`` (any
validation issue, including membership of more than one mapped group), ``duplicate``
(clean, not yet linked to this integration, and matching an unlinked directory user) or
``ready``. Records in no mapped group are not imported (R2.1). A page costs a fixed
number of statements whatever its size: one overrides lookup, one linked-users lookup,
one duplicate lookup per 500 names, one bulk upsert, and for unchanged records one bulk
insert and one delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from connectkit.models import MISPerson, Role
from connectkit.plugins.facade import Hooks
from connectkit.sync import bulk
from connectkit.sync.fingerprint import source_digest
from connectkit.sync.hashing import record_hash
from connectkit.sync.keys import user_keys
from connectkit.sync.mapper import Mapped, PopulationMap
from connectkit.sync.matching import Match, find_duplicates
from connectkit.sync.validate import Issue, Validator

ERROR, DUPLICATE, READY = "error", "duplicate", "ready"
EDITABLE = ("first_name", "last_name", "email", "phone")


@dataclass(frozen=True)
class StagedPage:
    """One page, prepared: what :meth:`Stager.write` stores for it.

    ``rows`` are ``staged_records`` rows as tuples in ``_COLUMNS`` order (JSON already
    serialised), ``seen`` the ``(MIS id, user id)`` of unchanged records, ``imported``
    how many records of the page were imported (both kinds).
    """

    rows: list[tuple[Any, ...]]
    seen: list[tuple[str, int]]
    imported: int


@dataclass(frozen=True)
class MappedPage:
    """One page after the mapping half of staging (:meth:`Stager.map_page`).

    ``fresh`` are the records to check in full with their source digests, ``seen`` the
    ``(MIS id, user id)`` of unchanged records, ``linked`` the MIS ids of fresh records
    already linked to a user (never duplicates), ``imported`` how many records of the
    page were imported. Plain data: it crosses the import worker's pipe.
    """

    fresh: list[tuple[Mapped, str]]
    seen: list[tuple[str, int]]
    linked: frozenset[str]
    imported: int


@dataclass(frozen=True)
class Stager:
    """How one run stages pages: the compiled mapping, validator and directory targets."""

    integration_id: int
    integration: str
    run_id: int
    maps: Mapping[Role, PopulationMap]
    validator: Validator
    site: str | None
    hooks: Hooks
    salt: bytes = b""
    """The run's digest key (:func:`~connectkit.sync.fingerprint.run_salt`); empty turns
    the unchanged-record fast path off (every record is staged in full)."""

    def prepare(
        self, conn: sa.Connection, role: Role, people: Sequence[MISPerson]
    ) -> StagedPage:
        """Everything staging decides for one page (:meth:`map_page`, then
        :meth:`check`), reading, never writing, the store."""
        return self.check(conn, role, self.map_page(conn, role, people))

    def map_page(
        self, conn: sa.Connection, role: Role, people: Sequence[MISPerson]
    ) -> MappedPage:
        """The mapping half: map, adjust, lay overrides over, digest, and set unchanged
        records aside. Reads overrides and linked users, which no import writes, so
        ``conn`` may be another connection (or process) than the writer's."""
        population = self.maps[role]
        mapped = [m for m in (population.apply(p) for p in people) if m.user_types]
        if not mapped:
            return MappedPage([], [], frozenset(), 0)
        self._adjust(role, mapped)
        _apply_overrides(conn, self.integration_id, mapped)
        linked = _linked(conn, self.integration_id, [m.mis_id for m in mapped])
        fresh, seen = self._split(mapped, linked)
        ids = frozenset(record.mis_id for record, _digest in fresh if record.mis_id in linked)
        return MappedPage(fresh, seen, ids, len(mapped))

    def check(self, conn: sa.Connection, role: Role, page: MappedPage) -> StagedPage:
        """The checking half: validate the fresh records, look their duplicates up
        (reading ``users``) and build their staged rows."""
        rows = self._rows(conn, self.maps[role], page.fresh, page.linked) if page.fresh else []
        return StagedPage(rows, page.seen, page.imported)

    def write(self, conn: sa.Connection, page: StagedPage) -> None:
        """Store a prepared page in ``conn``'s transaction: one executemany upsert (a
        merge the admin already decided -- ready with ``match_user_id`` -- survives a
        re-stage that finds the same duplicate) and the seen notes."""
        _note_seen(conn, self.run_id, self.integration_id, page.seen)
        if page.rows:
            sql = bulk.insert_sql(conn, "staged_records", _COLUMNS, _ON_CONFLICT)
            bulk.execute_many(conn, sql, page.rows)

    def _split(
        self, mapped: Sequence[Mapped], linked: Mapping[str, _Link]
    ) -> tuple[list[tuple[Mapped, str]], list[tuple[str, int]]]:
        """(records to stage with their digests, (MIS id, user id) of unchanged ones)."""
        fresh: list[tuple[Mapped, str]] = []
        seen: list[tuple[str, int]] = []
        for record in mapped:
            digest = source_digest(self.salt, record)
            link = linked.get(record.mis_id)
            if self.salt and link is not None and link.unchanged(digest):
                seen.append((record.mis_id, link.user_id))
            else:
                fresh.append((record, digest))
        return fresh, seen

    def _adjust(self, role: Role, mapped: Sequence[Mapped]) -> None:
        if self.hooks.has_record_adjusters():
            for record in mapped:
                self.hooks.adjust_record(self.integration, role, record.mis_id, record.fields)

    def _rows(
        self,
        conn: sa.Connection,
        population: PopulationMap,
        fresh: Sequence[tuple[Mapped, str]],
        linked: frozenset[str],
    ) -> list[tuple[Any, ...]]:
        mapped = [record for record, _digest in fresh]
        verdicts = self.validator.validate_many([m.fields for m in mapped])
        issues = [list(v.issues) + _group_issues(m) for m, v in zip(mapped, verdicts, strict=True)]
        cleaned = [
            {**m.fields, **v.fields, "user_type": _one(m.user_types), "mis_code": m.mis_code}
            for m, v in zip(mapped, verdicts, strict=True)
        ]
        matches = _duplicates(conn, self.integration_id, mapped, cleaned, issues, linked)
        return [
            self._row(population, m, digest, fields, found, matches.get(i))
            for i, ((m, digest), fields, found) in enumerate(
                zip(fresh, cleaned, issues, strict=True)
            )
        ]

    def _row(
        self,
        population: PopulationMap,
        record: Mapped,
        digest: str,
        fields: dict[str, str | None],
        found: list[Issue],
        match: Match | None,
    ) -> tuple[Any, ...]:
        """One ``staged_records`` row in ``_COLUMNS`` order."""
        listed = ERROR if found else DUPLICATE if match else READY
        target = {"site": self.site, "area": population.area, "person_id": record.person_id}
        issues = [_issue_json(record.mis_id, issue) for issue in found] or None
        return (
            self.integration_id,
            self.run_id,
            str(record.role),
            record.mis_id,
            record.person_id,
            listed,
            bulk.json_text(fields),
            bulk.json_text(issues),
            match.user_id if match else None,
            match.key if match else None,
            record_hash({**fields, **target}),
            digest,
        )


def _one(types: tuple[str, ...]) -> str | None:
    return types[0] if len(types) == 1 else None


def _group_issues(record: Mapped) -> list[Issue]:
    """R3.2: a member of more than one mapped group whose types differ is ambiguous."""
    if len(record.user_types) < 2:
        return []
    groups = ", ".join(record.groups)
    return [
        Issue(
            field="user_type",
            rule="groups",
            value=groups,
            message=(
                f"member of more than one mapped group ({groups}) mapping to different "
                f"user types ({', '.join(record.user_types)})"
            ),
        )
    ]


def _issue_json(mis_id: str, issue: Issue) -> dict[str, Any]:
    return {
        "record": mis_id,
        "field": issue.field,
        "rule": issue.rule,
        "value": issue.value,
        "message": issue.message,
    }


def _apply_overrides(conn: sa.Connection, integration_id: int, mapped: Sequence[Mapped]) -> None:
    """Lay the admin's saved edits (R3.3) over the mapped values, one query per page."""
    ids = [m.mis_id for m in mapped]
    found = _by_mis_id(conn, "SELECT mis_id, fields FROM overrides", integration_id, ids)
    if not found:
        return
    edits = {mis_id: _json_value(fields) or {} for mis_id, fields in found}
    for record in mapped:
        for name, value in edits.get(record.mis_id, {}).items():
            if name in EDITABLE:
                record.fields[name] = value


@dataclass(frozen=True)
class _Link:
    """The directory user linked to an MIS record, as the fast path needs it."""

    user_id: int
    active: bool
    source_hash: str | None
    skipped: bool

    def unchanged(self, digest: str) -> bool:
        """True when staging the record again would plan ``unchanged`` for this user."""
        return self.active and not self.skipped and self.source_hash == digest


_LINKED = (
    "SELECT u.mis_id, u.id, u.active, u.source_hash, k.mis_id FROM users AS u "
    "LEFT OUTER JOIN skips AS k ON k.integration_id = u.integration_id AND k.mis_id = u.mis_id"
)


def _linked(conn: sa.Connection, integration_id: int, mis_ids: Sequence[str]) -> dict[str, _Link]:
    """This integration's users linked to these MIS ids (one indexed statement)."""
    found = _by_mis_id(conn, _LINKED, integration_id, mis_ids, alias="u.")
    return {
        mis_id: _Link(int(uid), bool(active), source, skipped is not None)
        for mis_id, uid, active, source, skipped in found
    }


def _note_seen(
    conn: sa.Connection, run_id: int, integration_id: int, seen: Sequence[tuple[str, int]]
) -> None:
    """Record unchanged records as seen by this run; drop any stale staged row of them
    (the record is back to what its user holds, so it belongs in no list)."""
    if not seen:
        return
    sql = bulk.insert_sql(conn, "seen_unchanged", _SEEN_COLUMNS, _SEEN_CONFLICT)
    bulk.execute_many(conn, sql, [(run_id, mis_id, uid) for mis_id, uid in seen])
    ids = [mis_id for mis_id, _uid in seen]
    sql = _page_sql(conn, "DELETE FROM staged_records", len(ids))
    conn.exec_driver_sql(sql, (integration_id, *ids))


_SEEN_COLUMNS = ("run_id", "mis_id", "user_id")
_SEEN_CONFLICT = 'ON CONFLICT ("run_id", "mis_id") DO NOTHING'


def _duplicates(
    conn: sa.Connection,
    integration_id: int,
    mapped: Sequence[Mapped],
    cleaned: Sequence[Mapping[str, str | None]],
    issues: Sequence[list[Issue]],
    linked: frozenset[str],
) -> dict[int, Match]:
    """R3.4 for the clean records of a page that are not yet linked to this integration."""
    candidates = [i for i, m in enumerate(mapped) if not issues[i] and m.mis_id not in linked]
    found = find_duplicates(conn, integration_id, [user_keys(cleaned[i]) for i in candidates])
    return {candidates[j]: match for j, match in found.items()}


def _by_mis_id(
    conn: sa.Connection, select: str, integration_id: int, mis_ids: Sequence[str], alias: str = ""
) -> list[tuple[Any, ...]]:
    """``select`` (a constant ``SELECT ... FROM table``, ``alias`` its table's prefix)
    for this integration's rows with these MIS ids: one indexed statement sent straight
    to the driver (no per-page statement building)."""
    sql = _page_sql(conn, select, len(mis_ids), alias)
    return [tuple(row) for row in conn.exec_driver_sql(sql, (integration_id, *mis_ids)).all()]


def _page_sql(conn: sa.Connection, head: str, count: int, alias: str = "") -> str:
    """``head`` restricted to one integration (first parameter) and ``count`` MIS ids."""
    marks = bulk.placeholders(conn, count + 1)
    first, rest = marks.split(", ", 1) if count else (marks, "NULL")
    return f"{head} WHERE {alias}integration_id = {first} AND {alias}mis_id IN ({rest})"


def _json_value(value: Any) -> Any:
    """A JSON column read through the driver: text on SQLite, parsed on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


_COLUMNS = (
    "integration_id", "run_id", "role", "mis_id", "person_id", "list", "fields", "issues",
    "match_user_id", "match_key", "record_hash", "source_hash",
)  # fmt: skip
_KEEP_MERGE = (
    "staged_records.list = 'ready' AND staged_records.match_user_id IS NOT NULL "
    "AND excluded.list = 'duplicate'"
)
_ON_CONFLICT = (
    'ON CONFLICT ("integration_id", "mis_id") DO UPDATE SET '
    '"run_id" = excluded.run_id, "role" = excluded.role, "person_id" = excluded.person_id, '
    '"fields" = excluded.fields, "issues" = excluded.issues, '
    '"record_hash" = excluded.record_hash, "source_hash" = excluded.source_hash, '
    f'"list" = CASE WHEN {_KEEP_MERGE} THEN \'ready\' ELSE excluded.list END, '
    f'"match_user_id" = CASE WHEN {_KEEP_MERGE} THEN staged_records.match_user_id '
    "ELSE excluded.match_user_id END, "
    f'"match_key" = CASE WHEN {_KEEP_MERGE} THEN staged_records.match_key '
    "ELSE excluded.match_key END"
)
