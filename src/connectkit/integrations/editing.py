"""Editing an integration's settings (R1.3) and connector keys (R1.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, update

from connectkit.integrations.clock import now
from connectkit.integrations.environment import Environment
from connectkit.integrations.event_log import record_event
from connectkit.integrations.rows import IntegrationRow, get
from connectkit.integrations.settings import _merge, ensure_sites, validate_settings
from connectkit.integrations.status import Status
from connectkit.store.tables import integrations


def update_settings(
    conn: Connection, integration: str | int, changes: Mapping[str, Any], *, actor: str
) -> IntegrationRow:
    """Lay ``changes`` over the integration's settings, validate the result (R1.3), save it.

    Nested tables merge key by key (``{"photos": {"import": True}}`` keeps ``existing``).
    An edit that changes nothing writes nothing. Logged as a ``settings`` event.
    """
    row = get(conn, integration, for_update=True)
    merged = validate_settings(
        _merge(row.settings, changes), source=f"integration {row.name!r} settings"
    )
    if merged == row.settings:
        return row
    ensure_sites(conn, merged["sites"])
    conn.execute(
        update(integrations).where(integrations.c.id == row.id)
        .values(settings=merged, updated_at=now())
    )
    changed = sorted(k for k in merged if merged[k] != row.settings.get(k))
    record_event(conn, row.id, "settings", None, "edited",
                 cause=f"settings changed: {', '.join(changed)}", actor=actor)
    return get(conn, row.id)


def update_connector_config(
    conn: Connection, env: Environment, integration: str | int, changes: Mapping[str, Any],
    *, actor: str, replace: bool = False,
) -> IntegrationRow:
    """Change connector keys (e.g. add the token once access is granted); ``replace``
    takes ``changes`` as the whole new section instead of laying it over the old one.

    Unless the integration is Pending, the new credentials are checked against the MIS
    first (R1.1) and nothing is saved when they are refused.
    """
    row = get(conn, integration, for_update=True)
    merged = dict(changes) if replace else _merge(row.connector_config, changes)
    plugin = env.connector(row.connector)
    if row.status == Status.PENDING:
        env.context(plugin, row.name, merged, partial=True)
    else:
        plugin.check_credentials(env.context(plugin, row.name, merged))
    if merged != row.connector_config:
        conn.execute(
            update(integrations).where(integrations.c.id == row.id)
            .values(connector_config=merged, updated_at=now())
        )
        record_event(conn, row.id, "settings", None, "edited",
                     cause=f"connector keys changed: {', '.join(sorted(changes))}", actor=actor)
    return get(conn, row.id)
