"""Stopping and restarting an integration's automatic runs (R4.6)."""

from __future__ import annotations

from sqlalchemy import Connection

from connectkit.integrations.rows import get
from connectkit.integrations.status import Status
from connectkit.integrations.transitions import transition


def deactivate(conn: Connection, integration: str | int, *, actor: str, cause: str = "") -> None:
    """Stop automatic runs (R4.6): Active -> Deactivated; manual runs still work."""
    row = get(conn, integration)
    transition(conn, row.id, Status.DEACTIVATED, cause=cause or "deactivated", actor=actor)


def activate(conn: Connection, integration: str | int, *, actor: str, cause: str = "") -> None:
    """Restart automatic runs (R4.6): Deactivated -> Active."""
    row = get(conn, integration)
    transition(conn, row.id, Status.ACTIVE, cause=cause or "reactivated", actor=actor)
