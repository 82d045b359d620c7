"""The CLI skeleton: command discovery, help with examples, exit codes, clean errors."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import connectkit.cli as cli
from connectkit.cli.common import (
    EXIT_FAILED,
    EXIT_PLUGIN,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandError,
    ConnectkitGroup,
    emit,
    exit_code_for,
    require_confirmation,
)
from connectkit.errors import (
    ConfigValidationError,
    InvalidCredentialsError,
    PluginLoadError,
    StateError,
    StoreError,
)
from connectkit.secrets import Secret

from .conftest import Invoke

MINE = [
    ("plugins",),
    ("config", "check"),
    ("db", "upgrade"),
    ("directory", "user-types", "list"),
    ("directory", "user-types", "add"),
    ("directory", "sites", "list"),
    ("directory", "sites", "add"),
    ("directory", "areas", "list"),
    ("directory", "areas", "add"),
    ("integrations", "list"),
    ("integrations", "show"),
]


def test_command_modules_are_sorted_and_registered() -> None:
    names = cli.command_modules()
    assert names == sorted(names)
    for module in ("config_cmd", "db_cmd", "directory_cmd", "integrations_cmd", "plugins_cmd"):
        assert module in names
    for command in ("plugins", "config", "db", "directory", "integrations"):
        assert command in cli.main.commands
    if "integrations_manage_cmd" in names:
        assert names.index("integrations_cmd") < names.index("integrations_manage_cmd")


@pytest.mark.parametrize("path", MINE, ids=" ".join)
def test_every_command_has_help_with_example(path: tuple[str, ...], invoke: Invoke) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"connectkit {' '.join(path)}" in result.output


def test_broken_command_module_is_reported_and_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "zz_broken_cmd.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "zz_fine_cmd.py").write_text(
        "import click\n"
        "def register(main):\n"
        "    main.add_command(click.Command('zz-fine', callback=lambda: click.echo('fine')))\n"
    )
    monkeypatch.setattr(cli, "__path__", [*cli.__path__, str(tmp_path)])
    group = click.Group("t")
    cli._register_all(group)
    for name in ("connectkit.cli.zz_broken_cmd", "connectkit.cli.zz_fine_cmd"):
        sys.modules.pop(name, None)
    err = capsys.readouterr().err
    assert "command module zz_broken_cmd failed to load: RuntimeError: boom at import" in err
    assert "zz-fine" in group.commands
    assert "plugins" in group.commands


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigValidationError(["a: b"]), EXIT_USAGE),
        (StateError("not now"), EXIT_REFUSED),
        (PluginLoadError("p", "bad"), EXIT_PLUGIN),
        (InvalidCredentialsError("401"), EXIT_PLUGIN),
        (StoreError("gone"), EXIT_FAILED),
        (ValueError("x"), EXIT_FAILED),
    ],
)
def test_exit_codes(exc: Exception, code: int) -> None:
    assert exit_code_for(exc) == code


def test_errors_become_clean_messages_without_secrets() -> None:
    token = Secret("cli-secret-token-123")

    @click.group(cls=ConnectkitGroup)
    def group() -> None:
        pass

    @group.command()
    def creds() -> None:
        raise InvalidCredentialsError(f"MIS refused token {token.reveal()}")

    @group.command()
    def crash() -> None:
        raise KeyError(f"oops {token.reveal()}")

    runner = CliRunner()
    result = runner.invoke(group, ["creds"])
    assert result.exit_code == EXIT_PLUGIN
    assert "Error: MIS refused token ***" in result.output
    crashed = runner.invoke(group, ["crash"])
    assert crashed.exit_code == EXIT_FAILED
    assert "unexpected error: KeyError" in crashed.output
    for output in (result.output, crashed.output):
        assert "cli-secret-token-123" not in output
        assert "Traceback" not in output


def test_emit_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"name": "A", "token": Secret("emit-secret-value-1"), "n": 3}]
    emit(rows, True)
    out = capsys.readouterr().out
    assert '"token": "***"' in out
    assert "emit-secret-value-1" not in out
    emit(rows, False, columns=["name", "n"], title="T")
    table = capsys.readouterr().out
    assert "name" in table
    assert "A" in table
    assert "3" in table
    assert "token" not in table
    emit([], False, title="Things")
    assert capsys.readouterr().out.strip() == "Things: (none)"


def test_require_confirmation_refuses_without_tty() -> None:
    require_confirmation(True, "Delete everything?")
    with pytest.raises(CommandError) as caught:
        require_confirmation(False, "Delete everything?")
    assert caught.value.exit_code == EXIT_REFUSED
    assert "--yes" in caught.value.message


def test_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.startswith("connectkit, version ")
