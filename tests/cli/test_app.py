"""App.from_config: where the config comes from, plugins, engine, contexts, redaction."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from connectkit.app import App, find_config, state_folder_name
from connectkit.errors import ConfigValidationError
from connectkit.secrets import RedactingFilter, Secret
from connectkit.testing.fake import FakeConnector


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNECTKIT_PLUGINS", "")
    monkeypatch.delenv("CONNECTKIT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_without_any_file(tmp_path: Path) -> None:
    assert find_config() is None
    with App.from_config() as app:
        assert app.config.source is None
        assert app.config.store.url == f"sqlite:///{tmp_path.resolve()}/var/connectkit.sqlite"
        with app.engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
        assert (tmp_path / "var").is_dir()


def test_env_then_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = tmp_path / "connectkit.toml"
    local.write_text('[store]\nurl = "sqlite:///local.sqlite"\n')
    assert find_config() == local
    other = tmp_path / "other.toml"
    other.write_text('[store]\nurl = "sqlite:///other.sqlite"\n')
    monkeypatch.setenv("CONNECTKIT_CONFIG", str(other))
    assert find_config() == other
    with App.from_config() as app:
        assert app.config.store.url.endswith("/other.sqlite")
    assert find_config(local) == local


def test_invalid_file_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[store]\nurl = "oracle://x"\n')
    with pytest.raises(ConfigValidationError, match=r"store\.url"):
        App.from_config(bad)


def test_extra_plugins_contexts_and_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TOKEN_FOR_APP", "app-fake-token-0042")
    cfg = tmp_path / "ck.toml"
    cfg.write_text(
        '[[integrations]]\nname = "St Mary\'s / Upper"\n'
        '[integrations.connector]\ntype = "fake"\nschool = "s1"\ntoken = "${FAKE_TOKEN_FOR_APP}"\n'
        '[integrations.settings]\nsites = ["Main"]\n'
    )
    fake = FakeConnector()
    with App.from_config(cfg, extra_plugins=[("fake", fake)]) as app:
        assert [p.name for p in app.load_report.loaded] == ["fake"]
        item = app.config.integration("St Mary's / Upper")
        ctx = app.connector_context(item.name, item.connector)
        assert ctx.state_dir == tmp_path / "var/state" / state_folder_name(item.name)
        assert ctx.state_dir.is_dir()
        assert "/" not in state_folder_name(item.name)
        assert isinstance(ctx.config["token"], Secret)
        school = app.hooks.connector("fake").check_credentials(ctx)
        assert school.name == "Fake Primary School"
    root = logging.getLogger()
    assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
