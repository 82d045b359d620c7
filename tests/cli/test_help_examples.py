"""Every `connectkit` command documents itself with an example in its --help."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from connectkit.cli import main


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


COMMANDS = list(_commands(main))


def test_the_cli_has_every_documented_command_family() -> None:
    families = {path[0] for path in COMMANDS}
    assert {"plugins", "config", "db", "directory", "integrations", "sync", "review", "logs"} <= (
        families
    )


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_shows_a_runnable_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    example = result.output.split("Example", 1)
    assert len(example) == 2, f"`connectkit {' '.join(path)} --help` has no example"
    assert f"connectkit {' '.join(path)}" in example[1]
