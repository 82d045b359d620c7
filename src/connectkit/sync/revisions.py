"""Which staged records an admin's review changed since the integration's last plan.

The first sync is planned when its import ends, reviewed, then planned again by
``confirm`` so that the admin's edits, merges and skips are what gets committed. Most of
that plan is plain ``create`` lines of records nobody touched, and building them is most
of a plan's cost. Every review action therefore marks its record here
(``review_marks``), and the re-plan of the same run under the same mapping and settings
keeps the plain create lines of the unmarked records instead of building them again
(:class:`~connectkit.sync.plan.Planner`, ``revise``). Every plan clears the marks of
its integration when it is written, in the same transaction.

A mark only ever costs a re-plan of that record, so marking a record that did not
change (or is not staged) is harmless; a missing mark would keep a stale line, so each
function of :mod:`~connectkit.sync.review` that writes a staged record, an override or
a skip marks it in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from connectkit.sync import bulk

_COLUMNS = ("integration_id", "mis_id")
_ON_CONFLICT = 'ON CONFLICT ("integration_id", "mis_id") DO NOTHING'

_MARKED = "SELECT r.mis_id FROM review_marks AS r WHERE r.integration_id = :integration"


def mark(conn: sa.Connection, integration_id: int, mis_ids: Iterable[str]) -> None:
    """Mark these records of the integration as changed by review since its last plan."""
    rows = [(integration_id, mis_id) for mis_id in dict.fromkeys(mis_ids)]
    bulk.insert_rows(conn, "review_marks", _COLUMNS, rows, _ON_CONFLICT)


def marked(conn: sa.Connection, integration_id: int) -> set[str]:
    """The integration's marked MIS ids."""
    return set(conn.execute(sa.text(_MARKED), {"integration": integration_id}).scalars())


def clear(conn: sa.Connection, integration_id: int) -> None:
    """Forget the integration's marks (a plan of every record was just written)."""
    sql = bulk.driver_sql(conn, "DELETE FROM review_marks WHERE integration_id = {p}")
    conn.exec_driver_sql(sql, (integration_id,))
