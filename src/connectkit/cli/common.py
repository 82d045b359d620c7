"""What every CLI command shares: the App, output, confirmation and exit codes.

Exit codes (documented in ``docs/cli.md``):

====  ==========================================================================
0     OK
1     the operation failed (store error, unexpected failure)
2     usage or config error (bad option, invalid config file, unset ``${VAR}``)
3     needs confirmation (re-run with ``--yes``) or refused by an engine rule
4     plugin or connector error (plugin failed to load, MIS refused, not supported)
====  ==========================================================================

Commands raise :mod:`connectkit.errors` exceptions; :class:`ConnectkitGroup` turns them
into a one-line message on stderr and the matching exit code: never a traceback and
never a secret (set ``CONNECTKIT_DEBUG=1`` to see the traceback).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from connectkit.errors import (
    ConfigError,
    ConnectkitError,
    ConnectorError,
    PluginError,
    RuleError,
)
from connectkit.secrets import MASK, RedactingFilter, Secret, redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_PLUGIN = 4
DEBUG_ENV = "CONNECTKIT_DEBUG"


class CommandError(click.ClickException):
    """A clean failure: ``message`` on stderr and ``exit_code`` (default 1)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(redact(message))
        setattr(self, "exit_code", exit_code)  # noqa: B010 - a ClassVar on ClickException


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for a connectkit (or store) exception."""
    if isinstance(exc, ConfigError):
        return EXIT_USAGE
    if isinstance(exc, RuleError):
        return EXIT_REFUSED
    if isinstance(exc, PluginError | ConnectorError):
        return EXIT_PLUGIN
    return EXIT_FAILED


def _store_message(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    hint = ""
    if "no such table" in text or "does not exist" in text:
        hint = " (is the store migrated? run: connectkit db upgrade)"
    return f"store error: {text}{hint}"


def translate(exc: Exception) -> CommandError:
    """The :class:`CommandError` a command's exception becomes."""
    if isinstance(exc, ConnectkitError):
        return CommandError(str(exc), exit_code_for(exc))
    from sqlalchemy.exc import SQLAlchemyError  # imported late: keeps `--help` fast

    if isinstance(exc, SQLAlchemyError):
        return CommandError(_store_message(exc), EXIT_FAILED)
    return CommandError(f"unexpected error: {type(exc).__name__}: {exc}", EXIT_FAILED)


class ConnectkitGroup(click.Group):
    """A click group whose commands' errors become clean messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise translate(exc) from None


class CliState:
    """Per-invocation state on the click context: the config path and the lazy App."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._app: Any = None

    def app(self) -> Any:
        if self._app is None:
            from connectkit.app import App

            self._app = App.from_config(self.config_path)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def get_app(ctx: click.Context | None = None) -> Any:
    """The :class:`connectkit.app.App` for this invocation (built on first use)."""
    ctx = ctx or click.get_current_context()
    state = ctx.find_object(CliState)
    if state is None:  # a command invoked outside `main` (tests): defaults
        state = ctx.ensure_object(CliState)
        state.config_path = None
    return state.app()


def config_path(ctx: click.Context | None = None) -> Path | None:
    """The ``--config`` path given to ``connectkit`` (None when not given)."""
    ctx = ctx or click.get_current_context()
    state = ctx.find_object(CliState)
    return state.config_path if state else None


# --- output -------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    """``data`` as indented JSON (datetimes ISO, Secrets ``***``, Paths as strings)."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(data, default=_json_default, option=option).decode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return to_json(value)
    return str(value)


def render_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Rows rendered as a rich table (plain text, no colour codes when not a TTY)."""
    from rich.console import Console
    from rich.table import Table

    cols = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title, show_lines=False)
    for col in cols:
        table.add_column(col.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(col)) for col in cols))
    out = io.StringIO()
    Console(file=out, width=_table_width(), force_terminal=False, color_system=None).print(table)
    return out.getvalue().rstrip("\n")


def _table_width() -> int:
    """The terminal's width; when output goes to a pipe or file, wide enough not to wrap."""
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size((120, 24)).columns, 80)
    return 240


def emit(
    data: Any,
    as_json: bool,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    empty: str = "(none)",
) -> None:
    """Print ``data`` as JSON (``as_json``) or for humans.

    A list of dicts becomes a table (``columns`` picks and orders them), a dict a
    two-column key/value table, anything else its string. Secrets print as ``***``.
    """
    if as_json:
        click.echo(redact(to_json(data)))
        return
    if isinstance(data, Mapping):
        rows = [{"key": k, "value": v} for k, v in data.items()]
        click.echo(redact(render_table(rows, ["key", "value"], title)))
    elif isinstance(data, list | tuple):
        if not data:
            click.echo(f"{title}: {empty}" if title else empty)
        else:
            click.echo(redact(render_table(list(data), columns, title)))
    else:
        click.echo(redact(str(data)))


def require_confirmation(yes: bool, prompt: str) -> None:
    """Go on when ``yes`` or when an interactive user confirms ``prompt``; otherwise
    stop with exit code 3 (needs confirmation)."""
    if yes:
        return
    if sys.stdin.isatty() and click.confirm(prompt, default=False):
        return
    raise CommandError(f"{prompt} -- needs confirmation: re-run with --yes", EXIT_REFUSED)


# --- logging ------------------------------------------------------------------------


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (CliRunner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # a closed stream must not break the command
            self.handleError(record)


def setup_logging(level: str) -> None:
    """One stderr handler on the root logger, with secret redaction, at ``level``."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
