"""Execute the plain create lines of a commit batch with set-based statements.

Almost every line of a first sync is a ``create`` whose ``detail`` carries the match
keys staging computed (``detail.keys`` is an object; see
:mod:`~connectkit.sync.plan_creates`). For such a line the users row is a pure function
of the line: the database builds it from the line's own JSON and marks the lines
``ok`` with the ids of the users they created, in two statements per batch on SQLite
(``INSERT ... SELECT``, then ``UPDATE`` through the ``(integration_id, mis_id)`` unique
index) and one on PostgreSQL (the lines take ids from the users sequence, then the
users are inserted from what that ``UPDATE`` returned).
Nothing of these lines passes through Python, so the commit executes exactly the
planned values; it is the same row :func:`connectkit.sync.commit._row` builds:

- names, email, phone, person id and MIS code from ``detail.values`` (email and phone
  only where the line's values name them, and their keys only then);
- ``user_type_id`` / ``site_id`` / ``area_id`` by name, after
  :func:`ensure_targets` created any that are missing (an area only within its site);
- ``record_hash`` / ``source_hash`` from ``detail.hash`` / ``detail.source``; active;
  ``created_at`` and ``updated_at`` the batch's timestamp.

Create lines without carried keys (a record edited or merged in review) are written by
the per-line path, which computes the keys in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from connectkit.sync import bulk

Span = tuple[int, int, int]
"""(run id, first line id, last line id) of a commit batch."""


def carried(dialect: str, t: str = "") -> str:
    """SQL true for a line (table reference prefix ``t``, e.g. ``"r."``) executed here: a
    ``create`` whose detail carries staging's match keys."""
    if dialect == "postgresql":
        return f"({t}action = 'create' AND json_typeof({t}detail -> 'keys') = 'object')"
    return f"({t}action = 'create' AND json_type({t}detail, '$.keys') = 'object')"


def _span(dialect: str, t: str = "r.") -> str:
    """This run's planned carried-key create lines with ids in the span (table reference
    prefix ``t``; parameters: run id, first id, last id). ``+run_id``: read the
    primary-key range of the span, not every line of the run through an index."""
    return (
        f"+{t}run_id = {{p}} AND {t}id BETWEEN {{p}} AND {{p}} AND {t}outcome = 'planned' AND "
        + carried(dialect, t)
    )


def _sqlite_get(path: str) -> str:
    return f"json_extract(r.detail, '$.{path}')"


def _sqlite_has(path: str) -> str:
    return f"json_type(r.detail, '$.{path}') IS NOT NULL"


def _postgres_get(path: str) -> str:
    *heads, name = path.split(".")
    return "(r.d" + "".join(f" -> '{h}'" for h in heads) + f" ->> '{name}')"


def _postgres_has(path: str) -> str:
    head, _, name = path.rpartition(".")
    return f"jsonb_exists(r.d -> '{head}', '{name}')"


_PARSED = "CAST(r.detail AS jsonb) AS d"
"""PostgreSQL reads a line's JSON as ``r.d``, parsed once in a materialised CTE (inlined,
the planner parses it again for every reference); SQLite caches its parse per statement."""


_TARGET_IDS = (
    "(SELECT t.id FROM user_types AS t WHERE t.name = {user_type})",
    "(SELECT s.id FROM sites AS s WHERE s.name = {site})",
    "(SELECT a.id FROM areas AS a JOIN sites AS s ON s.id = a.site_id "
    "WHERE s.name = {site} AND a.name = {area})",
)
"""The target ids by name (an area only within its site)."""


def _values(dialect: str) -> list[str]:
    """The users row of line ``r`` in :data:`_COLUMNS` order (``{p}``: integration id,
    stamp, stamp)."""
    get, has = (
        (_postgres_get, _postgres_has) if dialect == "postgresql" else (_sqlite_get, _sqlite_has)
    )
    key = "CASE WHEN {has} THEN {key} END"
    names = {n: get(f"values.{n}") for n in ("user_type", "site", "area")}
    return [
        *(get(f"values.{n}") for n in ("first_name", "last_name", "email", "phone")),
        *(get(f"values.{n}") for n in ("person_id", "mis_code")),
        *(target.format(**names) for target in _TARGET_IDS),
        get("keys.name_key"),
        key.format(has=has("values.email"), key=get("keys.email_key")),
        key.format(has=has("values.phone"), key=get("keys.phone_key")),
        "{p}",
        "r.mis_id",
        get("hash"),
        get("source"),
        "TRUE",
        "{p}",
        "{p}",
    ]


_COLUMNS = (
    "first_name", "last_name", "email", "phone", "person_id", "mis_code",
    "user_type_id", "site_id", "area_id", "name_key", "email_key", "phone_key",
    "integration_id", "mis_id", "record_hash", "source_hash", "active",
    "updated_at", "created_at",
)  # fmt: skip
_NAMES = ", ".join(f'"{c}"' for c in _COLUMNS)

# Constants and JSON paths of this module only below; every value is a bound parameter.
_SQLITE_INSERT = (
    f"INSERT INTO users ({_NAMES}) SELECT {', '.join(_values('sqlite'))} "  # noqa: S608
    f"FROM run_log AS r WHERE {_span('sqlite')} ORDER BY r.id"
)
"""SQLite, step 1: the users (parameters: integration id, stamp, stamp, span)."""
_SQLITE_MARK = (
    "UPDATE run_log SET outcome = 'ok', user_id = (SELECT u.id FROM users AS u "  # noqa: S608
    f"WHERE u.integration_id = {{p}} AND u.mis_id = run_log.mis_id) WHERE {_span('sqlite', '')}"
)
"""SQLite, step 2: the lines marked with their users (the ``(integration_id, mis_id)``
unique index; parameters: integration id, span)."""
_POSTGRES = (
    "WITH r AS (UPDATE run_log AS r SET outcome = 'ok', "  # noqa: S608
    "user_id = nextval(pg_get_serial_sequence('users', 'id')) "
    f"WHERE {_span('postgresql')} RETURNING r.mis_id, {_PARSED}, r.user_id) "
    f'INSERT INTO users ("id", {_NAMES}) '
    f"SELECT r.user_id, {', '.join(_values('postgresql'))} FROM r"
)
"""PostgreSQL, one statement: the lines take their users' ids from the users sequence
and are marked, then the users are inserted from what the update returned (parameters:
span, integration id, stamp, stamp). No join: with statistics from before the batch,
the planner would pair lines and new users by nested loops (10k creates: 20 s)."""


def _targets_sql(dialect: str) -> str:
    """The distinct (user type, site, area) names of the span's carried-key creates."""
    if dialect == "postgresql":
        names = ", ".join(_postgres_get(f"values.{n}") for n in ("user_type", "site", "area"))
        return (
            f"WITH r AS MATERIALIZED (SELECT {_PARSED} FROM run_log AS r "  # noqa: S608
            f"WHERE {_span(dialect)}) SELECT DISTINCT {names} FROM r"
        )
    names = ", ".join(_sqlite_get(f"values.{n}") for n in ("user_type", "site", "area"))
    return f"SELECT DISTINCT {names} FROM run_log AS r WHERE {_span(dialect)}"  # noqa: S608


def ensure_targets(
    conn: sa.Connection, span: Span, ids: Callable[[Mapping[str, str | None]], object]
) -> None:
    """Create the user types, sites and areas the span's carried-key creates name and
    the directory lacks: ``ids`` is the per-line path's finder (it creates on first use)."""
    sql = bulk.driver_sql(conn, _targets_sql(conn.dialect.name))
    for user_type, site, area in conn.exec_driver_sql(sql, span).all():
        ids({"user_type": user_type, "site": site, "area": area})


def execute(conn: sa.Connection, integration_id: int, span: Span, stamp: Any) -> int:
    """Insert the users of the span's carried-key create lines (their targets must
    exist) and mark those lines ``ok`` with their new users' ids; returns how many lines
    were marked."""
    if conn.dialect.name == "postgresql":
        sql = bulk.driver_sql(conn, _POSTGRES)
        return int(conn.exec_driver_sql(sql, (*span, integration_id, stamp, stamp)).rowcount)
    insert = bulk.driver_sql(conn, _SQLITE_INSERT)
    conn.exec_driver_sql(insert, (integration_id, stamp, stamp, *span))
    mark = bulk.driver_sql(conn, _SQLITE_MARK)
    return int(conn.exec_driver_sql(mark, (integration_id, *span)).rowcount)
