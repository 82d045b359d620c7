"""The ``connectkit`` command line.

``main`` is the ``connectkit`` group. Commands live in modules of this package whose
names end in ``_cmd``; each defines ``register(main: click.Group) -> None``. They are
imported and registered in name order (so ``integrations_cmd`` registers the
``integrations`` group before ``integrations_manage_cmd`` adds to it via
``main.commands["integrations"]``). A module that fails to import is reported on stderr
and the other commands still work. Exit codes: see :mod:`connectkit.cli.common`.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import click

from connectkit import __version__
from connectkit.cli.common import CliState, ConnectkitGroup, setup_logging
from connectkit.secrets import redact

COMMAND_SUFFIX = "_cmd"


@click.group(
    "connectkit", cls=ConnectkitGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CONNECTKIT_CONFIG",
    help="Config file (default: $CONNECTKIT_CONFIG, else ./connectkit.toml, else built-in).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much to log on stderr (secrets are always redacted).",
)
@click.version_option(__version__, prog_name="connectkit")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, log_level: str) -> None:
    """Keep a sign-in system's user directory in step with a school's MIS.

    \b
    Example:
      connectkit --config connectkit.toml plugins
    """
    setup_logging(log_level)
    state = CliState(config_path)
    ctx.obj = state
    ctx.call_on_close(state.close)


def command_modules() -> list[str]:
    """Names of this package's command modules, sorted."""
    return sorted(
        info.name for info in pkgutil.iter_modules(__path__) if info.name.endswith(COMMAND_SUFFIX)
    )


def _register_all(group: click.Group) -> None:
    for name in command_modules():
        try:
            module = importlib.import_module(f"{__name__}.{name}")
            module.register(group)
        except Exception as exc:
            click.echo(
                f"connectkit: command module {name} failed to load: "
                f"{redact(f'{type(exc).__name__}: {exc}')}",
                err=True,
            )


_register_all(main)

__all__ = ["main"]
