"""Creating an integration with credentials (R1.1), and the insert shared with R1.2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from connectkit.errors import StateError
from connectkit.integrations.clock import now
from connectkit.integrations.environment import Environment
from connectkit.integrations.event_log import record_event
from connectkit.integrations.rows import IntegrationRow, get
from connectkit.integrations.settings import ensure_sites, validate_settings
from connectkit.integrations.status import Health, Status
from connectkit.models import SchoolInfo
from connectkit.store.tables import integrations


def _require_free_name(conn: Connection, name: str) -> None:
    if not name.strip():
        raise StateError("an integration needs a name")
    taken = conn.execute(select(integrations.c.id).where(integrations.c.name == name)).first()
    if taken is not None:
        raise StateError(f"an integration named {name!r} already exists")


def _insert(
    conn: Connection,
    *,
    name: str,
    connector: str,
    status: Status,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    mapping: Mapping[str, Any],
    cause: str,
    actor: str,
) -> int:
    _require_free_name(conn, name)
    stamp = now()
    new_id = conn.execute(
        insert(integrations)
        .values(
            name=name,
            connector=connector,
            status=str(status),
            health=str(Health.OK),
            connector_config=dict(config),
            settings=dict(settings),
            mapping=dict(mapping),
            mapping_version=1,
            created_at=stamp,
            updated_at=stamp,
        )
        .returning(integrations.c.id)
    ).scalar_one()
    record_event(conn, new_id, "status", None, status, cause=cause, actor=actor)
    return int(new_id)


def create(
    conn: Connection,
    env: Environment,
    *,
    name: str,
    connector: str,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    actor: str,
) -> tuple[IntegrationRow, SchoolInfo]:
    """Create an integration with credentials (R1.1); it starts Ready.

    Order: settings are validated, the config is checked (secrets only as ``${VAR}``
    references, plugin JSON Schema), then the connector checks the credentials against
    the MIS. Only if all of that passes is anything written. Bad credentials raise the
    connector's InvalidCredentialsError / AccessNotGrantedError / NotFoundError.
    """
    _require_free_name(conn, name)
    clean = validate_settings(settings, source=f"integration {name!r} settings")
    plugin = env.connector(connector)
    school = plugin.check_credentials(env.context(plugin, name, config))
    ensure_sites(conn, clean["sites"])
    new_id = _insert(
        conn, name=name, connector=connector, status=Status.READY, config=config,
        settings=clean, mapping={},
        cause=f"created; credentials accepted for school {school.name!r} ({school.id})",
        actor=actor,
    )
    return get(conn, new_id), school
