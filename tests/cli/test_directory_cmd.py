"""``connectkit db upgrade`` and ``connectkit directory ...`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Invoke, config_text


def test_directory_flow(tmp_path: Path, store_url: str, invoke: Invoke) -> None:
    cfg = tmp_path / "ck.toml"
    cfg.write_text(config_text(store_url), "utf-8")
    base = ["--config", str(cfg)]

    first = invoke(*base, "db", "upgrade", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["from"] is None
    assert json.loads(first.output)["to"] == "0001"
    again = invoke(*base, "db", "upgrade")
    assert again.exit_code == 0
    assert "is up to date (revision 0001)" in again.output

    assert invoke(*base, "directory", "user-types", "add", "Student").exit_code == 0
    assert invoke(*base, "directory", "user-types", "add", "  Staff ").exit_code == 0
    dup = invoke(*base, "directory", "user-types", "add", "Student")
    assert dup.exit_code == 3
    assert "user type 'Student' already exists" in dup.output
    listed = json.loads(invoke(*base, "directory", "user-types", "list", "--json").output)
    assert [t["name"] for t in listed] == ["Staff", "Student"]

    assert invoke(*base, "directory", "sites", "add", "Main Site").exit_code == 0
    assert invoke(*base, "directory", "sites", "add", "Annex").exit_code == 0
    added = invoke(
        *base, "directory", "areas", "add", "Student Entrance", "--site", "Main Site", "--json"
    )
    assert added.exit_code == 0
    assert json.loads(added.output)["site"] == "Main Site"
    assert invoke(*base, "directory", "areas", "add", "Hall", "--site", "Annex").exit_code == 0
    unknown = invoke(*base, "directory", "areas", "add", "Gym", "--site", "Nowhere")
    assert unknown.exit_code == 3
    assert "no site named 'Nowhere' (sites: 'Annex', 'Main Site')" in unknown.output
    missing_site = invoke(*base, "directory", "areas", "add", "Gym")
    assert missing_site.exit_code == 2
    assert "--site" in missing_site.output

    only_main = json.loads(
        invoke(*base, "directory", "areas", "list", "--site", "Main Site", "--json").output
    )
    assert [(a["name"], a["site"]) for a in only_main] == [("Student Entrance", "Main Site")]
    table = invoke(*base, "directory", "areas", "list")
    assert table.exit_code == 0
    assert "Student Entrance" in table.output
    assert "Hall" in table.output


def test_empty_name_is_refused(config_file: Path, invoke: Invoke) -> None:
    invoke("--config", str(config_file), "db", "upgrade")
    result = invoke("--config", str(config_file), "directory", "sites", "add", "   ")
    assert result.exit_code == 3
    assert "site name must not be empty" in result.output


def test_unmigrated_store_gives_hint_not_traceback(config_file: Path, invoke: Invoke) -> None:
    result = invoke("--config", str(config_file), "directory", "sites", "list")
    assert result.exit_code == 1
    assert "run: connectkit db upgrade" in result.output
    assert "Traceback" not in result.output
