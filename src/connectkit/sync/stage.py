"""Stage one page of MIS records: map -> adjust -> override -> validate -> match -> store.

A record whose source digest (:mod:`~connectkit.sync.fingerprint`) equals its linked,
active, unskipped user's ``source_hash`` is unchanged: it is only noted as seen in
``seen_unchanged`` (the plan drops any stale staged row of it); everything after the
override step is skipped for it.

Every imported record lands in exactly one list of ``staged_records``: ``error`` (any
validation issue, including membership of more than one mapped group), ``duplicate``
(clean, not yet linked to this integration, and matching an unlinked directory user) or
``ready``. Records in no mapped group are not imported (R2.1). A page costs a fixed
number of statements whatever its size: one overrides lookup, one linked-users lookup,
one lookup of unchanged error rows, one duplicate lookup per 500 names, one bulk upsert,
one bulk insert of the unchanged records' notes and one update of the kept error rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from connectkit.errors import ConnectorError
from connectkit.models import MISPerson, Role
from connectkit.plugins.facade import Hooks
from connectkit.sync import bulk
from connectkit.sync.fingerprint import fingerprint_digest, source_digest
from connectkit.sync.hashing import record_hash
from connectkit.sync.keys import user_keys
from connectkit.sync.mapper import Mapped, PopulationMap
from connectkit.sync.matching import Match, find_duplicates
from connectkit.sync.validate import Issue, Validator

ERROR, DUPLICATE, READY = "error", "duplicate", "ready"

Seen = tuple[str, int]
"""An unchanged record: MIS id and its user's id (a stale staged row of it, from an
earlier run, is dropped by the plan)."""


class Holdings(NamedTuple):
    """What an integration holds that staging consults, read once per run (an import
    writes none of it): users holding source digests, error rows left by another run,
    skips, overrides."""

    digests: bool
    errors: bool
    skips: bool
    overrides: bool


EVERYTHING = Holdings(digests=True, errors=True, skips=True, overrides=True)
"""Consult everything (the safe default)."""

EDITABLE = ("first_name", "last_name", "email", "phone")


@dataclass(frozen=True)
class StagedPage:
    """One page, prepared: what :meth:`Stager.write` stores for it.

    ``rows`` are ``staged_records`` rows as tuples in ``_COLUMNS`` order (JSON already
    serialised), ``seen`` the :data:`Seen` notes of unchanged records, ``kept`` the
    MIS ids whose staged error row stays as it is (see :class:`MappedPage`),
    ``imported`` how many records of the page were imported (all kinds).
    """

    rows: list[tuple[Any, ...]]
    seen: list[Seen]
    kept: list[str]
    imported: int


@dataclass(frozen=True)
class MappedPage:
    """One page after the mapping half of staging (:meth:`Stager.map_page`).

    ``fresh`` are the records to check in full with their source digests, ``seen`` the
    :data:`Seen` notes of unchanged records, ``kept`` the MIS ids whose staged row is
    an error row of the same digest (validating the record again would give exactly
    that row: it is only moved to this run), ``linked`` the MIS ids of fresh records
    already linked to a user (never duplicates), ``imported`` how many records of the
    page were imported. Plain data: it crosses the import worker's pipe.
    """

    fresh: list[tuple[Mapped, str]]
    seen: list[Seen]
    kept: list[str]
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
    by_fingerprint: bool = False
    """Digest records by their connector fingerprints and vouch for them before mapping
    (the connector has the capability and no record adjuster is installed)."""
    held: Holdings = EVERYTHING
    """What the integration holds that staging consults (:func:`holdings`): lookups of
    what it does not hold are skipped (a first sync holds nothing)."""
    notes: dict[str, Seen] = field(default_factory=dict, compare=False, repr=False)
    """What :meth:`vouch` found for the page being read, kept for :meth:`map_page`: the
    :data:`Seen` notes of unchanged records ..."""
    errors: set[str] = field(default_factory=set, compare=False, repr=False)
    """... and the MIS ids of unchanged error rows."""

    def map_page(
        self,
        conn: sa.Connection,
        role: Role,
        people: Sequence[MISPerson],
        unchanged: Sequence[str] = (),
    ) -> MappedPage:
        """The mapping half: map, adjust, lay overrides over, digest, and set unchanged
        records aside (with ``unchanged``: the ids the connector did not map because
        :meth:`vouch` vouched for them). Reads overrides and linked users, which no
        import writes, so ``conn`` may be another connection (or process) than the
        writer's."""
        population = self.maps[role]
        mapped = [m for m in (population.apply(p) for p in people) if m.user_types]
        if not mapped and not unchanged:
            return MappedPage([], [], [], frozenset(), 0)
        self._adjust(role, mapped)
        overridden = (
            _apply_overrides(conn, self.integration_id, mapped) if self.held.overrides else set()
        )
        noted = [self.notes[i] for i in unchanged if i in self.notes]
        kept = [i for i in unchanged if i in self.errors]
        unnoted = [i for i in unchanged if i not in self.notes and i not in self.errors]
        self.notes.clear()
        self.errors.clear()
        ids = [m.mis_id for m in mapped]
        linked = _linked(conn, self.integration_id, [*ids, *unnoted]) if ids or unnoted else {}
        fresh, seen = self._split(mapped, linked, overridden)
        fresh, unchanged_errors = self._keep_errors(conn, fresh, overridden)
        seen += noted + _vouched(unnoted, linked)
        relinked = frozenset(record.mis_id for record, _digest in fresh if record.mis_id in linked)
        return MappedPage(
            fresh, seen, kept + unchanged_errors, relinked, len(mapped) + len(unchanged)
        )

    def vouch(self, conn: sa.Connection, fingerprints: Mapping[str, str]) -> frozenset[str]:
        """The MIS ids among ``fingerprints`` (id -> connector fingerprint) that need no
        staging: those whose linked, active, unskipped user without overrides holds the
        digest of that fingerprint (staging them again would plan ``unchanged``), and
        those whose staged error row holds it (validating again would give that row)."""
        self.notes.clear()
        self.errors.clear()
        held = self.held
        if not (self.by_fingerprint and self.salt and fingerprints):
            return frozenset()
        if not (held.digests or held.errors):  # a first sync: nothing can be vouched for
            return frozenset()
        salt = self.salt
        pairs = [(i, fingerprint_digest(salt, print_)) for i, print_ in fingerprints.items()]
        if held.digests:
            for mis_id, user_id in _holding(conn, self.integration_id, pairs, held):
                self.notes[mis_id] = (mis_id, int(user_id))
        rest = [pair for pair in pairs if pair[0] not in self.notes]
        if rest and held.errors:
            self.errors.update(_unchanged_errors(conn, self.integration_id, rest))
        return frozenset(self.notes).union(self.errors)

    def check(self, conn: sa.Connection, role: Role, page: MappedPage) -> StagedPage:
        """The checking half: validate the fresh records, look their duplicates up
        (reading ``users``) and build their staged rows."""
        rows = self._rows(conn, self.maps[role], page.fresh, page.linked) if page.fresh else []
        return StagedPage(rows, page.seen, page.kept, page.imported)

    def write(self, conn: sa.Connection, page: StagedPage) -> None:
        """Store a prepared page in ``conn``'s transaction: one executemany upsert (a
        merge the admin already decided -- ready with ``match_user_id`` -- survives a
        re-stage that finds the same duplicate), the seen notes, and the kept error
        rows moved to this run."""
        _note_seen(conn, self.run_id, page.seen)
        _keep(conn, self.run_id, self.integration_id, page.kept)
        bulk.insert_rows(conn, "staged_records", _COLUMNS, page.rows, _ON_CONFLICT)

    def _split(
        self, mapped: Sequence[Mapped], linked: Mapping[str, _Link], overridden: set[str]
    ) -> tuple[list[tuple[Mapped, str]], list[Seen]]:
        """(records to stage with their digests, the notes of unchanged ones)."""
        fresh: list[tuple[Mapped, str]] = []
        seen: list[Seen] = []
        for record in mapped:
            plain = self.by_fingerprint and record.mis_id not in overridden
            digest = source_digest(self.salt, record, by_fingerprint=plain)
            link = linked.get(record.mis_id)
            if self.salt and link is not None and link.unchanged(digest):
                seen.append(link.note(record.mis_id))
            else:
                fresh.append((record, digest))
        return fresh, seen

    def _keep_errors(
        self, conn: sa.Connection, fresh: list[tuple[Mapped, str]], overridden: set[str]
    ) -> tuple[list[tuple[Mapped, str]], list[str]]:
        """(the fresh records still to check, the MIS ids whose staged error row holds
        their digest). With fingerprints :meth:`vouch` already asked for the records
        digested by fingerprint, so only overridden ones are asked here."""
        if not (self.salt and self.held.errors):
            return fresh, []
        asked = [
            (record.mis_id, digest)
            for record, digest in fresh
            if not self.by_fingerprint or record.mis_id in overridden
        ]
        if not asked:
            return fresh, []
        kept = _unchanged_errors(conn, self.integration_id, asked)
        if not kept:
            return fresh, []
        return [pair for pair in fresh if pair[0].mis_id not in kept], sorted(kept)

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
        keys, matches = self._duplicates(conn, mapped, cleaned, issues, linked)
        return [
            self._row(population, m, digest, fields, found, matches.get(i), keys.get(i))
            for i, ((m, digest), fields, found) in enumerate(
                zip(fresh, cleaned, issues, strict=True)
            )
        ]

    def _duplicates(
        self,
        conn: sa.Connection,
        mapped: Sequence[Mapped],
        cleaned: Sequence[Mapping[str, str | None]],
        issues: Sequence[list[Issue]],
        linked: frozenset[str],
    ) -> tuple[dict[int, dict[str, str | None]], dict[int, Match]]:
        """R3.4 for the clean records not yet linked to this integration: their match
        keys and their matches, both by index in ``mapped``."""
        candidates = [i for i, m in enumerate(mapped) if not issues[i] and m.mis_id not in linked]
        keys = {i: user_keys(cleaned[i]) for i in candidates}
        found = find_duplicates(conn, self.integration_id, list(keys.values()))
        return keys, {candidates[j]: match for j, match in found.items()}

    def _row(
        self,
        population: PopulationMap,
        record: Mapped,
        digest: str,
        fields: dict[str, str | None],
        found: list[Issue],
        match: Match | None,
        keys: Mapping[str, str | None] | None,
    ) -> tuple[Any, ...]:
        """One ``staged_records`` row in ``_COLUMNS`` order (``keys``: the record's match
        keys, when it was a duplicate candidate)."""
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
            *(_NO_KEYS if keys is None else (keys[k] for k in _KEYS)),
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


def _apply_overrides(
    conn: sa.Connection, integration_id: int, mapped: Sequence[Mapped]
) -> set[str]:
    """Lay the admin's saved edits (R3.3) over the mapped values, one query per page;
    returns the MIS ids that have edits."""
    ids = [m.mis_id for m in mapped]
    if not ids:
        return set()
    found = _by_mis_id(conn, "SELECT mis_id, fields FROM overrides", integration_id, ids)
    if not found:
        return set()
    edits = {mis_id: _json_value(fields) or {} for mis_id, fields in found}
    for record in mapped:
        for name, value in edits.get(record.mis_id, {}).items():
            if name in EDITABLE:
                record.fields[name] = value
    return set(edits)


def _vouched(unchanged: Sequence[str], linked: Mapping[str, _Link]) -> list[Seen]:
    """The notes of the records the connector left out as unchanged; a ConnectorError if
    it left out one the engine cannot have vouched for."""
    seen: list[Seen] = []
    for mis_id in unchanged:
        link = linked.get(mis_id)
        if link is None or not link.active or link.skipped:
            raise ConnectorError(
                f"record {mis_id}: the connector left it out as unchanged, but no active "
                "user of this integration holds it (only ids ConnectorContext.unchanged "
                "returned may be left out)"
            )
        seen.append(link.note(mis_id))
    return seen


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

    def note(self, mis_id: str) -> Seen:
        """The seen note of the record when it is unchanged."""
        return (mis_id, self.user_id)


_LINKED = (
    "SELECT u.mis_id, u.id, u.active, u.source_hash, k.mis_id FROM users AS u "
    "LEFT OUTER JOIN skips AS k ON k.integration_id = u.integration_id AND k.mis_id = u.mis_id"
)


def _linked(conn: sa.Connection, integration_id: int, mis_ids: Sequence[str]) -> dict[str, _Link]:
    """This integration's users linked to these MIS ids (one indexed statement)."""
    found = _by_mis_id(conn, _LINKED, integration_id, mis_ids, alias="u.")
    return {
        mis_id: _Link(int(uid), bool(active), source, skip is not None)
        for mis_id, uid, active, source, skip in found
    }


_HOLDING = (
    "SELECT u.mis_id, u.id FROM v JOIN users AS u "
    "ON u.integration_id = {p} AND u.mis_id = v.mis_id AND u.source_hash = v.digest "
    "WHERE u.active"
)
_NOT_SKIPPED = (
    " AND NOT EXISTS (SELECT 1 FROM skips AS k "
    "WHERE k.integration_id = u.integration_id AND k.mis_id = u.mis_id)"
)
_NOT_EDITED = (
    " AND NOT EXISTS (SELECT 1 FROM overrides AS o "
    "WHERE o.integration_id = u.integration_id AND o.mis_id = u.mis_id)"
)
_ERRORS_HOLDING = (
    "SELECT s.mis_id FROM v JOIN staged_records AS s "
    "ON s.integration_id = {p} AND s.mis_id = v.mis_id AND s.source_hash = v.digest "
    "WHERE s.list = 'error'"
)


def _holding(
    conn: sa.Connection, integration_id: int, pairs: Sequence[tuple[str, str]], held: Holdings
) -> list[tuple[Any, ...]]:
    """Of (MIS id, digest) ``pairs``, those whose linked user is active, holds that
    digest, is not skipped and has no overrides: (MIS id, user id). One indexed
    statement; the database compares (skips and overrides only where ``held`` says the
    integration has any)."""
    select = _HOLDING + (_NOT_SKIPPED if held.skips else "")
    select += _NOT_EDITED if held.overrides else ""
    return _with_pairs(conn, select, integration_id, pairs)


def _unchanged_errors(
    conn: sa.Connection, integration_id: int, pairs: Sequence[tuple[str, str]]
) -> set[str]:
    """Of (MIS id, digest) ``pairs``, the MIS ids whose staged row is an error row holding
    that digest (validating the record again would give exactly that row)."""
    return {row[0] for row in _with_pairs(conn, _ERRORS_HOLDING, integration_id, pairs)}


def _with_pairs(
    conn: sa.Connection, select: str, integration_id: int, pairs: Sequence[tuple[str, str]]
) -> list[tuple[Any, ...]]:
    """``select`` over ``v (mis_id, digest)``, the ``pairs`` as a VALUES list, with this
    integration's id as its ``{p}`` parameter; one statement per :data:`_PAIRS` pairs
    (well inside both databases' limits on parameters)."""
    body = bulk.driver_sql(conn, select)
    pair = f"({bulk.placeholders(conn, 2)})"
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(pairs), _PAIRS):
        chunk = pairs[start : start + _PAIRS]
        sql = f"WITH v (mis_id, digest) AS (VALUES {', '.join([pair] * len(chunk))}) {body}"
        flat = [value for pair in chunk for value in pair]
        found += [tuple(row) for row in conn.exec_driver_sql(sql, (*flat, integration_id))]
    return found


_PAIRS = 2000


_HOLDINGS = (
    "SELECT EXISTS (SELECT 1 FROM users "
    "WHERE integration_id = {p} AND source_hash IS NOT NULL), "
    "EXISTS (SELECT 1 FROM staged_records "
    "WHERE integration_id = {p} AND list = 'error' AND run_id <> {p}), "
    "EXISTS (SELECT 1 FROM skips WHERE integration_id = {p}), "
    "EXISTS (SELECT 1 FROM overrides WHERE integration_id = {p})"
)


def holdings(conn: sa.Connection, integration_id: int, run_id: int) -> Holdings:
    """What the integration holds for run ``run_id`` (error rows of that run itself do
    not count: a record is read once per run)."""
    params = (integration_id, integration_id, run_id, integration_id, integration_id)
    row = conn.exec_driver_sql(bulk.driver_sql(conn, _HOLDINGS), params).one()
    return Holdings(*(bool(value) for value in row))


def _keep(conn: sa.Connection, run_id: int, integration_id: int, kept: Sequence[str]) -> None:
    """Move the kept error rows to this run (their content stays as it is)."""
    if kept:
        head = bulk.driver_sql(conn, _KEEP)
        conn.exec_driver_sql(_page_sql(conn, head, len(kept)), (run_id, integration_id, *kept))


_KEEP = "UPDATE staged_records SET run_id = {p}"


def _note_seen(conn: sa.Connection, run_id: int, seen: Sequence[Seen]) -> None:
    """Record unchanged records as seen by this run (the plan drops stale staged rows of
    them: the record is back to what its user holds, so it belongs in no list)."""
    rows = [(run_id, mis_id, uid) for mis_id, uid in seen]
    bulk.insert_rows(conn, "seen_unchanged", _SEEN_COLUMNS, rows, _SEEN_CONFLICT)


_SEEN_COLUMNS = ("run_id", "mis_id", "user_id")
_SEEN_CONFLICT = 'ON CONFLICT ("run_id", "mis_id") DO NOTHING'


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
    "match_user_id", "match_key", "record_hash", "source_hash", "name_key", "email_key",
    "phone_key",
)  # fmt: skip
_KEYS = ("name_key", "email_key", "phone_key")
_NO_KEYS = (None, None, None)
_KEEP_MERGE = (
    "staged_records.list = 'ready' AND staged_records.match_user_id IS NOT NULL "
    "AND excluded.list = 'duplicate'"
)
_ON_CONFLICT = (
    'ON CONFLICT ("integration_id", "mis_id") DO UPDATE SET '
    '"run_id" = excluded.run_id, "role" = excluded.role, "person_id" = excluded.person_id, '
    '"fields" = excluded.fields, "issues" = excluded.issues, '
    '"record_hash" = excluded.record_hash, "source_hash" = excluded.source_hash, '
    '"name_key" = excluded.name_key, "email_key" = excluded.email_key, '
    '"phone_key" = excluded.phone_key, '
    f'"list" = CASE WHEN {_KEEP_MERGE} THEN \'ready\' ELSE excluded.list END, '
    f'"match_user_id" = CASE WHEN {_KEEP_MERGE} THEN staged_records.match_user_id '
    "ELSE excluded.match_user_id END, "
    f'"match_key" = CASE WHEN {_KEEP_MERGE} THEN staged_records.match_key '
    "ELSE excluded.match_key END"
)
