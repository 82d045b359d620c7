"""Loading a config file: validation with exact paths, defaults, env, typed results."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectkit.config import load_config, validate_document
from connectkit.config.loader import build_config, default_config
from connectkit.errors import ConfigError, ConfigValidationError, SecretMissingError
from connectkit.plugins import Hooks
from connectkit.secrets import Secret

from .conftest import GOOD

TOKEN = "tok-ABCDEFGH-123456"
SMTP = "smtp-pass-987654"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_TOKEN", TOKEN)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connectkit.toml"
    path.write_text(text, "utf-8")
    return path


def test_good_file_gives_typed_config(tmp_path: Path, acme_hooks: Hooks, env: None) -> None:
    config = load_config(write(tmp_path, GOOD), acme_hooks)
    assert config.store.url == f"sqlite:///{tmp_path / 'data/ck.sqlite'}"
    assert config.store.state_dir == tmp_path / "state"
    email = config.notifications.email
    assert email is not None
    assert email.port == 2525
    assert email.starttls is False
    assert isinstance(email.password, Secret)
    assert email.password.reveal() == SMTP
    (item,) = config.integrations
    assert item.name == "Sample Academy"
    assert item.connector_type == "acme"
    assert item.connector["school_id"] == "A1930499544"
    assert item.connector["token"].reveal() == TOKEN
    assert item.connector["per_page"] == 100  # connector schema default filled in
    assert item.connector_refs == {"school_id": "A1930499544", "token": "${ACME_TOKEN}"}
    assert item.settings["deletion"] == "deactivate"
    assert item.settings["schedule"] == {
        "every": "daily",
        "at": "02:00",
        "weekday": "mon",
        "day": 1,
    }
    assert item.settings["guard"]["max_deletions"] == 50
    assert item.mapping["students"]["fields"]["emails.primary"] == "email"
    assert config.integration("Sample Academy") is item
    with pytest.raises(ConfigError, match="configured: 'Sample Academy'"):
        config.integration("Nope")


def test_three_mistakes_three_errors_with_paths(
    tmp_path: Path, acme_hooks: Hooks, env: None
) -> None:
    text = (
        GOOD.replace('school_id = "A1930499544"', 'school_id = "X1"')
        .replace('sites = ["Main Site"]', "sites = []")
        .replace("port = 2525", 'port = "smtp"')
    )
    with pytest.raises(ConfigValidationError) as caught:
        load_config(write(tmp_path, text), acme_hooks)
    assert sorted(caught.value.issues) == sorted(
        [
            "integrations[0].connector.school_id: 'X1' does not match '^A[0-9]+$'",
            "integrations[0].settings.sites: value should be non-empty",
            "notifications.email.port: 'smtp' is not of type 'integer'",
        ]
    )
    assert "3 problem(s)" in str(caught.value)


def test_required_unknown_and_enum_paths(acme_hooks: Hooks) -> None:
    doc = {
        "stor": {},
        "integrations": [
            {
                "name": "X",
                "connector": {"type": "acme", "school_id": "A1", "token": "x" * 9, "extra": 1},
                "settings": {"sites": ["S"], "deletion": "purge"},
                "mapping": {"staff": {"area": "Hall", "fields": {"bad path!": "email"}}},
            },
            {"name": "Y", "settings": {"sites": ["S"]}},
        ],
    }
    issues = validate_document(doc, acme_hooks)
    assert "stor: unknown key" in issues
    assert "integrations[0].connector.extra: unknown key" in issues
    assert any(
        i.startswith("integrations[0].settings.deletion: 'purge' is not one of") for i in issues
    )
    assert "integrations[0].mapping.staff.area: unknown key" in issues
    assert any(
        i.startswith('integrations[0].mapping.staff.fields["bad path!"]') for i in issues
    ) or any("integrations[0].mapping.staff.fields" in i and "bad path!" in i for i in issues)
    assert "integrations[1].connector: is required" in issues


def test_unknown_connector_is_reported_at_type(acme_hooks: Hooks) -> None:
    doc = {
        "integrations": [{"name": "X", "connector": {"type": "nope"}, "settings": {"sites": ["S"]}}]
    }
    (issue,) = validate_document(doc, acme_hooks)
    assert issue.startswith("integrations[0].connector.type: no connector named 'nope'")
    assert "installed: acme" in issue


def test_semantic_rules(acme_hooks: Hooks) -> None:
    item = {
        "name": "X",
        "connector": {"type": "acme", "school_id": "A1", "token": "x" * 9},
        "settings": {"sites": ["S"], "notify": ["sms"]},
        "mapping": {"students": {"fields": {"emails.primary": "email", "emails.work": "email"}}},
    }
    issues = validate_document({"integrations": [item, dict(item)]}, acme_hooks)
    assert "integrations[1].name: 'X' is already used by integrations[0]" in issues
    assert (
        "integrations[0].settings.notify[0]: channel 'sms' is not configured under"
        " [notifications.sms]" in issues
    )
    assert "integrations[0].settings.notify_to: needs a recipient" in issues
    assert any(
        i.startswith("integrations[0].mapping.students.fields[\"emails.work\"]: 'email' is already")
        for i in issues
    )


def test_missing_env_names_the_key_path(
    tmp_path: Path, acme_hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP)
    with pytest.raises(SecretMissingError) as caught:
        load_config(write(tmp_path, GOOD), acme_hooks)
    assert "integrations[0].connector.token: environment variable ACME_TOKEN is not set" in str(
        caught.value
    )


def test_missing_env_joins_other_errors(
    tmp_path: Path, acme_hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    text = GOOD.replace('school_id = "A1930499544"', 'school_id = "B2"')
    with pytest.raises(ConfigValidationError) as caught:
        load_config(write(tmp_path, text), acme_hooks)
    assert caught.value.issues == [
        "notifications.email.password: environment variable SMTP_PASSWORD is not set",
        "integrations[0].connector.token: environment variable ACME_TOKEN is not set",
        "integrations[0].connector.school_id: 'B2' does not match '^A[0-9]+$'",
    ]


def test_allow_missing_env_checks_the_rest(acme_hooks: Hooks) -> None:
    from connectkit.config import read_document  # noqa: F401 - public API exists

    doc = {
        "integrations": [
            {
                "name": "X",
                "connector": {"type": "acme", "school_id": "A1", "token": "${UNSET_TOKEN_VAR}"},
                "settings": {"sites": ["S"]},
            }
        ]
    }
    config = build_config(doc, acme_hooks, env={}, allow_missing_env=True)
    assert config.integrations[0].connector_type == "acme"
    with pytest.raises(SecretMissingError, match="UNSET_TOKEN_VAR"):
        build_config(doc, acme_hooks, env={})


def test_clear_text_secret_is_refused(acme_hooks: Hooks) -> None:
    doc = {
        "integrations": [
            {
                "name": "X",
                "connector": {"type": "acme", "school_id": "A1", "token": "clear-token-value"},
                "settings": {"sites": ["S"]},
            }
        ]
    }
    with pytest.raises(ConfigValidationError) as caught:
        build_config(doc, acme_hooks, env={})
    (issue,) = caught.value.issues
    assert issue.startswith(
        "integrations[0].connector.token: a secret must come from the environment"
    )
    assert "clear-token-value" not in str(caught.value)


def test_env_substitution_inside_strings_and_escape(acme_hooks: Hooks) -> None:
    doc = {
        "store": {"url": "postgresql://ck:${PGPW}@db.example:5432/ck", "state_dir": "$${LITERAL}"}
    }
    config = build_config(doc, acme_hooks, env={"PGPW": "pg-secret-pw"})
    assert config.store.url == "postgresql://ck:pg-secret-pw@db.example:5432/ck"
    assert config.store.state_dir.name == "${LITERAL}"
    assert "pg-secret-pw" not in repr(config)


def test_bad_toml_and_missing_file(tmp_path: Path, acme_hooks: Hooks) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml", acme_hooks)
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[store\nurl="), acme_hooks)


def test_defaults(tmp_path: Path) -> None:
    config = default_config(tmp_path)
    assert config.store.url == f"sqlite:///{tmp_path.resolve() / 'var/connectkit.sqlite'}"
    assert config.store.state_dir == tmp_path.resolve() / "var/state"
    assert config.integrations == ()
    assert config.plugins_enabled is None


def test_invalid_connector_schema_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectkit.hookspecs import hookimpl
    from connectkit.models import Capabilities, ConnectorInfo
    from connectkit.plugins import load_plugins

    class Broken:
        @hookimpl
        def connectkit_connector_info(self) -> ConnectorInfo:
            return ConnectorInfo(name="broken", title="B", version="0", capabilities=Capabilities())

        @hookimpl
        def connectkit_config_schema(self) -> dict[str, object]:
            return {"type": "objekt"}

    monkeypatch.setenv("CONNECTKIT_PLUGINS", "")
    pm, _ = load_plugins(extra=[("broken", Broken())])
    doc = {
        "integrations": [
            {"name": "X", "connector": {"type": "broken"}, "settings": {"sites": ["S"]}}
        ]
    }
    (issue,) = validate_document(doc, Hooks(pm))
    assert issue.startswith(
        "integrations[0].connector: connector 'broken' ships an invalid config schema"
    )


def test_sync_import_worker_choice(tmp_path: Path, acme_hooks: Hooks) -> None:
    import multiprocessing
    import os

    can = (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()
    assert default_config(tmp_path).sync.import_worker is can  # "auto"
    for text, expected in (("true", True), ("false", False), ('"auto"', can)):
        config = load_config(write(tmp_path, f"[sync]\nimport_worker = {text}\n"), acme_hooks)
        assert config.sync.import_worker is expected
    with pytest.raises(ConfigValidationError, match=r"sync\.import_worker"):
        load_config(write(tmp_path, '[sync]\nimport_worker = "yes"\n'), acme_hooks)
