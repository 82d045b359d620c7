"""Creating an integration by requesting access, and checking where that stands (R1.2)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from connectkit.errors import ConnectkitError, StateError
from connectkit.integrations.clock import now
from connectkit.integrations.creation import _insert, _require_free_name
from connectkit.integrations.environment import Environment
from connectkit.integrations.rows import IntegrationRow, get
from connectkit.integrations.settings import ensure_sites, validate_settings
from connectkit.integrations.status import Status
from connectkit.integrations.transitions import transition
from connectkit.models import AccessState, AccessStatus
from connectkit.store.tables import access_state, integrations

log = logging.getLogger("connectkit.integrations")


def _store_access(conn: Connection, integration_id: int, status: AccessStatus) -> None:
    values = {"state": str(status.state), "detail": status.detail, "checked_at": now()}
    done = conn.execute(
        update(access_state).where(access_state.c.integration_id == integration_id).values(values)
    )
    if done.rowcount == 0:
        conn.execute(insert(access_state).values(integration_id=integration_id, **values))


def request_access(
    conn: Connection,
    env: Environment,
    *,
    name: str,
    connector: str,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    contacts: Sequence[dict[str, str]],
    actor: str,
) -> tuple[IntegrationRow, AccessStatus]:
    """Create an integration without credentials by requesting access (R1.2).

    The connector sends the request (it must declare ``capabilities.request_access``);
    the integration is stored Pending (Ready at once if the MIS already approved).
    Missing required config keys (the token) are allowed; clear secrets are not.
    """
    _require_free_name(conn, name)
    clean = validate_settings(settings, source=f"integration {name!r} settings")
    plugin = env.connector(connector)
    status = plugin.request_access(env.context(plugin, name, config, partial=True), contacts)
    ensure_sites(conn, clean["sites"])
    new_id = _insert(
        conn, name=name, connector=connector, status=Status.PENDING, config=config,
        settings=clean, mapping={}, cause=f"access requested ({status.state})", actor=actor,
    )
    _store_access(conn, new_id, status)
    if status.state == AccessState.APPROVED:
        transition(conn, new_id, Status.READY, cause="access approved by the MIS", actor=actor)
    return get(conn, new_id), status


def check_access(
    conn: Connection, env: Environment, integration: str | int, *, actor: str
) -> AccessStatus:
    """Ask the connector where a Pending integration's access request stands (R1.2).

    Stores the answer; ``approved`` moves the integration Pending -> Ready. Called on
    demand (CLI) and by the scheduler. StateError unless the integration is Pending.
    """
    row = get(conn, integration)
    if row.status != Status.PENDING:
        raise StateError(f"integration {row.name!r} is {row.status}, not pending access")
    status = env.connector(row.connector).check_access(env.context_for(row))
    _store_access(conn, row.id, status)
    if status.state == AccessState.APPROVED:
        transition(conn, row.id, Status.READY, cause="access approved by the MIS", actor=actor)
    return status


def check_all_pending(
    engine: Engine, env: Environment, *, actor: str = "scheduler"
) -> dict[str, AccessStatus | ConnectkitError]:
    """The scheduled side of R1.2: check every Pending integration, each in its own
    transaction; a connector failure is returned for that integration, the rest go on."""
    with engine.connect() as conn:
        names = list(conn.execute(
            select(integrations.c.name).where(integrations.c.status == str(Status.PENDING))
            .order_by(integrations.c.name)
        ).scalars())
    results: dict[str, AccessStatus | ConnectkitError] = {}
    for name in names:
        try:
            with engine.begin() as conn:
                results[name] = check_access(conn, env, name, actor=actor)
        except ConnectkitError as exc:
            log.warning("checking access of %s failed: %s", name, exc)
            results[name] = exc
    return results
