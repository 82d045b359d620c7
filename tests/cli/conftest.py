"""CLI test helpers: a config file on a fresh store, and a CliRunner invoking ``main``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connectkit.cli import main

Invoke = Callable[..., Result]


def config_text(store_url: str) -> str:
    return f'[store]\nurl = "{store_url}"\nstate_dir = "state"\n'


@pytest.fixture
def config_file(tmp_path: Path, sqlite_url: str) -> Path:
    path = tmp_path / "connectkit.toml"
    path.write_text(config_text(sqlite_url), "utf-8")
    return path


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``connectkit ARGS`` in-process; installed plugins are not loaded."""
    monkeypatch.setenv("CONNECTKIT_PLUGINS", "")
    monkeypatch.delenv("CONNECTKIT_CONFIG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run
