"""Plan the plain creates of a run with one ``INSERT ... SELECT`` per role.

Most lines of a first sync are ``create`` lines for ready records that nothing else
claims. :class:`~connectkit.sync.plan.Planner` would read each such staged row back,
decode its fields and write a line; here the database builds the same lines itself.
:data:`PLAIN_CREATE` is the condition, over the planner's chunk query aliases (``s``
the staged row, ``k`` its skip, ``u`` its linked user), under which the Python planner
would plan ``create``: ready, not skipped, not linked, no decided merge into a user
that still exists, and no user of this integration with the same stable person id
whose own record this run did not see (a re-enrolment, planned as a move). The
planner plans these rows here and excludes them from its chunk query, so every staged
row is still planned exactly once.

A line's ``detail`` is the JSON the Python planner writes: ``role``, ``values``
(first and last name; email and phone only where the role's mapping imports them;
user type, site, area, person id, MIS code), ``hash`` and ``source``; and ``keys``, the
match keys staging computed for the record (null when it has none), which commit writes
instead of computing them again.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from connectkit.sync.mapper import PopulationMap

PLAIN_CREATE = """
    k.mis_id IS NULL AND s.list = 'ready' AND u.id IS NULL
    AND (s.match_user_id IS NULL
         OR NOT EXISTS (SELECT 1 FROM users AS m WHERE m.id = s.match_user_id))
    AND (s.person_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM users AS p
        WHERE p.integration_id = :integration AND p.person_id = s.person_id
          AND NOT EXISTS (SELECT 1 FROM staged_records AS o WHERE o.integration_id =
                          :integration AND o.run_id = :run AND o.mis_id = p.mis_id)
          AND NOT EXISTS (SELECT 1 FROM seen_unchanged AS f
                          WHERE f.run_id = :run AND f.mis_id = p.mis_id)))
"""

_UNPLANNED = """
    AND s.mis_id NOT IN (SELECT l.mis_id FROM run_log AS l WHERE l.run_id = :run
                         AND l.action = 'create' AND l.mis_id IS NOT NULL)
"""

_INSERT = """
INSERT INTO run_log (run_id, mis_id, user_id, action, outcome, detail)
SELECT :run, s.mis_id, NULL, 'create', 'planned', {detail}
FROM staged_records AS s
LEFT OUTER JOIN skips AS k ON k.integration_id = :integration AND k.mis_id = s.mis_id
LEFT OUTER JOIN users AS u ON u.integration_id = :integration AND u.mis_id = s.mis_id
WHERE s.integration_id = :integration AND s.role = :role AND ({condition})
ORDER BY s.id
"""


def _field(dialect: str, name: str) -> str:
    """The text of ``fields.<name>`` of the staged row (NULL when absent or null)."""
    if dialect == "postgresql":
        return f"(s.fields ->> '{name}')"
    return f"json_extract(s.fields, '$.{name}')"


def _detail_sql(dialect: str, population: PopulationMap | None) -> str:
    """The JSON ``detail`` of a create line of ``population``'s role, in SQL."""
    build = "json_build_object" if dialect == "postgresql" else "json_object"
    mapped = population.fields if population is not None else {}
    names = ["first_name", "last_name", *(n for n in ("email", "phone") if n in mapped)]
    pairs = [f"'{n}', {_field(dialect, n)}" for n in names]
    pairs += [
        f"'user_type', {_field(dialect, 'user_type')}",
        "'site', CAST(:site AS TEXT)",
        "'area', CAST(:area AS TEXT)",
        "'person_id', s.person_id",
        f"'mis_code', {_field(dialect, 'mis_code')}",
    ]
    values = f"{build}({', '.join(pairs)})"
    keys = (
        f"CASE WHEN s.name_key IS NULL THEN NULL ELSE {build}('name_key', s.name_key, "
        "'email_key', s.email_key, 'phone_key', s.phone_key) END"
    )
    return (
        f"{build}('role', s.role, 'values', {values}, "
        f"'hash', s.record_hash, 'source', s.source_hash, 'keys', {keys})"
    )


def insert_creates(
    conn: sa.Connection,
    integration_id: int,
    run_id: int,
    site: str | None,
    maps: Mapping[str, PopulationMap],
    unplanned: bool = False,
) -> int:
    """Write the plain create lines of every role; returns how many were written.
    ``unplanned``: only for records without a create line in the run already (a re-plan
    that kept the lines of records review did not change)."""
    dialect = conn.dialect.name
    condition = PLAIN_CREATE + (_UNPLANNED if unplanned else "")
    written = 0
    for role, population in maps.items():
        sql = _INSERT.format(detail=_detail_sql(dialect, population), condition=condition)
        params = {
            "run": run_id,
            "integration": integration_id,
            "role": role,
            "site": site,
            "area": population.area,
        }
        written += conn.execute(sa.text(sql), params).rowcount
    return written
