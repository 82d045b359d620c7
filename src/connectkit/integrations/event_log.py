"""The ``integration_events`` log: status, health, settings and mapping changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from connectkit.errors import StateError
from connectkit.integrations.clock import _aware, now
from connectkit.secrets import redact
from connectkit.store.tables import integration_events


@dataclass(frozen=True)
class Event:
    """One recorded status / health / settings / mapping change."""

    at: datetime
    kind: str
    from_value: str | None
    to_value: str
    cause: str
    actor: str


def events(conn: Connection, integration_id: int) -> Iterator[Event]:
    """The integration's recorded events, oldest first (streamed)."""
    query = (
        select(integration_events)
        .where(integration_events.c.integration_id == integration_id)
        .order_by(integration_events.c.id)
    )
    for row in conn.execute(query).mappings():
        yield Event(
            _aware(row["at"]), row["kind"], row["from_value"], row["to_value"], row["cause"],
            row["actor"],
        )


def record_event(
    conn: Connection,
    integration_id: int,
    kind: str,
    from_value: str | None,
    to_value: str,
    *,
    cause: str,
    actor: str,
) -> None:
    """Append one ``integration_events`` row (cause and actor are required and redacted)."""
    if not cause.strip() or not actor.strip():
        raise StateError("every integration event needs a cause and an actor")
    conn.execute(
        insert(integration_events).values(
            integration_id=integration_id,
            at=now(),
            kind=kind,
            from_value=from_value,
            to_value=to_value,
            cause=redact(cause),
            actor=redact(actor)[:120],
        )
    )
