"""``connectkit db upgrade``: migrate the store to the newest schema."""

from __future__ import annotations

import click

from connectkit.cli.common import emit, get_app


@click.group("db")
def db_group() -> None:
    """Manage the store (SQLite file or PostgreSQL database)."""


@db_group.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def upgrade_command(as_json: bool) -> None:
    """Create or migrate the store's tables to the newest revision (safe to re-run).

    \b
    Example:
      connectkit db upgrade
    """
    from connectkit.config.model import safe_url
    from connectkit.store import migrate

    url = get_app().config.store.url
    before = migrate.current(url)
    after = migrate.upgrade(url)
    result = {"store": safe_url(url), "from": before, "to": after}
    if as_json:
        emit(result, True)
    elif before == after:
        click.echo(f"store {result['store']} is up to date (revision {after})")
    else:
        click.echo(f"store {result['store']} migrated from {before or 'empty'} to {after}")


def register(main: click.Group) -> None:
    main.add_command(db_group)
