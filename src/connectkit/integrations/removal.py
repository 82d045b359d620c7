"""Removing an integration (R7): its users kept but unlinked, or deleted."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select, update

from connectkit.errors import StateError
from connectkit.integrations.clock import now
from connectkit.integrations.rows import get
from connectkit.store.tables import integrations, staged_records, sync_runs, users

log = logging.getLogger("connectkit.integrations")


@dataclass(frozen=True)
class Removal:
    """What removing an integration did to the directory."""

    name: str
    users_unlinked: int
    users_deleted: int


def run_in_progress(conn: Connection, integration_id: int) -> bool:
    """True when a sync run of the integration holds an unexpired lease."""
    query = select(func.count()).select_from(sync_runs).where(
        sync_runs.c.integration_id == integration_id,
        sync_runs.c.finished_at.is_(None),
        sync_runs.c.lease_expires_at > now(),
    )
    return bool(conn.execute(query).scalar_one())


def remove(
    conn: Connection, integration: str | int, *, delete_users: bool = False, actor: str
) -> Removal:
    """Remove an integration (R7). The caller has asked the admin to confirm.

    Its directory users are kept but unlinked (``integration_id``, ``mis_id``,
    ``person_id``, ``mis_code``, ``record_hash`` cleared) unless ``delete_users``.
    Its staging, runs, overrides, skips and events go with it. Refused (StateError)
    while a run holds a live lease.
    """
    row = get(conn, integration, for_update=True)
    if run_in_progress(conn, row.id):
        raise StateError(f"integration {row.name!r} has a sync run in progress; try later")
    mine = users.c.integration_id == row.id
    unlinked = deleted = 0
    if delete_users:
        deleted = conn.execute(delete(users).where(mine)).rowcount
    else:
        unlinked = conn.execute(
            update(users).where(mine).values(
                integration_id=None, mis_id=None, person_id=None, mis_code=None,
                record_hash=None, source_hash=None, updated_at=now(),
            )
        ).rowcount
    conn.execute(delete(staged_records).where(staged_records.c.integration_id == row.id))
    conn.execute(delete(integrations).where(integrations.c.id == row.id))
    log.info("integration %s removed by %s: %d users unlinked, %d deleted",
             row.name, actor, unlinked, deleted)
    return Removal(row.name, unlinked, deleted)
