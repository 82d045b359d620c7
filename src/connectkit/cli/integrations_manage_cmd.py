"""``connectkit integrations create | apply | edit | request-access | check-access |
deactivate | activate | remove``: the lifecycle actions (R1.1-R1.4, R2.4, R2.5, R4.6, R7).

The commands add themselves to the ``integrations`` group of ``integrations_cmd``. Each
runs in one store transaction (``apply``: one per integration), so a refused action
saves nothing. Connector secrets are given as ``${VAR}`` references (``-o
'token=${WONDE_TOKEN}'``) and read from the environment; a clear secret is refused.
"""

from __future__ import annotations

import getpass
import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from connectkit import integrations as ig
from connectkit.cli.common import CommandError, emit, get_app, require_confirmation, translate
from connectkit.errors import ConnectkitError
from connectkit.secrets import mask
from connectkit.store.tables import users
from connectkit.sync import mapping_rules


def actor() -> str:
    """Who is acting, for the integration event log: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _value(text: str) -> Any:
    """A ``key=value`` value: JSON when it parses (true, 10, ["a"]), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Sequence[str], what: str, *, typed: bool) -> dict[str, Any]:
    """``["a.b=1", "c=x"]`` -> ``{"a": {"b": 1}, "c": "x"}`` (dotted keys nest)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{what} {pair!r} must look like key=value", 2)
        parts = key.strip().split(".")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _value(text) if typed else text
    return out


def _settings(
    pairs: Sequence[str], sites: Sequence[str], options: dict[str, str | None]
) -> dict[str, Any]:
    settings = parse_pairs(pairs, "--setting", typed=True)
    if sites:
        settings["sites"] = list(sites)
    settings.update({k: v for k, v in options.items() if v is not None})
    return settings


def _row_json(row: ig.IntegrationRow) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "connector": row.connector, "status": str(row.status),
        "health": str(row.health), "connector_config": mask(row.connector_config),
        "settings": row.settings, "mapping": row.mapping, "mapping_version": row.mapping_version,
    }


def _read_mapping(path: Path) -> dict[str, Any]:
    """A mapping file: TOML or JSON, either the bare ``students``/``staff`` tables or a
    whole ``[integrations.mapping]``-style document with a top-level ``mapping`` table."""
    text = path.read_text("utf-8")
    try:
        data: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise CommandError(f"{path}: not valid {path.suffix or 'TOML'}: {exc}", 2) from None
    if isinstance(data, dict) and isinstance(data.get("mapping"), dict):
        data = data["mapping"]
    if not isinstance(data, dict):
        raise CommandError(f"{path}: a mapping must be a table", 2)
    return data


settings_options = [
    click.option("--site", "sites", multiple=True, help="Directory site (repeat for more)."),
    click.option("--sync", type=click.Choice(["read", "read_write"]), help="What to sync."),
    click.option("--writeback", type=click.Choice(["automatic", "approval"])),
    click.option("--deletion", type=click.Choice(["delete", "deactivate", "keep"])),
    click.option("--phone-region", help="Default region for phone numbers, e.g. GB."),
    click.option("--setting", "setting_pairs", multiple=True, metavar="KEY=VALUE",
                 help="Any setting by dotted key, e.g. photos.import=true."),
]


def with_settings(func_: Any) -> Any:
    for option in reversed(settings_options):
        func_ = option(func_)
    return func_


def _options(sync: str | None, writeback: str | None, deletion: str | None,
             phone_region: str | None) -> dict[str, str | None]:
    return {"sync": sync, "writeback": writeback, "deletion": deletion,
            "phone_region": phone_region}


@click.command("create")
@click.argument("name")
@click.option("--connector", "connector", required=True, help="Connector name, e.g. wonde.")
@click.option("-o", "--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Connector key; secrets as ${VAR} references.")
@with_settings
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def create_command(
    name: str, connector: str, option_pairs: tuple[str, ...], sites: tuple[str, ...],
    sync: str | None, writeback: str | None, deletion: str | None, phone_region: str | None,
    setting_pairs: tuple[str, ...], as_json: bool,
) -> None:
    """Create an integration with credentials (R1.1); it starts Ready.

    The connector checks the credentials against the MIS first; when they are refused
    nothing is saved.

    \b
    Example:
      connectkit integrations create 'Sample Academy' --connector wonde \\
        -o school_id=A1930499544 -o 'token=${WONDE_TOKEN}' --site 'Main Site'
    """
    app = get_app()
    config = parse_pairs(option_pairs, "--option", typed=False)
    settings = _settings(setting_pairs, sites, _options(sync, writeback, deletion, phone_region))
    with app.engine.begin() as conn:
        row, school = ig.create(conn, ig.Environment.from_app(app), name=name,
                                connector=connector, config=config, settings=settings,
                                actor=actor())
    data = _row_json(row) | {"school": school.model_dump()}
    if as_json:
        emit(data, True)
    else:
        click.echo(f"created integration {row.name!r} for {school.name} ({school.id}): ready")


@click.command("request-access")
@click.argument("name")
@click.option("--connector", "connector", required=True)
@click.option("-o", "--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Connector key (e.g. school_id); no token needed.")
@click.option("--contact", "contact_pairs", multiple=True, metavar="KEY=VALUE",
              help="School contact passed to the MIS, e.g. --contact email=office@x.")
@with_settings
@click.option("--json", "as_json", is_flag=True)
def request_access_command(
    name: str, connector: str, option_pairs: tuple[str, ...], contact_pairs: tuple[str, ...],
    sites: tuple[str, ...], sync: str | None, writeback: str | None, deletion: str | None,
    phone_region: str | None, setting_pairs: tuple[str, ...], as_json: bool,
) -> None:
    """Create an integration without credentials by requesting access (R1.2).

    The integration is Pending until the MIS grants access (see check-access).

    \b
    Example:
      connectkit integrations request-access 'New School' --connector wonde \\
        -o school_id=A1930499544 --contact email=office@school.example --site Main
    """
    app = get_app()
    config = parse_pairs(option_pairs, "--option", typed=False)
    contacts = [parse_pairs(contact_pairs, "--contact", typed=False)] if contact_pairs else []
    settings = _settings(setting_pairs, sites, _options(sync, writeback, deletion, phone_region))
    with app.engine.begin() as conn:
        row, status = ig.request_access(
            conn, ig.Environment.from_app(app), name=name, connector=connector, config=config,
            settings=settings, contacts=contacts, actor=actor(),
        )
    if as_json:
        emit(_row_json(row) | {"access": status.model_dump()}, True)
    else:
        click.echo(f"access requested for {row.name!r}: {status.state}; status {row.status}")


@click.command("check-access")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def check_access_command(name: str, as_json: bool) -> None:
    """Ask the MIS whether a Pending integration's access was granted (-> Ready).

    \b
    Example:
      connectkit integrations check-access 'New School'
    """
    app = get_app()
    with app.engine.begin() as conn:
        status = ig.check_access(conn, ig.Environment.from_app(app), name, actor=actor())
        row = ig.get(conn, name)
    if as_json:
        emit({"name": row.name, "status": str(row.status), "access": status.model_dump()}, True)
    else:
        click.echo(f"{row.name}: access {status.state}; status {row.status}")


def _apply_mapping(
    conn: Any, env: ig.Environment, name: str, path: Path, *, yes: bool, create_types: bool
) -> list[str]:
    mapping = _read_mapping(path)
    change = mapping_rules.plan_mapping_change(conn, env, name, mapping,
                                               create_missing=create_types)
    if change.reimport:
        require_confirmation(yes, f"{change.warning}. Save the new mapping?")
    mapping_rules.save_mapping(conn, env, name, mapping, actor=actor(), confirm_reimport=True,
                               create_missing=create_types)
    return list(change.check.warnings)


@click.command("edit")
@click.argument("name")
@click.option("-o", "--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Connector key to change (credentials are re-checked).")
@with_settings
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="New mapping (TOML or JSON) for students / staff.")
@click.option("--create-types", is_flag=True,
              help="Create user types and the students' area the mapping names if missing.")
@click.option("--yes", is_flag=True, help="Confirm re-importing everything (R2.4).")
@click.option("--json", "as_json", is_flag=True)
def edit_command(
    name: str, option_pairs: tuple[str, ...], sites: tuple[str, ...], sync: str | None,
    writeback: str | None, deletion: str | None, phone_region: str | None,
    setting_pairs: tuple[str, ...], mapping_file: Path | None, create_types: bool, yes: bool,
    as_json: bool,
) -> None:
    """Edit an integration's settings (R1.3), connector keys or mapping (R2).

    A mapping change is refused while errors or duplicates wait (R2.5); after an import
    it re-imports everything and needs confirmation (R2.4, --yes for scripts).

    \b
    Example:
      connectkit integrations edit 'Sample Academy' --deletion keep \\
        --setting photos.import=true --mapping mapping.toml --yes
    """
    app = get_app()
    env = ig.Environment.from_app(app)
    settings = _settings(setting_pairs, sites, _options(sync, writeback, deletion, phone_region))
    warnings: list[str] = []
    with app.engine.begin() as conn:
        if option_pairs:
            ig.update_connector_config(conn, env, name,
                                       parse_pairs(option_pairs, "--option", typed=False),
                                       actor=actor())
        if settings:
            ig.update_settings(conn, name, settings, actor=actor())
        if mapping_file is not None:
            warnings = _apply_mapping(conn, env, name, mapping_file, yes=yes,
                                      create_types=create_types)
        row = ig.get(conn, name)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        emit(_row_json(row) | {"warnings": warnings}, True)
    else:
        click.echo(f"integration {row.name!r} saved (mapping version {row.mapping_version})")


@click.command("apply")
@click.option("--yes", is_flag=True, help="Confirm mapping changes that re-import (R2.4).")
@click.option("--json", "as_json", is_flag=True)
def apply_command(yes: bool, as_json: bool) -> None:
    """Create or update every integration of the config file's [[integrations]].

    Each integration is applied in its own transaction; one that fails is reported and
    the others still apply (exit code of the first failure).

    \b
    Example:
      connectkit integrations apply --yes --json
    """
    app = get_app()
    env = ig.Environment.from_app(app)
    results: list[dict[str, Any]] = []
    failure: CommandError | None = None
    for spec in app.config.integrations:
        try:
            with app.engine.begin() as conn:
                done = ig.apply_one(conn, env, spec, actor=actor(), confirm_reimport=yes)
            results.append({"name": done.name, "action": done.action,
                            "changed": list(done.changed), "warnings": list(done.warnings)})
        except ConnectkitError as exc:
            error = translate(exc)
            failure = failure or error
            results.append({"name": spec.name, "action": "failed", "error": error.message})
    emit(results, as_json, columns=["name", "action", "changed", "warnings", "error"],
         title="Applied", empty="no [[integrations]] in the config")
    if failure is not None:
        raise click.exceptions.Exit(failure.exit_code)


@click.command("deactivate")
@click.argument("name")
@click.option("--reason", default="", help="Why (kept in the integration's log).")
def deactivate_command(name: str, reason: str) -> None:
    """Stop automatic runs (R4.6); manual runs still work.

    \b
    Example:
      connectkit integrations deactivate 'Sample Academy' --reason 'summer break'
    """
    with get_app().engine.begin() as conn:
        ig.deactivate(conn, name, actor=actor(), cause=reason)
    click.echo(f"integration {name!r} deactivated: automatic runs stopped")


@click.command("activate")
@click.argument("name")
@click.option("--reason", default="", help="Why (kept in the integration's log).")
def activate_command(name: str, reason: str) -> None:
    """Reactivate a deactivated integration: its schedule restarts (R4.6).

    \b
    Example:
      connectkit integrations activate 'Sample Academy'
    """
    with get_app().engine.begin() as conn:
        ig.activate(conn, name, actor=actor(), cause=reason)
    click.echo(f"integration {name!r} active: automatic runs restarted")


@click.command("remove")
@click.argument("name")
@click.option("--delete-users", is_flag=True, help="Delete its directory users too.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
def remove_command(name: str, delete_users: bool, yes: bool, as_json: bool) -> None:
    """Remove an integration (R7). Its directory users are kept but unlinked, unless
    --delete-users. Asks for confirmation (--yes for scripts).

    \b
    Example:
      connectkit integrations remove 'Sample Academy' --yes
    """
    app = get_app()
    with app.engine.begin() as conn:
        row = ig.get(conn, name)
        linked = conn.execute(
            select(func.count()).select_from(users).where(users.c.integration_id == row.id)
        ).scalar_one()
        fate = "DELETED" if delete_users else "kept but unlinked"
        require_confirmation(
            yes, f"Remove integration {row.name!r}? Its {linked} directory user(s) will be {fate}."
        )
        done = ig.remove(conn, row.id, delete_users=delete_users, actor=actor())
    data = {"name": done.name, "users_unlinked": done.users_unlinked,
            "users_deleted": done.users_deleted}
    if as_json:
        emit(data, True)
    else:
        click.echo(f"removed {done.name!r}: {done.users_unlinked} user(s) unlinked, "
                   f"{done.users_deleted} deleted")


COMMANDS = (create_command, request_access_command, check_access_command, edit_command,
            apply_command, deactivate_command, activate_command, remove_command)


def register(main: click.Group) -> None:
    group = main.commands["integrations"]
    if not isinstance(group, click.Group):
        raise TypeError("the integrations command is not a group")
    for command in COMMANDS:
        group.add_command(command)
