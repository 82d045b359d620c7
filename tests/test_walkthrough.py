"""docs/walkthrough.md runs as written: every command in its block exits 0."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectkit.cli import main

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "walkthrough.md"


def _commands() -> list[list[str]]:
    text = DOC.read_text("utf-8")
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```", text, re.S)
    assert block, "docs/walkthrough.md lost its walkthrough block"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("connectkit ")]


def test_walkthrough_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "examples" / "sample-school", tmp_path / "examples" / "sample-school")
    monkeypatch.chdir(tmp_path)
    env = {"CONNECTKIT_CONFIG": "examples/sample-school/connectkit.toml", "COLUMNS": "200"}
    runner = CliRunner()
    commands = _commands()
    assert len(commands) > 20
    for argv in commands:
        result = runner.invoke(main, argv[1:], env=env)
        assert result.exit_code == 0, (argv, result.output)

    shown = runner.invoke(main, ["integrations", "show", "Sample Academy", "--json"], env=env)
    detail = json.loads(shown.output)
    assert detail["status"] == "active"
    assert (detail["errors"], detail["duplicates"], detail["skipped"]) == (0, 0, 1)
    assert detail["users_synced"] == 1229  # 1,230 people imported, one skipped
