"""``connectkit integrations list | show``: status, health and counts per integration.

Other modules add actions to this group (``integrations_manage_cmd`` looks it up as
``main.commands["integrations"]``). Counts come from two grouped queries, however many
integrations there are: staged records per list and directory users linked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from sqlalchemy import Connection, func, select

from connectkit import integrations
from connectkit.cli.common import emit, get_app
from connectkit.secrets import mask
from connectkit.store.tables import staged_records, sync_runs, users

LISTS = ("error", "duplicate", "ready")


def staged_counts(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per integration id: how many staged records wait in each list."""
    out: dict[int, dict[str, int]] = {i: dict.fromkeys(LISTS, 0) for i in ids}
    query = (
        select(staged_records.c.integration_id, staged_records.c.list, func.count())
        .where(staged_records.c.integration_id.in_(ids))
        .group_by(staged_records.c.integration_id, staged_records.c.list)
    )
    for integration_id, name, count in conn.execute(query):
        out[integration_id][name] = int(count)
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


def _summary(
    row: integrations.IntegrationRow, staged: dict[str, int], synced: int
) -> dict[str, Any]:
    return {
        "name": row.name,
        "connector": row.connector,
        "status": str(row.status),
        "health": str(row.health),
        "errors": staged["error"],
        "duplicates": staged["duplicate"],
        "ready": staged["ready"],
        "users_synced": synced,
        "last_full_sync_at": row.last_full_sync_at,
    }


@click.group("integrations")
def integrations_group() -> None:
    """Integrations: one configured link between a school's MIS and the directory."""


@integrations_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_command(as_json: bool) -> None:
    """List integrations with status, health and record counts.

    \b
    Example:
      connectkit integrations list --json
    """
    with get_app().engine.connect() as conn:
        rows = integrations.list_all(conn)
        ids = [r.id for r in rows]
        staged, synced = staged_counts(conn, ids), synced_counts(conn, ids)
    data = [_summary(r, staged[r.id], synced[r.id]) for r in rows]
    columns = ["name", "connector", "status", "health", "errors", "duplicates", "ready"]
    emit(data, as_json, columns=[*columns, "users_synced"], title="Integrations")


@integrations_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show_command(name: str, as_json: bool) -> None:
    """Show one integration: status, health, connector, counts, last run, settings.

    \b
    Example:
      connectkit integrations show "Sample Academy"
    """
    with get_app().engine.connect() as conn:
        row = integrations.get(conn, name)
        staged, synced = staged_counts(conn, [row.id]), synced_counts(conn, [row.id])
        data = _summary(row, staged[row.id], synced[row.id])
        data["last_run"] = last_run(conn, row.id)
    data.update(
        {
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "last_delta_sync_at": row.last_delta_sync_at,
            "mapping_version": row.mapping_version,
            "connector_config": mask(row.connector_config),
            "settings": row.settings,
            "mapping": row.mapping,
        }
    )
    emit(data, as_json, title=row.name)


def register(main: click.Group) -> None:
    main.add_command(integrations_group)
