"""Figures for the integration list and View page (R7): list sizes, users synced, last run.

Read-only queries, batched over many integrations at once (one query per figure, not one
per integration), shared by the CLI and any other interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select

from connectkit.store.tables import skips, staged_records, sync_runs, users

LISTS = ("error", "duplicate", "ready", "skipped")


def staged_counts(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per integration id: records waiting in each list; skipped records count only as
    ``skipped`` (they wait for nobody)."""
    out: dict[int, dict[str, int]] = {i: dict.fromkeys(LISTS, 0) for i in ids}
    skipped = skips.c.mis_id.is_not(None)
    query = (
        select(staged_records.c.integration_id, staged_records.c.list, skipped, func.count())
        .select_from(
            staged_records.outerjoin(
                skips,
                and_(
                    skips.c.integration_id == staged_records.c.integration_id,
                    skips.c.mis_id == staged_records.c.mis_id,
                ),
            )
        )
        .where(staged_records.c.integration_id.in_(ids))
        .group_by(staged_records.c.integration_id, staged_records.c.list, skipped)
    )
    for integration_id, name, is_skipped, count in conn.execute(query):
        out[integration_id]["skipped" if is_skipped else name] += int(count)
    return out


def synced_counts(conn: Connection, ids: Sequence[int]) -> dict[int, int]:
    """Per integration id: directory users linked to it (created or merged from the MIS)."""
    query = (
        select(users.c.integration_id, func.count())
        .where(users.c.integration_id.in_(ids))
        .group_by(users.c.integration_id)
    )
    found = {int(i): int(n) for i, n in conn.execute(query)}
    return {i: found.get(i, 0) for i in ids}


def last_run(conn: Connection, integration_id: int) -> dict[str, Any] | None:
    """The newest sync run of an integration (id, kind, status, phase, times), or None."""
    query = (
        select(
            sync_runs.c.id,
            sync_runs.c.kind,
            sync_runs.c.status,
            sync_runs.c.phase,
            sync_runs.c.started_at,
            sync_runs.c.finished_at,
        )
        .where(sync_runs.c.integration_id == integration_id)
        .order_by(sync_runs.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None
