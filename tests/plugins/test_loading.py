"""Plugins load through entry points; broken ones are reported, the rest still load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from connectkit.plugins import Hooks, load_plugins

SHIPPED = {"wonde", "csv_mis"}
CONNECTKIT = Path(sys.executable).parent / "connectkit"


def _installed() -> set[str]:
    return {ep.name for ep in entry_points(group="connectkit.plugins")}


def test_both_shipped_plugins_are_installed_as_entry_points() -> None:
    assert _installed() >= SHIPPED


def test_shipped_connectors_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTKIT_PLUGINS", raising=False)
    pm, report = load_plugins()
    assert report.failed == {}
    loaded = {p.name: p for p in report.loaded}
    assert set(loaded) >= SHIPPED
    connectors = Hooks(pm).connectors()
    assert set(connectors) >= SHIPPED
    for name in SHIPPED:
        assert loaded[name].version
        assert "connectkit_connector_info" in loaded[name].hooks
        assert connectors[name].plugin_name == name


def _run(site: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTKIT_")}
    environ["PYTHONPATH"] = str(site)
    environ.update(env)
    return subprocess.run(
        [str(CONNECTKIT), *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_broken_third_party_reported_others_load(broken_site: Path, tmp_path: Path) -> None:
    done = _run(broken_site, tmp_path, "plugins", "--json", "--strict")
    assert done.returncode == 4, done.stderr
    assert "3 plugin(s) failed to load" in done.stderr
    listing = json.loads(done.stdout)
    loaded = {p["name"]: p for p in listing["plugins"]}
    failed = {f["name"]: f["reason"] for f in listing["failed"]}
    assert set(loaded) == SHIPPED | {"good_extra"}
    assert loaded["good_extra"]["version"] == "0.3"
    assert loaded["good_extra"]["hooks"] == ["connectkit_run_finished"]
    assert loaded["good_extra"]["connector"] is None
    for name in SHIPPED:
        assert loaded[name]["connector"]["name"] == name
        assert "connectkit_fetch_people" in loaded[name]["hooks"]
    assert set(failed) == {"broken_import", "unknown_hook", "wrong_args"}
    assert "ck_broken_import exploded on import" in failed["broken_import"]
    assert "connectkit_no_such_hook" in failed["unknown_hook"]
    assert "context" in failed["wrong_args"]
    assert listing["skipped"] == []


def test_allow_list_from_config_and_env(broken_site: Path, tmp_path: Path) -> None:
    config = tmp_path / "ck.toml"
    config.write_text('[plugins]\nenabled = ["csv_mis", "broken_import"]\n')

    done = _run(broken_site, tmp_path, "--config", str(config), "plugins", "--json")
    listing = json.loads(done.stdout)
    assert [p["name"] for p in listing["plugins"]] == ["csv_mis"]
    assert [f["name"] for f in listing["failed"]] == ["broken_import"]
    assert set(listing["skipped"]) == {"wonde", "unknown_hook", "wrong_args", "good_extra"}

    # the environment wins over the file
    done = _run(
        broken_site,
        tmp_path,
        "--config",
        str(config),
        "plugins",
        "--json",
        CONNECTKIT_PLUGINS="wonde",
    )
    listing = json.loads(done.stdout)
    assert [p["name"] for p in listing["plugins"]] == ["wonde"]
    assert listing["failed"] == []
