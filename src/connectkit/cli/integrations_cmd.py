"""``connectkit integrations list | show``: status, health and counts per integration.

Other modules add actions to this group (``integrations_manage_cmd`` looks it up as
``main.commands["integrations"]``). Counts come from :mod:`connectkit.overview`
(one grouped query per figure, however many integrations there are).
"""

from __future__ import annotations

from typing import Any

import click

from connectkit import integrations
from connectkit.cli.common import emit, get_app
from connectkit.overview import last_run, staged_counts, synced_counts
from connectkit.secrets import mask


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
        "skipped": staged["skipped"],
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
