"""Stage one page of MIS records: map -> adjust -> override -> validate -> match -> store.

Every imported record lands in exactly one list of ``staged_records``: ``error`` (any
validation issue, including membership of more than one mapped group), ``duplicate``
(clean, not yet linked to this integration, and matching an unlinked directory user) or
``ready``. Records in no mapped group are not imported (R2.1). A page costs a fixed
number of statements whatever its size: one overrides lookup, one linked-users lookup,
one duplicate lookup per 500 names, and one bulk upsert.
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
from connectkit.sync.hashing import record_hash
from connectkit.sync.keys import user_keys
from connectkit.sync.mapper import Mapped, PopulationMap
from connectkit.sync.matching import Match, find_duplicates
from connectkit.sync.validate import Issue, Validator

ERROR, DUPLICATE, READY = "error", "duplicate", "ready"
EDITABLE = ("first_name", "last_name", "email", "phone")


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

    def stage(self, conn: sa.Connection, role: Role, people: Sequence[MISPerson]) -> int:
        """Stage ``people`` (one page of ``role``) in ``conn``'s transaction.

        Returns how many records were imported (members of a mapped group).
        """
        population = self.maps[role]
        mapped = [m for m in (population.apply(p) for p in people) if m.user_types]
        if not mapped:
            return 0
        self._adjust(role, mapped)
        _apply_overrides(conn, self.integration_id, mapped)
        rows = self._rows(conn, population, mapped)
        _upsert(conn, rows)
        return len(rows)

    def _adjust(self, role: Role, mapped: Sequence[Mapped]) -> None:
        if self.hooks.has_record_adjusters():
            for record in mapped:
                self.hooks.adjust_record(self.integration, role, record.mis_id, record.fields)

    def _rows(
        self, conn: sa.Connection, population: PopulationMap, mapped: Sequence[Mapped]
    ) -> list[dict[str, Any]]:
        verdicts = self.validator.validate_many([m.fields for m in mapped])
        issues = [list(v.issues) + _group_issues(m) for m, v in zip(mapped, verdicts, strict=True)]
        cleaned = [
            {**m.fields, **v.fields, "user_type": _one(m.user_types), "mis_code": m.mis_code}
            for m, v in zip(mapped, verdicts, strict=True)
        ]
        matches = _duplicates(conn, self.integration_id, mapped, cleaned, issues)
        return [
            self._row(population, m, fields, found, matches.get(i))
            for i, (m, fields, found) in enumerate(zip(mapped, cleaned, issues, strict=True))
        ]

    def _row(
        self,
        population: PopulationMap,
        record: Mapped,
        fields: dict[str, str | None],
        found: list[Issue],
        match: Match | None,
    ) -> dict[str, Any]:
        listed = ERROR if found else DUPLICATE if match else READY
        target = {"site": self.site, "area": population.area, "person_id": record.person_id}
        return {
            "integration_id": self.integration_id,
            "run_id": self.run_id,
            "role": str(record.role),
            "mis_id": record.mis_id,
            "person_id": record.person_id,
            "list": listed,
            "fields": fields,
            "issues": [_issue_json(record.mis_id, issue) for issue in found] or None,
            "match_user_id": match.user_id if match else None,
            "match_key": match.key if match else None,
            "record_hash": record_hash({**fields, **target}),
        }


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


def _duplicates(
    conn: sa.Connection,
    integration_id: int,
    mapped: Sequence[Mapped],
    cleaned: Sequence[Mapping[str, str | None]],
    issues: Sequence[list[Issue]],
) -> dict[int, Match]:
    """R3.4 for the clean records of a page that are not yet linked to this integration."""
    ids = [m.mis_id for m in mapped]
    linked = {row[0] for row in _by_mis_id(conn, "SELECT mis_id FROM users", integration_id, ids)}
    candidates = [i for i, m in enumerate(mapped) if not issues[i] and m.mis_id not in linked]
    found = find_duplicates(conn, integration_id, [user_keys(cleaned[i]) for i in candidates])
    return {candidates[j]: match for j, match in found.items()}


def _by_mis_id(
    conn: sa.Connection, select: str, integration_id: int, mis_ids: Sequence[str]
) -> list[tuple[Any, ...]]:
    """``select`` (a constant ``SELECT ... FROM table``) for this integration's rows with
    these MIS ids: one indexed statement sent straight to the driver (no per-page
    statement building)."""
    marks = bulk.placeholders(conn, len(mis_ids) + 1)
    first, rest = marks.split(", ", 1) if mis_ids else (marks, "NULL")
    sql = f"{select} WHERE integration_id = {first} AND mis_id IN ({rest})"
    return [tuple(row) for row in conn.exec_driver_sql(sql, (integration_id, *mis_ids)).all()]


def _json_value(value: Any) -> Any:
    """A JSON column read through the driver: text on SQLite, parsed on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


_COLUMNS = (
    "integration_id", "run_id", "role", "mis_id", "person_id", "list", "fields", "issues",
    "match_user_id", "match_key", "record_hash",
)  # fmt: skip
_KEEP_MERGE = (
    "staged_records.list = 'ready' AND staged_records.match_user_id IS NOT NULL "
    "AND excluded.list = 'duplicate'"
)
_ON_CONFLICT = (
    'ON CONFLICT ("integration_id", "mis_id") DO UPDATE SET '
    '"run_id" = excluded.run_id, "role" = excluded.role, "person_id" = excluded.person_id, '
    '"fields" = excluded.fields, "issues" = excluded.issues, '
    '"record_hash" = excluded.record_hash, '
    f'"list" = CASE WHEN {_KEEP_MERGE} THEN \'ready\' ELSE excluded.list END, '
    f'"match_user_id" = CASE WHEN {_KEEP_MERGE} THEN staged_records.match_user_id '
    "ELSE excluded.match_user_id END, "
    f'"match_key" = CASE WHEN {_KEEP_MERGE} THEN staged_records.match_key '
    "ELSE excluded.match_key END"
)


def _upsert(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or refresh the page's staged rows in one executemany; a merge the admin
    already decided (ready + match_user_id) survives a re-stage that finds the same
    duplicate."""
    sql = bulk.insert_sql(conn, "staged_records", _COLUMNS, _ON_CONFLICT)
    text = bulk.json_text  # tuples in the order of _COLUMNS
    bulk.execute_many(conn, sql, [
        (r["integration_id"], r["run_id"], r["role"], r["mis_id"], r["person_id"], r["list"],
         text(r["fields"]), text(r["issues"]), r["match_user_id"], r["match_key"],
         r["record_hash"])
        for r in rows
    ])  # fmt: skip
