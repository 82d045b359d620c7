"""Applying the deployment config: create or update one integration from its entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from connectkit.errors import StateError
from connectkit.integrations.creation import create
from connectkit.integrations.editing import update_connector_config, update_settings
from connectkit.integrations.environment import Environment
from connectkit.integrations.rows import get
from connectkit.store.tables import integrations

if TYPE_CHECKING:
    from connectkit.config import IntegrationConfig


@dataclass(frozen=True)
class Applied:
    """What ``integrations apply`` did to one integration: ``created``, ``updated`` or
    ``unchanged``, with what changed and any mapping warnings."""

    name: str
    action: str
    changed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def apply_one(
    conn: Connection, env: Environment, spec: IntegrationConfig, *, actor: str,
    confirm_reimport: bool = False,
) -> Applied:
    """Create or update one integration from its ``[[integrations]]`` config entry.

    A new integration is created with its credentials checked (R1.1); an existing one
    gets the changed connector keys (credentials re-checked), settings and mapping.
    Missing user types and areas named by the mapping are created (the config file is
    the admin's confirmation). A mapping change after an import needs
    ``confirm_reimport`` (R2.4) and is refused while errors or duplicates wait (R2.5).
    The connector type of an existing integration cannot change (remove it first).
    """
    from connectkit.sync import mapping_rules

    refs, settings, mapping = dict(spec.connector_refs), dict(spec.settings), dict(spec.mapping)
    exists = conn.execute(
        select(integrations.c.id).where(integrations.c.name == spec.name)
    ).scalar_one_or_none()
    changed: list[str] = []
    if exists is None:
        create(conn, env, name=spec.name, connector=spec.connector_type, config=refs,
               settings=settings, actor=actor)
        action = "created"
    else:
        row = get(conn, exists)
        if row.connector != spec.connector_type:
            raise StateError(
                f"integration {spec.name!r} uses connector {row.connector!r}, the config says "
                f"{spec.connector_type!r}; remove the integration to change its connector"
            )
        if refs != row.connector_config:
            update_connector_config(conn, env, row.id, refs, actor=actor, replace=True)
            changed.append("connector")
        if update_settings(conn, row.id, settings, actor=actor).settings != row.settings:
            changed.append("settings")
        action = "updated" if changed else "unchanged"
    warnings: tuple[str, ...] = ()
    if mapping:
        result = mapping_rules.save_mapping(
            conn, env, spec.name, mapping, actor=actor, confirm_reimport=confirm_reimport,
            create_missing=True,
        )
        warnings = result.check.warnings
        if result.changed and action == "unchanged":
            action, changed = "updated", [*changed, "mapping"]
        elif result.changed:
            changed.append("mapping")
    return Applied(spec.name, action, tuple(changed), warnings)
