"""``connectkit config check FILE``: validate a config file, print every problem."""

from __future__ import annotations

from pathlib import Path

import click

from connectkit.cli.common import EXIT_USAGE, emit
from connectkit.errors import ConfigValidationError, SecretMissingError


@click.group("config")
def config_group() -> None:
    """Work with the deployment config file."""


@config_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--allow-missing-env",
    is_flag=True,
    help="Do not require the ${VAR}s it names to be set (check the file alone).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def check_command(file: Path, allow_missing_env: bool, as_json: bool) -> None:
    """Validate FILE against the core schema and each connector's schema.

    Prints every problem with its key path and exits 2 when there is any.

    \b
    Example:
      connectkit config check examples/connectkit.example.toml
    """
    from connectkit.config import build_config, enabled_plugins, read_document
    from connectkit.plugins import Hooks, load_plugins

    doc = read_document(file)
    pm, report = load_plugins(enabled_plugins(doc))
    try:
        config = build_config(doc, Hooks(pm), source=file, allow_missing_env=allow_missing_env)
    except ConfigValidationError as exc:
        _fail(exc.issues, as_json)
    except SecretMissingError as exc:
        _fail(str(exc).removeprefix(f"{file}: ").split("; "), as_json)
    names = [i.name for i in config.integrations]
    result = {"ok": True, "file": str(file), "integrations": names, "problems": []}
    if as_json:
        emit(result, True)
    else:
        click.echo(f"{file}: ok ({len(names)} integration(s): {', '.join(names) or 'none'})")
    for name, reason in report.failed.items():
        click.echo(f"warning: plugin {name} failed to load: {reason}", err=True)


def _fail(issues: list[str], as_json: bool) -> None:
    if as_json:
        emit({"ok": False, "problems": issues}, True)
    else:
        click.echo(f"{len(issues)} problem(s):", err=True)
        for issue in issues:
            click.echo(f"  {issue}", err=True)
    raise click.exceptions.Exit(EXIT_USAGE)


def register(main: click.Group) -> None:
    main.add_command(config_group)
