"""The agreed API for moving an integration's status (R1.4) and setting its health.

A transition to the status the integration already has is a no-op (no event); any other
move not in :data:`~connectkit.integrations.status.ALLOWED` raises StateError.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, and_, update

from connectkit.errors import StateError
from connectkit.integrations.clock import now
from connectkit.integrations.event_log import record_event
from connectkit.integrations.rows import get
from connectkit.integrations.status import ALLOWED, Health, Status
from connectkit.store.tables import integrations

log = logging.getLogger("connectkit.integrations")


def transition(
    conn: Connection, integration_id: int, to: Status, *, cause: str, actor: str
) -> None:
    """Move the integration to status ``to`` and log it (R1.4).

    Raises StateError for a move the machine does not allow (naming both statuses) or an
    unknown integration. Moving to the current status does nothing. The update is a
    compare-and-set on the old status, so two racing callers cannot both succeed.
    """
    to = Status(to)
    current = get(conn, integration_id, for_update=True)
    if current.status == to:
        return
    if to not in ALLOWED[current.status]:
        allowed = ", ".join(sorted(ALLOWED[current.status])) or "nothing"
        raise StateError(
            f"integration {current.name!r} is {current.status}; it cannot become {to} "
            f"(from {current.status} it can become: {allowed})"
        )
    result = conn.execute(
        update(integrations)
        .where(and_(integrations.c.id == integration_id, integrations.c.status == current.status))
        .values(status=str(to), updated_at=now())
    )
    if result.rowcount != 1:
        raise StateError(f"integration {current.name!r} changed status meanwhile; try again")
    record_event(conn, integration_id, "status", current.status, to, cause=cause, actor=actor)
    log.info("integration %s: %s -> %s (%s, by %s)", current.name, current.status, to, cause, actor)


def set_health(
    conn: Connection, integration_id: int, health: str, *, cause: str, actor: str
) -> None:
    """Set the integration's health (``ok`` / ``on_hold`` / ``failing``) and log the change.

    Raises StateError for an unknown health value or integration; the same value is a no-op.
    """
    try:
        target = Health(health)
    except ValueError:
        known = ", ".join(h.value for h in Health)
        raise StateError(f"unknown health {health!r} (one of: {known})") from None
    current = get(conn, integration_id, for_update=True)
    if current.health == target:
        return
    conn.execute(
        update(integrations)
        .where(integrations.c.id == integration_id)
        .values(health=str(target), updated_at=now())
    )
    record_event(conn, integration_id, "health", current.health, target, cause=cause, actor=actor)
