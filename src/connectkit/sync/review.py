"""The admin's review of staged records (R3.3, R3.5, R3.6): list, edit, merge, skip.

Staged records wait in three lists (``error``, ``duplicate``, ``ready``); a record the
admin skipped stays in ``staged_records`` (so the run's plan counts it as skipped) but is
in no list until it is un-skipped. Every listing is keyset-paged by staged id.

- **edit** (R3.3): the change is kept as an override for that MIS record (``overrides``,
  laid over the mapped values on every later run) and the record is re-validated at once
  with :class:`~connectkit.sync.validate.Validator` and
  :func:`~connectkit.sync.matching.find_duplicate`: a fixed record leaves the errors list
  immediately for duplicates or ready.
- **merge** (R3.5): a duplicate is linked to the directory user it matched, with a
  per-field choice of which value wins (``mis`` or ``directory``; by default the MIS value
  where it has one). :func:`merge_preview` shows the resulting values; :func:`merge`
  records the decision: the record moves to ready with its match kept, its fields become
  the merged values, and directory-won fields are kept as overrides so later runs do not
  undo the choice. The commit of the run (the first sync's confirm, or the next run)
  links the user (``integration_id``/``mis_id``/``person_id``) as a ``merge`` line of its
  plan, so the run report counts it.
- **skip** / **unskip** (R3.5): remembered in ``skips``; a skipped record is not synced,
  on this run or any later one, until un-skipped.
- **order** (R3.6): while the integration is in Draft (first sync), duplicates cannot be
  resolved while errors remain, and the ready list cannot be confirmed while duplicates
  remain (:func:`check_can_confirm`, for the engine's confirm).

Every decision is logged as an ``integration_events`` row of kind ``review``, and marks
its record for the next plan (:mod:`~connectkit.sync.revisions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, delete, insert, select, update

from connectkit.errors import RuleError, StateError
from connectkit.integrations import IntegrationRow, Status, get, now, record_event
from connectkit.models import Role
from connectkit.overview import staged_counts
from connectkit.store.tables import overrides, skips, staged_records, users
from connectkit.sync.hashing import record_hash
from connectkit.sync.mapper import compile_mapping
from connectkit.sync.matching import find_duplicate
from connectkit.sync.revisions import mark
from connectkit.sync.validate import Validator

ERROR, DUPLICATE, READY, SKIPPED = "error", "duplicate", "ready", "skipped"
LISTS = (ERROR, DUPLICATE, READY, SKIPPED)
EDITABLE = ("first_name", "last_name", "email", "phone")
"""Directory fields an admin may edit (and choose a winner for when merging)."""
MIS, DIRECTORY = "mis", "directory"


@dataclass(frozen=True)
class StagedView:
    """One staged record as the admin sees it."""

    id: int
    mis_id: str
    role: str
    listed: str
    """``error`` / ``duplicate`` / ``ready``, or ``skipped``."""
    fields: dict[str, str | None]
    issues: list[dict[str, Any]]
    match_user_id: int | None
    match_key: str | None
    person_id: str | None
    run_id: int
    skipped: bool

    @classmethod
    def from_row(cls, row: RowMapping) -> StagedView:
        skipped = row.get("skipped") is not None
        return cls(
            id=row["id"], mis_id=row["mis_id"], role=row["role"],
            listed=SKIPPED if skipped else row["list"], fields=dict(row["fields"] or {}),
            issues=list(row["issues"] or []), match_user_id=row["match_user_id"],
            match_key=row["match_key"], person_id=row["person_id"], run_id=row["run_id"],
            skipped=skipped,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "mis_id": self.mis_id, "role": self.role, "list": self.listed, "fields": self.fields,
            "issues": self.issues, "match_user_id": self.match_user_id,
            "match_key": self.match_key, "person_id": self.person_id,
        }


@dataclass(frozen=True)
class Page:
    """One page of a list; pass ``next_after`` back as ``after`` for the next page."""

    records: list[StagedView]
    next_after: int | None


def _base(integration_id: int) -> Select[Any]:
    joined = staged_records.outerjoin(
        skips,
        and_(skips.c.integration_id == staged_records.c.integration_id,
             skips.c.mis_id == staged_records.c.mis_id),
    )
    return (
        select(staged_records, skips.c.mis_id.label("skipped"))
        .select_from(joined)
        .where(staged_records.c.integration_id == integration_id)
    )


def _in_list(query: Select[Any], name: str) -> Select[Any]:
    if name == SKIPPED:
        return query.where(skips.c.mis_id.is_not(None))
    if name not in LISTS:
        raise RuleError(f"unknown list {name!r} (one of: {', '.join(LISTS)})")
    return query.where(skips.c.mis_id.is_(None), staged_records.c.list == name)


def list_records(
    conn: Connection, integration_id: int, name: str, *, after: int | None = None,
    limit: int = 50,
) -> Page:
    """Up to ``limit`` records of list ``name`` with staged id > ``after``, id-ordered."""
    if limit < 1:
        raise RuleError("a page holds at least one record")
    query = _in_list(_base(integration_id), name).order_by(staged_records.c.id)
    if after is not None:
        query = query.where(staged_records.c.id > after)
    rows = conn.execute(query.limit(limit + 1)).mappings().all()
    records = [StagedView.from_row(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(records, records[-1].id if more else None)


def counts(conn: Connection, integration_id: int) -> dict[str, int]:
    """How many records each list holds (skipped ones only under ``skipped``)."""
    return staged_counts(conn, [integration_id])[integration_id]


def get_record(conn: Connection, integration_id: int, mis_id: str) -> StagedView:
    """The staged record of ``mis_id``; StateError naming it when there is none."""
    row = conn.execute(
        _base(integration_id).where(staged_records.c.mis_id == mis_id)
    ).mappings().first()
    if row is None:
        raise StateError(f"record {mis_id!r} is not waiting in any review list")
    return StagedView.from_row(row)


# --- order (R3.6) ---------------------------------------------------------------------


def _require_no_errors(conn: Connection, row: IntegrationRow, action: str) -> None:
    if row.status != Status.DRAFT:
        return
    errors = counts(conn, row.id)[ERROR]
    if errors:
        raise StateError(
            f"cannot {action} during the first sync of {row.name!r} while {errors} "
            f"error(s) remain; fix or skip the errors first"
        )


def check_can_confirm(conn: Connection, integration: str | int) -> None:
    """R3.6 for the engine's confirm: in Draft, StateError while errors or duplicates remain."""
    row = get(conn, integration)
    if row.status != Status.DRAFT:
        return
    found = counts(conn, row.id)
    if found[ERROR] or found[DUPLICATE]:
        raise StateError(
            f"the ready list of {row.name!r} cannot be confirmed while {found[ERROR]} "
            f"error(s) and {found[DUPLICATE]} duplicate(s) remain"
        )


# --- re-validation --------------------------------------------------------------------


_NO_KEYS = {"name_key": None, "email_key": None, "phone_key": None}
"""Edited fields: the match keys staging carried no longer apply (commit computes them)."""


def _stage_hash(row: IntegrationRow, record: StagedView, fields: Mapping[str, Any]) -> str:
    """The ``record_hash`` staging gives these fields (same target values as the stager)."""
    population = compile_mapping(row.mapping)[Role(record.role)]
    sites = row.settings.get("sites") or [None]
    target = {"site": sites[0], "area": population.area, "person_id": record.person_id}
    return record_hash({**fields, **target})


def _is_linked(conn: Connection, integration_id: int, mis_id: str) -> bool:
    query = select(users.c.id).where(
        users.c.integration_id == integration_id, users.c.mis_id == mis_id
    )
    return conn.execute(query).first() is not None


@dataclass(frozen=True)
class _Verdict:
    fields: dict[str, str | None]
    issues: list[dict[str, Any]]
    listed: str
    match_user_id: int | None = None
    match_key: str | None = None


def _revalidate(
    conn: Connection, row: IntegrationRow, record: StagedView, values: Mapping[str, str | None]
) -> _Verdict:
    validated = Validator(row.settings.get("phone_region", "GB")).validate(values)
    fields = {**record.fields, **validated.fields}
    issues = [
        {"record": record.mis_id, "field": i.field, "rule": i.rule, "value": i.value,
         "message": i.message}
        for i in validated.issues
    ]
    issues += [i for i in record.issues if i.get("rule") == "groups"]
    if issues:
        return _Verdict(fields, issues, ERROR)
    if _is_linked(conn, row.id, record.mis_id):
        return _Verdict(fields, [], READY)
    match = find_duplicate(conn, row.id, fields)
    if match is None:
        return _Verdict(fields, [], READY)
    return _Verdict(fields, [], DUPLICATE, match.user_id, match.key)


def _save_override(
    conn: Connection, integration_id: int, mis_id: str, changes: Mapping[str, str | None]
) -> None:
    current = conn.execute(
        select(overrides.c.fields).where(
            overrides.c.integration_id == integration_id, overrides.c.mis_id == mis_id
        )
    ).scalar_one_or_none()
    if current is None:
        conn.execute(insert(overrides).values(
            integration_id=integration_id, mis_id=mis_id, fields=dict(changes),
            updated_at=now(),
        ))
        return
    conn.execute(
        update(overrides)
        .where(overrides.c.integration_id == integration_id, overrides.c.mis_id == mis_id)
        .values(fields={**current, **changes}, updated_at=now())
    )


def _store(conn: Connection, row: IntegrationRow, record: StagedView, v: _Verdict) -> None:
    conn.execute(
        update(staged_records)
        .where(staged_records.c.id == record.id)
        .values(
            fields=v.fields, issues=v.issues or None, list=v.listed,
            match_user_id=v.match_user_id, match_key=v.match_key,
            record_hash=_stage_hash(row, record, v.fields),
            source_hash=None,  # an admin's edit: the next run re-checks this record in full
            **_NO_KEYS,
        )
    )


# --- edit (R3.3) ----------------------------------------------------------------------


def _clean_changes(mis_id: str, changes: Mapping[str, str | None]) -> dict[str, str | None]:
    if not changes:
        raise RuleError(f"record {mis_id!r}: nothing to change")
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise RuleError(
            f"record {mis_id!r}: field {unknown[0]!r} cannot be edited "
            f"(editable: {', '.join(EDITABLE)})"
        )
    return {k: (v if v is not None and v.strip() else None) for k, v in changes.items()}


def edit(
    conn: Connection, integration: str | int, mis_id: str, changes: Mapping[str, str | None],
    *, actor: str,
) -> StagedView:
    """Override fields of a staged record and re-validate it at once (R3.3).

    ``changes`` maps editable directory fields to new values (empty or None clears a
    field). Returns the record as it now stands: in ``error`` with its remaining issues,
    or moved to ``duplicate`` / ``ready``. RuleError names the record and field of a bad
    edit; StateError when the record is not staged or is a duplicate that cannot be
    resolved yet (R3.6).
    """
    row = get(conn, integration)
    record = get_record(conn, row.id, mis_id)
    if record.listed == DUPLICATE:
        _require_no_errors(conn, row, "resolve duplicates")
    clean = _clean_changes(mis_id, changes)
    values = {name: record.fields.get(name) for name in EDITABLE} | clean
    verdict = _revalidate(conn, row, record, values)
    _save_override(conn, row.id, mis_id, clean)
    _store(conn, row, record, verdict)
    mark(conn, row.id, [mis_id])
    record_event(conn, row.id, "review", record.listed, "edited",
                 cause=f"record {mis_id} edited ({', '.join(sorted(clean))}); "
                       f"now in {verdict.listed}", actor=actor)
    return get_record(conn, row.id, mis_id)


# --- merge (R3.5) ---------------------------------------------------------------------


@dataclass(frozen=True)
class MergePreview:
    """What merging would do: the values the user ends up with and who won each field."""

    mis_id: str
    user_id: int
    match_key: str | None
    fields: dict[str, str | None]
    winners: dict[str, str]
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """Field -> (directory value now, value after the merge) for every field that changes."""

    def as_json(self) -> dict[str, Any]:
        return {
            "mis_id": self.mis_id, "user_id": self.user_id, "match_key": self.match_key,
            "fields": self.fields, "winners": self.winners,
            "changes": {k: list(v) for k, v in self.changes.items()},
        }


def _user(conn: Connection, user_id: int) -> RowMapping:
    found = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if found is None:
        raise StateError(f"directory user {user_id} no longer exists; re-run the sync")
    return found


def _winners(mis_id: str, prefer: Mapping[str, str], mis: Mapping[str, Any]) -> dict[str, str]:
    for name, side in prefer.items():
        if name not in EDITABLE:
            raise RuleError(f"record {mis_id!r}: cannot choose a winner for field {name!r} "
                            f"(choices exist for: {', '.join(EDITABLE)})")
        if side not in (MIS, DIRECTORY):
            raise RuleError(f"record {mis_id!r}: field {name!r} winner must be 'mis' or "
                            f"'directory', not {side!r}")
    return {
        name: prefer.get(name) or (MIS if mis.get(name) is not None else DIRECTORY)
        for name in EDITABLE
    }


def merge_preview(
    conn: Connection, integration: str | int, mis_id: str, prefer: Mapping[str, str] | None = None,
) -> MergePreview:
    """The values the matched user would have after merging ``mis_id`` (nothing written).

    ``prefer`` maps editable fields to ``"mis"`` or ``"directory"``; a field not named
    takes the MIS value when the MIS has one, else keeps the directory value.
    """
    row = get(conn, integration)
    record = get_record(conn, row.id, mis_id)
    if record.listed != DUPLICATE or record.match_user_id is None:
        raise StateError(f"record {mis_id!r} is in the {record.listed} list, not a duplicate")
    user = _user(conn, record.match_user_id)
    if user["integration_id"] == row.id:
        raise StateError(
            f"directory user {user['id']} is already linked to MIS record {user['mis_id']!r}"
        )
    winners = _winners(mis_id, prefer or {}, record.fields)
    result = {
        name: record.fields.get(name) if side == MIS else user[name]
        for name, side in winners.items()
    }
    changes = {k: (user[k], v) for k, v in result.items() if user[k] != v}
    return MergePreview(mis_id, user["id"], record.match_key, result, winners, changes)


def merge(
    conn: Connection, integration: str | int, mis_id: str, prefer: Mapping[str, str] | None = None,
    *, actor: str,
) -> MergePreview:
    """Decide to merge duplicate ``mis_id`` into the user it matched (see module doc).

    StateError during the first sync while errors remain (R3.6), or when the record is
    not a duplicate. Returns the preview that was applied.
    """
    row = get(conn, integration)
    _require_no_errors(conn, row, "resolve duplicates")
    preview = merge_preview(conn, row.id, mis_id, prefer)
    record = get_record(conn, row.id, mis_id)
    kept = {k: preview.fields[k] for k, side in preview.winners.items()
            if side == DIRECTORY and preview.fields[k] != record.fields.get(k)}
    if kept:
        _save_override(conn, row.id, mis_id, kept)
    fields = {**record.fields, **preview.fields}
    conn.execute(
        update(staged_records)
        .where(staged_records.c.id == record.id)
        .values(fields=fields, list=READY, issues=None,
                record_hash=_stage_hash(row, record, fields), source_hash=None, **_NO_KEYS)
    )
    mark(conn, row.id, [mis_id])
    won = ", ".join(f"{k}={v}" for k, v in sorted(preview.winners.items()))
    record_event(conn, row.id, "review", DUPLICATE, "merged",
                 cause=f"record {mis_id} merged into user {preview.user_id} ({won})",
                 actor=actor)
    return preview


# --- skip (R3.5) ----------------------------------------------------------------------


def skip(conn: Connection, integration: str | int, mis_id: str, *, actor: str) -> StagedView:
    """Skip a staged record: it is not synced, now or on later runs, until un-skipped.

    Skipping a duplicate during the first sync is refused while errors remain (R3.6).
    """
    row = get(conn, integration)
    record = get_record(conn, row.id, mis_id)
    if record.skipped:
        return record
    if record.listed == DUPLICATE:
        _require_no_errors(conn, row, "resolve duplicates")
    conn.execute(insert(skips).values(integration_id=row.id, mis_id=mis_id, created_at=now()))
    mark(conn, row.id, [mis_id])
    record_event(conn, row.id, "review", record.listed, "skipped",
                 cause=f"record {mis_id} skipped", actor=actor)
    return get_record(conn, row.id, mis_id)


def unskip(conn: Connection, integration: str | int, mis_id: str, *, actor: str) -> bool:
    """Forget a skip; the record returns to its list (now if staged, else next run).

    Returns False when ``mis_id`` was not skipped.
    """
    row = get(conn, integration)
    done = conn.execute(
        delete(skips).where(skips.c.integration_id == row.id, skips.c.mis_id == mis_id)
    ).rowcount
    if done:
        mark(conn, row.id, [mis_id])
        record_event(conn, row.id, "review", "skipped", "unskipped",
                     cause=f"record {mis_id} un-skipped", actor=actor)
    return bool(done)
