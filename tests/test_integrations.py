"""Integration lifecycle (R1.1-R1.4, R4.6, R7) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from connectkit import integrations as ig
from connectkit.errors import (
    ConfigValidationError,
    InvalidCredentialsError,
    SecretMissingError,
    StateError,
    UpstreamUnavailableError,
)
from connectkit.integrations import Environment, Status
from connectkit.models import AccessState
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.tables import (
    access_state,
    integration_events,
    integrations,
    sites,
    sync_runs,
    users,
)
from connectkit.testing.fake import BAD_TOKEN, FakeConnector

TOKEN = "tok-lifecycle-9f8e7d6c"
CONFIG = {"school": "S100", "token": "${FAKE_TOKEN}"}
SETTINGS = {"sites": ["Main Site"]}


@pytest.fixture
def fake() -> FakeConnector:
    return FakeConnector()


@pytest.fixture
def env(fake: FakeConnector, tmp_path: Path) -> Environment:
    pm = new_manager()
    register(pm, "fake", fake)
    return Environment(Hooks(pm), tmp_path / "state", environ={"FAKE_TOKEN": TOKEN})


def _create(engine: Engine, env: Environment, name: str = "Sample Academy") -> ig.IntegrationRow:
    with engine.begin() as conn:
        row, _school = ig.create(
            conn, env, name=name, connector="fake", config=CONFIG, settings=SETTINGS,
            actor="admin@test",
        )
    return row


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _events(engine: Engine, integration_id: int) -> list[tuple[str, str | None, str, str, str]]:
    with engine.connect() as conn:
        return [
            (e.kind, e.from_value, e.to_value, e.cause, e.actor)
            for e in ig.events(conn, integration_id)
        ]


def _add_user(engine: Engine, integration_id: int | None, mis_id: str | None) -> int:
    stamp = ig.now()
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(users)
                .values(
                    first_name="Ann", last_name="Lee", active=True, integration_id=integration_id,
                    mis_id=mis_id, person_id=f"p-{mis_id}", mis_code="C1", record_hash="h" * 64,
                    created_at=stamp, updated_at=stamp,
                )
                .returning(users.c.id)
            ).scalar_one()
        )


# --- R1.1 create with credentials ------------------------------------------------------


def test_create_checks_credentials_then_saves_ready(
    store_engine: Engine, env: Environment, fake: FakeConnector
) -> None:
    row = _create(store_engine, env)
    assert row.status is Status.READY
    assert row.connector == "fake"
    assert row.settings["sites"] == ["Main Site"]
    assert row.settings["deletion"] == "deactivate"  # default filled in
    assert [c.hook for c in fake.history] == ["connectkit_check_credentials"]
    events = _events(store_engine, row.id)
    assert events[0][:3] == ("status", None, "ready")
    assert "Fake Primary School" in events[0][3]
    assert events[0][4] == "admin@test"
    with store_engine.connect() as conn:
        assert conn.execute(select(sites.c.name)).scalars().all() == ["Main Site"]


def test_connector_config_never_holds_the_secret(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    assert row.connector_config == {"school": "S100", "token": "${FAKE_TOKEN}"}
    with store_engine.connect() as conn:
        stored = conn.execute(select(integrations)).mappings().one()
        every_event = conn.execute(select(integration_events)).mappings().all()
    dumped = json.dumps([dict(stored), [dict(e) for e in every_event]], default=str)
    assert TOKEN not in dumped
    assert "${FAKE_TOKEN}" in dumped


def test_clear_secret_is_refused_before_anything(
    store_engine: Engine, env: Environment, fake: FakeConnector
) -> None:
    with store_engine.begin() as conn, pytest.raises(ConfigValidationError) as caught:
        ig.create(conn, env, name="X", connector="fake",
                  config={"school": "S1", "token": "clear-token-value-123"},
                  settings=SETTINGS, actor="admin")
    assert "connector.token" in str(caught.value)
    assert "clear-token-value-123" not in str(caught.value)
    assert fake.history == []
    assert _count(store_engine, integrations) == 0


def test_bad_credentials_save_nothing(store_engine: Engine, env: Environment) -> None:
    bad = Environment(env.hooks, env.state_root, environ={"FAKE_TOKEN": BAD_TOKEN})
    with store_engine.begin() as conn, pytest.raises(InvalidCredentialsError) as caught:
        ig.create(conn, bad, name="X", connector="fake", config=CONFIG,
                  settings=SETTINGS, actor="admin")
    assert "refused the token" in str(caught.value)
    assert BAD_TOKEN not in str(caught.value)
    for table in (integrations, integration_events, sites):
        assert _count(store_engine, table) == 0


def test_missing_env_var_is_named(store_engine: Engine, env: Environment) -> None:
    bare = Environment(env.hooks, env.state_root, environ={})
    with store_engine.begin() as conn, pytest.raises(SecretMissingError, match="FAKE_TOKEN"):
        ig.create(conn, bare, name="X", connector="fake", config=CONFIG,
                  settings=SETTINGS, actor="admin")
    assert _count(store_engine, integrations) == 0


def test_plugin_schema_errors_all_at_once(store_engine: Engine, env: Environment) -> None:
    config = {"school": "", "token": "${FAKE_TOKEN}", "colour": "red"}
    with store_engine.begin() as conn, pytest.raises(ConfigValidationError) as caught:
        ig.create(conn, env, name="X", connector="fake", config=config,
                  settings=SETTINGS, actor="admin")
    issues = caught.value.issues
    assert len(issues) == 2
    assert any("connector.school" in issue for issue in issues)
    assert any("colour" in issue for issue in issues)


def test_duplicate_name_refused_before_the_mis_is_asked(
    store_engine: Engine, env: Environment, fake: FakeConnector
) -> None:
    _create(store_engine, env)
    with pytest.raises(StateError, match="already exists"):
        _create(store_engine, env)
    assert len(fake.calls("check_credentials")) == 1


# --- R1.3 settings -----------------------------------------------------------------------


def test_settings_report_every_problem_with_its_path() -> None:
    bad = {
        "sites": [],
        "deletion": "purge",
        "phone_region": "XX",
        "notify_to": ["not-an-email"],
        "schedule": {"every": "hourly", "at": "25:00"},
        "guard": {"max_deletion_percent": 150},
    }
    with pytest.raises(ConfigValidationError) as caught:
        ig.validate_settings(bad)
    text = "\n".join(caught.value.issues)
    for path in ("settings.sites", "settings.deletion", "settings.phone_region",
                 "settings.notify_to[0]", "settings.schedule.every", "settings.schedule.at",
                 "settings.guard.max_deletion_percent"):
        assert path in text
    assert len(caught.value.issues) == 7


def test_settings_unknown_key_refused() -> None:
    with pytest.raises(ConfigValidationError, match=r"settings\.photos\.colour: unknown key"):
        ig.validate_settings({"sites": ["A"], "photos": {"colour": 1}})


def test_update_settings_merges_nested_and_logs(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    with store_engine.begin() as conn:
        new = ig.update_settings(conn, row.id, {"photos": {"import": True}, "sites": ["B"]},
                                 actor="admin")
    assert new.settings["photos"] == {"import": True, "existing": "keep"}
    assert new.settings["sites"] == ["B"]
    last = _events(store_engine, row.id)[-1]
    assert last[0] == "settings"
    assert "photos" in last[3]
    assert "sites" in last[3]
    with store_engine.begin() as conn:
        ig.update_settings(conn, row.id, {"photos": {"import": True}}, actor="admin")
        with pytest.raises(ConfigValidationError, match="writeback"):
            ig.update_settings(conn, row.id, {"writeback": "never"}, actor="admin")
    assert len(_events(store_engine, row.id)) == 2  # unchanged edit wrote nothing


def test_bad_new_credentials_are_not_saved(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    with store_engine.begin() as conn, pytest.raises(ConfigValidationError):
        ig.update_connector_config(conn, env, row.id, {"token": "plain-secret-xyz"}, actor="a")
    bad = Environment(env.hooks, env.state_root, environ={"OTHER": BAD_TOKEN})
    with store_engine.begin() as conn, pytest.raises(InvalidCredentialsError):
        ig.update_connector_config(conn, bad, row.id, {"token": "${OTHER}"}, actor="a")
    with store_engine.connect() as conn:
        assert ig.get(conn, row.id).connector_config == CONFIG


# --- R1.2 request access -----------------------------------------------------------------


def test_request_access_pending_then_ready(
    store_engine: Engine, env: Environment, fake: FakeConnector
) -> None:
    with store_engine.begin() as conn:
        row, status = ig.request_access(
            conn, env, name="New School", connector="fake", config={"school": "S9"},
            settings=SETTINGS, contacts=[{"name": "Office", "email": "office@school.example"}],
            actor="admin",
        )
    assert status.state is AccessState.PENDING
    assert row.status is Status.PENDING
    assert fake.access_contacts == [{"name": "Office", "email": "office@school.example"}]
    with store_engine.begin() as conn:
        assert ig.check_access(conn, env, "New School", actor="scheduler").state == "pending"
        assert ig.get(conn, row.id).status is Status.PENDING
    fake.approve_access()
    with store_engine.begin() as conn:
        assert ig.check_access(conn, env, row.id, actor="scheduler").state == "approved"
        assert ig.get(conn, row.id).status is Status.READY
        assert conn.execute(select(access_state.c.state)).scalar_one() == "approved"
        with pytest.raises(StateError, match="not pending"):
            ig.check_access(conn, env, row.id, actor="admin")
    assert [e[:3] for e in _events(store_engine, row.id)] == [
        ("status", None, "pending"),
        ("status", "pending", "ready"),
    ]
    assert _events(store_engine, row.id)[1][4] == "scheduler"


# --- R1.4 status machine and health ------------------------------------------------------


def test_status_machine_full_path_logged(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    path = [Status.DRAFT, Status.ACTIVE, Status.DEACTIVATED, Status.ACTIVE]
    with store_engine.begin() as conn:
        for step in path:
            ig.transition(conn, row.id, step, cause=f"go {step}", actor="engine")
        ig.transition(conn, row.id, Status.ACTIVE, cause="again", actor="engine")  # no-op
    events = _events(store_engine, row.id)
    assert [(e[1], e[2]) for e in events] == [
        (None, "ready"), ("ready", "draft"), ("draft", "active"),
        ("active", "deactivated"), ("deactivated", "active"),
    ]
    assert events[-1][3:] == ("go active", "engine")


ILLEGAL: list[tuple[list[Status], Status]] = [
    ([], Status.ACTIVE),
    ([], Status.PENDING),
    ([Status.DRAFT], Status.DEACTIVATED),
    ([Status.DRAFT, Status.ACTIVE], Status.READY),
]


def test_illegal_transitions_refused(store_engine: Engine, env: Environment) -> None:
    for number, (start, target) in enumerate(ILLEGAL):
        row = _create(store_engine, env, name=f"School {number}")
        with store_engine.begin() as conn:
            for step in start:
                ig.transition(conn, row.id, step, cause="setup", actor="t")
        before = _events(store_engine, row.id)
        with store_engine.begin() as conn, pytest.raises(StateError) as caught:
            ig.transition(conn, row.id, target, cause="bad", actor="t")
        current = (start or [Status.READY])[-1]
        assert f"is {current}; it cannot become {target}" in str(caught.value)
        assert _events(store_engine, row.id) == before


def test_transition_needs_cause_and_actor(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    with store_engine.begin() as conn, pytest.raises(StateError, match="cause and an actor"):
        ig.transition(conn, row.id, Status.DRAFT, cause=" ", actor="t")


def test_health_changes_logged(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    with store_engine.begin() as conn:
        ig.set_health(conn, row.id, "on_hold", cause="guard: 80 deletions", actor="engine")
        ig.set_health(conn, row.id, "on_hold", cause="again", actor="engine")
        ig.set_health(conn, row.id, "ok", cause="approved", actor="admin")
        with pytest.raises(StateError, match="unknown health"):
            ig.set_health(conn, row.id, "sick", cause="x", actor="y")
        assert ig.get(conn, row.id).health is ig.Health.OK
    health = [e for e in _events(store_engine, row.id) if e[0] == "health"]
    assert [(e[1], e[2], e[3]) for e in health] == [
        ("ok", "on_hold", "guard: 80 deletions"), ("on_hold", "ok", "approved"),
    ]


def test_deactivate_and_activate(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    with store_engine.begin() as conn:
        with pytest.raises(StateError, match="cannot become deactivated"):
            ig.deactivate(conn, row.name, actor="admin")
        ig.transition(conn, row.id, Status.DRAFT, cause="first sync", actor="engine")
        ig.transition(conn, row.id, Status.ACTIVE, cause="confirmed", actor="admin")
        ig.deactivate(conn, row.name, actor="admin")
        assert ig.get(conn, row.id).status is Status.DEACTIVATED
        ig.activate(conn, str(row.id), actor="admin")
        assert ig.get(conn, row.id).status is Status.ACTIVE
    assert _events(store_engine, row.id)[-2][2:] == ("deactivated", "deactivated", "admin")


def test_get_by_name_id_and_digits(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    with store_engine.connect() as conn:
        assert ig.get(conn, row.name).id == row.id
        assert ig.get(conn, row.id).name == row.name
        assert ig.get(conn, str(row.id)).name == row.name
        with pytest.raises(StateError, match="no integration named or numbered 'Nope'"):
            ig.get(conn, "Nope")


# --- R7 remove ---------------------------------------------------------------------------


def test_remove_keeps_users_unlinked(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    other = _create(store_engine, env, name="Other School")
    mine = _add_user(store_engine, row.id, "m1")
    theirs = _add_user(store_engine, other.id, "m1")
    with store_engine.begin() as conn:
        result = ig.remove(conn, row.name, actor="admin")
    assert (result.users_unlinked, result.users_deleted) == (1, 0)
    with store_engine.connect() as conn:
        kept = conn.execute(select(users).where(users.c.id == mine)).mappings().one()
        untouched = conn.execute(select(users).where(users.c.id == theirs)).mappings().one()
        with pytest.raises(StateError):
            ig.get(conn, row.id)
    assert (kept["integration_id"], kept["mis_id"], kept["person_id"], kept["mis_code"]) == (
        None, None, None, None,
    )
    assert kept["first_name"] == "Ann"
    assert untouched["integration_id"] == other.id
    assert untouched["mis_id"] == "m1"


def test_remove_with_delete_users(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    _add_user(store_engine, row.id, "m1")
    _add_user(store_engine, row.id, "m2")
    unrelated = _add_user(store_engine, None, None)
    with store_engine.begin() as conn:
        result = ig.remove(conn, row.id, delete_users=True, actor="admin")
    assert (result.users_unlinked, result.users_deleted) == (0, 2)
    with store_engine.connect() as conn:
        assert conn.execute(select(users.c.id)).scalars().all() == [unrelated]


def test_remove_refused_during_a_live_run(store_engine: Engine, env: Environment) -> None:
    row = _create(store_engine, env)
    stamp = ig.now()
    with store_engine.begin() as conn:
        conn.execute(insert(sync_runs).values(
            integration_id=row.id, kind="first", status="running", phase="import",
            checkpoint={}, counts={}, lease_owner="w1",
            lease_expires_at=stamp + timedelta(minutes=2), started_at=stamp,
        ))
    with store_engine.begin() as conn, pytest.raises(StateError, match="in progress"):
        ig.remove(conn, row.id, actor="admin")
    assert _count(store_engine, integrations) == 1


def test_scheduled_check_of_every_pending_integration(
    store_engine: Engine, env: Environment, fake: FakeConnector
) -> None:
    _create(store_engine, env, name="Live School")
    for name in ("Pending A", "Pending B"):
        with store_engine.begin() as conn:
            ig.request_access(conn, env, name=name, connector="fake", config={"school": "S2"},
                              settings=SETTINGS, contacts=[], actor="admin")
    fake.approve_access()
    fake.fail("check_access", UpstreamUnavailableError("MIS down"), call=1)
    results = ig.check_all_pending(store_engine, env)
    assert sorted(results) == ["Pending A", "Pending B"]
    assert isinstance(results["Pending A"], UpstreamUnavailableError)
    assert results["Pending B"].state == "approved"  # type: ignore[union-attr]
    with store_engine.connect() as conn:
        assert ig.get(conn, "Pending A").status is Status.PENDING
        assert ig.get(conn, "Pending B").status is Status.READY
        assert ig.get(conn, "Live School").status is Status.READY


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(list(Status)), max_size=12))
def test_any_walk_obeys_the_machine_and_logs_every_move(
    store_engine: Engine, env: Environment, steps: list[Status]
) -> None:
    row = _create(store_engine, env, name=f"Walk {uuid.uuid4().hex[:8]}")
    current = Status.READY
    moves: list[tuple[str | None, str]] = [(None, "ready")]
    for target in steps:
        with store_engine.begin() as conn:
            try:
                ig.transition(conn, row.id, target, cause="walk", actor="prop")
            except StateError:
                assert target not in ig.ALLOWED[current]
                continue
        if target != current:
            assert target in ig.ALLOWED[current]
            moves.append((current, target))
            current = target
    with store_engine.connect() as conn:
        assert ig.get(conn, row.id).status is current
    assert [(e[1], e[2]) for e in _events(store_engine, row.id)] == moves
