"""Reading ``integrations`` rows: the typed row, lookup by name or id, the full list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from connectkit.errors import StateError
from connectkit.integrations.clock import _aware
from connectkit.integrations.status import Health, Status
from connectkit.store.tables import integrations


@dataclass(frozen=True)
class IntegrationRow:
    """One ``integrations`` row, typed; ``connector_config`` holds ``${VAR}`` refs only."""

    id: int
    name: str
    connector: str
    status: Status
    health: Health
    connector_config: dict[str, Any]
    settings: dict[str, Any]
    mapping: dict[str, Any]
    mapping_version: int
    created_at: datetime
    updated_at: datetime
    last_full_sync_at: datetime | None
    last_delta_sync_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> IntegrationRow:
        return cls(
            id=row["id"],
            name=row["name"],
            connector=row["connector"],
            status=Status(row["status"]),
            health=Health(row["health"]),
            connector_config=dict(row["connector_config"] or {}),
            settings=dict(row["settings"] or {}),
            mapping=dict(row["mapping"] or {}),
            mapping_version=row["mapping_version"],
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
            last_full_sync_at=_aware(row["last_full_sync_at"]),
            last_delta_sync_at=_aware(row["last_delta_sync_at"]),
        )


def get(conn: Connection, name_or_id: str | int, *, for_update: bool = False) -> IntegrationRow:
    """The integration named ``name_or_id`` (or with that id); StateError if there is none.

    A string is looked up by name first, then, if it is all digits, by id.
    ``for_update`` locks the row (PostgreSQL) for the rest of the transaction.
    """
    query = select(integrations)
    if for_update:
        query = query.with_for_update()
    row: RowMapping | None = None
    if isinstance(name_or_id, str):
        row = conn.execute(query.where(integrations.c.name == name_or_id)).mappings().first()
        if row is None and name_or_id.isdigit():
            name_or_id = int(name_or_id)
    if row is None and isinstance(name_or_id, int):
        row = conn.execute(query.where(integrations.c.id == name_or_id)).mappings().first()
    if row is None:
        raise StateError(f"no integration named or numbered {name_or_id!r}")
    return IntegrationRow.from_row(row)


def list_all(conn: Connection) -> list[IntegrationRow]:
    """Every integration, by name (a deployment has a handful, not thousands)."""
    rows = conn.execute(select(integrations).order_by(integrations.c.name)).mappings()
    return [IntegrationRow.from_row(row) for row in rows]
