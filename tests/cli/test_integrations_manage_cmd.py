"""``connectkit integrations create | apply | edit | request-access | check-access |
deactivate | activate | remove`` against a real store, with the fake connector plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from connectkit import integrations as ig
from connectkit.app import App
from connectkit.models import GroupKind, MISGroup
from connectkit.store.engine import make_engine
from connectkit.store.tables import integrations, users
from connectkit.testing.fake import BAD_TOKEN, FakeConnector

from .conftest import Invoke, config_text

TOKEN = "tok-cli-31415926"
INTEGRATION = """
[[integrations]]
name = "Sample Academy"
[integrations.connector]
type = "fake"
school = "S1"
token = "${FAKE_TOKEN}"
[integrations.settings]
sites = ["Main Site"]
deletion = "keep"
[integrations.mapping.students.fields]
first_name = "first_name"
last_name = "last_name"
[integrations.mapping.students.groups]
"Y7" = "Student"
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeConnector:
    """The fake connector, registered in every App the CLI builds in this test."""
    connector = FakeConnector()
    connector.add_groups([MISGroup(id="Y7", name="Year 7", kind=GroupKind.YEAR)])
    original = App.from_config.__func__  # type: ignore[attr-defined]

    def with_fake(cls: type[App], /, path: Path | None = None, **kwargs: Any) -> App:
        return original(cls, path, extra_plugins=[("fake", connector)])  # type: ignore[no-any-return]

    monkeypatch.setattr(App, "from_config", classmethod(with_fake))
    monkeypatch.setenv("FAKE_TOKEN", TOKEN)
    return connector


@pytest.fixture
def base(tmp_path: Path, store_url: str, invoke: Invoke, fake: FakeConnector) -> list[str]:
    cfg = tmp_path / "ck.toml"
    cfg.write_text(config_text(store_url), "utf-8")
    args = ["--config", str(cfg)]
    assert invoke(*args, "db", "upgrade").exit_code == 0
    return args


def _stored(store_url: str) -> list[dict[str, Any]]:
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(integrations)).mappings()]
    finally:
        engine.dispose()


CREATE = [
    "integrations",
    "create",
    "Sample Academy",
    "--connector",
    "fake",
    "-o",
    "school=S1",
    "--site",
    "Main Site",
]


def test_create_refuses_clear_and_bad_secrets_then_creates(
    base: list[str], invoke: Invoke, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear = invoke(*base, *CREATE, "-o", "token=plain-secret-123")
    assert clear.exit_code == 2
    assert "connector.token: a secret must be given as an ${ENV_VAR} reference" in clear.output
    assert "plain-secret-123" not in clear.output
    monkeypatch.setenv("BAD", BAD_TOKEN)
    bad = invoke(*base, *CREATE, "-o", "token=${BAD}")
    assert bad.exit_code == 4
    assert "refused the token" in bad.output
    assert _stored(store_url) == []

    made = invoke(*base, *CREATE, "-o", "token=${FAKE_TOKEN}", "--json")
    assert made.exit_code == 0, made.output
    data = json.loads(made.output)
    assert data["status"] == "ready"
    assert data["school"]["name"] == "Fake Primary School"
    (row,) = _stored(store_url)
    assert row["connector_config"] == {"school": "S1", "token": "${FAKE_TOKEN}"}
    assert TOKEN not in json.dumps(row, default=str)


def test_edit_settings_mapping_and_status(
    base: list[str], invoke: Invoke, tmp_path: Path, store_url: str
) -> None:
    assert invoke(*base, *CREATE, "-o", "token=${FAKE_TOKEN}").exit_code == 0
    edited = invoke(
        *base,
        "integrations",
        "edit",
        "Sample Academy",
        "--deletion",
        "keep",
        "--setting",
        "photos.import=true",
        "--json",
    )
    assert edited.exit_code == 0, edited.output
    settings = json.loads(edited.output)["settings"]
    assert (settings["deletion"], settings["photos"]) == (
        "keep",
        {"import": True, "existing": "keep"},
    )
    wrong = invoke(
        *base,
        "integrations",
        "edit",
        "Sample Academy",
        "--setting",
        "schedule.every=hourly",
        "--setting",
        "sites=[]",
    )
    assert wrong.exit_code == 2
    assert "settings.schedule.every: 'hourly'" in wrong.output
    assert "settings.sites: value should be non-empty" in wrong.output

    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[students.fields]\nfirst_name = "first_name"\npreferred_first_name = "first_name"\n'
        '[students.groups]\n"Y7" = "Student"\n',
        "utf-8",
    )
    refused = invoke(*base, "integrations", "edit", "Sample Academy", "--mapping", str(mapping))
    assert refused.exit_code == 3
    assert "'first_name' and 'preferred_first_name' both map onto directory field 'first_name'" in (
        refused.output
    )
    mapping.write_text(
        '[students.fields]\nfirst_name = "first_name"\nlast_name = "last_name"'
        '\n[students.groups]\n"Y7" = "Student"\n',
        "utf-8",
    )
    no_type = invoke(*base, "integrations", "edit", "Sample Academy", "--mapping", str(mapping))
    assert no_type.exit_code == 3
    assert "user type 'Student' does not exist" in no_type.output
    saved = invoke(
        *base,
        "integrations",
        "edit",
        "Sample Academy",
        "--mapping",
        str(mapping),
        "--create-types",
        "--json",
    )
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.output)["mapping_version"] == 2

    early = invoke(*base, "integrations", "deactivate", "Sample Academy")
    assert early.exit_code == 3
    assert "is ready; it cannot become deactivated" in early.output
    engine = make_engine(store_url)
    with engine.begin() as conn:
        ig.transition(conn, 1, ig.Status.DRAFT, cause="first sync", actor="engine")
        ig.transition(conn, 1, ig.Status.ACTIVE, cause="confirmed", actor="admin")
    engine.dispose()
    off = invoke(*base, "integrations", "deactivate", "Sample Academy", "--reason", "summer")
    assert off.exit_code == 0
    assert _stored(store_url)[0]["status"] == "deactivated"
    assert invoke(*base, "integrations", "activate", "Sample Academy").exit_code == 0
    assert _stored(store_url)[0]["status"] == "active"


def test_remove_asks_then_unlinks(base: list[str], invoke: Invoke, store_url: str) -> None:
    assert invoke(*base, *CREATE, "-o", "token=${FAKE_TOKEN}").exit_code == 0
    engine = make_engine(store_url)
    stamp = ig.now()
    with engine.begin() as conn:
        conn.execute(
            insert(users).values(
                first_name="A",
                last_name="B",
                active=True,
                integration_id=1,
                mis_id="m1",
                created_at=stamp,
                updated_at=stamp,
            )
        )
    asked = invoke(*base, "integrations", "remove", "Sample Academy")
    assert asked.exit_code == 3
    assert "1 directory user(s) will be kept but unlinked" in asked.output
    assert len(_stored(store_url)) == 1
    gone = invoke(*base, "integrations", "remove", "Sample Academy", "--yes", "--json")
    assert gone.exit_code == 0, gone.output
    assert json.loads(gone.output) == {
        "name": "Sample Academy",
        "users_unlinked": 1,
        "users_deleted": 0,
    }
    with engine.connect() as conn:
        assert conn.execute(select(users.c.integration_id, users.c.mis_id)).one() == (None, None)
    engine.dispose()
    assert _stored(store_url) == []


def test_request_and_check_access(
    base: list[str], invoke: Invoke, fake: FakeConnector, store_url: str
) -> None:
    asked = invoke(
        *base,
        "integrations",
        "request-access",
        "New School",
        "--connector",
        "fake",
        "-o",
        "school=S9",
        "--site",
        "Main",
        "--contact",
        "email=office@s.example",
        "--json",
    )
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["status"] == "pending"
    assert fake.access_contacts == [{"email": "office@s.example"}]
    waiting = invoke(*base, "integrations", "check-access", "New School")
    assert "access pending; status pending" in waiting.output
    fake.approve_access()
    ready = invoke(*base, "integrations", "check-access", "New School", "--json")
    assert json.loads(ready.output)["status"] == "ready"
    assert _stored(store_url)[0]["status"] == "ready"


def test_apply_creates_then_is_unchanged(
    tmp_path: Path, store_url: str, invoke: Invoke, fake: FakeConnector
) -> None:
    cfg = tmp_path / "deploy.toml"
    cfg.write_text(config_text(store_url) + INTEGRATION, "utf-8")
    base = ["--config", str(cfg)]
    assert invoke(*base, "db", "upgrade").exit_code == 0
    first = invoke(*base, "integrations", "apply", "--json")
    assert first.exit_code == 0, first.output
    assert [(r["name"], r["action"]) for r in json.loads(first.output)] == [
        ("Sample Academy", "created"),
    ]
    (row,) = _stored(store_url)
    assert row["settings"]["deletion"] == "keep"
    assert row["mapping"]["students"]["groups"] == {"Y7": "Student"}
    assert row["connector_config"]["token"] == "${FAKE_TOKEN}"
    again = invoke(*base, "integrations", "apply", "--json")
    assert [r["action"] for r in json.loads(again.output)] == ["unchanged"]
    cfg.write_text(config_text(store_url) + INTEGRATION.replace('"keep"', '"delete"'), "utf-8")
    changed = invoke(*base, "integrations", "apply", "--json")
    assert [(r["action"], r["changed"]) for r in json.loads(changed.output)] == [
        ("updated", ["settings"]),
    ]


LIFECYCLE_COMMANDS = [
    ("integrations", name)
    for name in ("create", "request-access", "check-access", "edit", "apply", "deactivate",
                 "activate", "remove")
] + [
    ("review", name)
    for name in ("errors", "duplicates", "ready", "skipped", "edit", "merge", "skip", "unskip")
]


@pytest.mark.parametrize("path", LIFECYCLE_COMMANDS, ids=" ".join)
def test_every_lifecycle_command_has_help_with_example(
    path: tuple[str, ...], invoke: Invoke
) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"connectkit {' '.join(path)}" in result.output
