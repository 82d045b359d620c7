"""``connectkit plugins``: what loaded, what failed and why, what was skipped."""

from __future__ import annotations

from typing import Any

import click

from connectkit.cli.common import EXIT_PLUGIN, CommandError, emit, get_app


def plugin_listing(app: Any) -> dict[str, Any]:
    """Loaded plugins (name, version, connector info, hooks), failures and skips."""
    connectors = {c.plugin_name: c for c in app.hooks.connectors().values()}
    plugins = []
    for loaded in app.load_report.loaded:
        connector = connectors.get(loaded.name)
        plugins.append(
            {
                "name": loaded.name,
                "version": loaded.version,
                "connector": None
                if connector is None
                else {
                    "name": connector.info.name,
                    "title": connector.info.title,
                    "version": connector.info.version,
                    "capabilities": connector.info.capabilities.model_dump(mode="json"),
                },
                "hooks": list(loaded.hooks),
            }
        )
    failed = [{"name": n, "reason": r} for n, r in sorted(app.load_report.failed.items())]
    return {"plugins": plugins, "failed": failed, "skipped": sorted(app.load_report.skipped)}


def _capabilities(caps: dict[str, Any]) -> str:
    on = [k for k, v in caps.items() if v is True]
    writeback = caps.get("writeback") or []
    if writeback:
        on.append("writeback=" + "/".join(sorted(writeback)))
    return ", ".join(on) or "-"


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--strict", is_flag=True, help="Exit 4 when any plugin failed to load.")
def plugins_command(as_json: bool, strict: bool) -> None:
    """List installed plugins: version, connector capabilities, hooks, load errors.

    \b
    Example:
      connectkit plugins --json
    """
    listing = plugin_listing(get_app())
    if as_json:
        emit(listing, True)
    else:
        rows = [
            {
                "plugin": p["name"],
                "version": p["version"],
                "connector": p["connector"]["name"] if p["connector"] else "",
                "capabilities": _capabilities(p["connector"]["capabilities"])
                if p["connector"]
                else "",
                "hooks": ", ".join(h.removeprefix("connectkit_") for h in p["hooks"]),
            }
            for p in listing["plugins"]
        ]
        emit(rows, False, title="Plugins")
        if listing["failed"]:
            emit(listing["failed"], False, title="Failed to load")
        if listing["skipped"]:
            click.echo("Skipped (not in the allow-list): " + ", ".join(listing["skipped"]))
    if strict and listing["failed"]:
        raise CommandError(f"{len(listing['failed'])} plugin(s) failed to load", EXIT_PLUGIN)


def register(main: click.Group) -> None:
    main.add_command(plugins_command)
