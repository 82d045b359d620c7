"""R2.4/R2.5 with the real engine: a mapping change during the first sync re-imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectkit import integrations as ig
from connectkit.errors import StateError
from connectkit.integrations import Environment, Status
from connectkit.models import GroupKind, GroupMembership, MISGroup, MISPerson, Role
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.tables import sync_runs, users
from connectkit.sync import mapping_rules, review, service
from connectkit.sync.runtime import Runtime
from connectkit.testing.fake import FakeConnector


def _mapping(*groups: str) -> dict[str, Any]:
    return {"students": {
        "fields": {"first_name": "first_name", "last_name": "last_name",
                   "emails.primary": "email"},
        "groups": dict.fromkeys(groups, "Student"),
    }}


def _person(mis_id: str, group: str, email: str) -> MISPerson:
    return MISPerson(
        mis_id=mis_id, role=Role.STUDENT, first_name=mis_id.upper(), last_name="Pupil",
        emails={"primary": email}, groups=(GroupMembership(group_id=group, kind=GroupKind.YEAR),),
    )


@pytest.fixture
def rt(store_engine: Engine, tmp_path: Path) -> Runtime:
    fake = FakeConnector()
    fake.add_groups([MISGroup(id=g, name=g, kind=GroupKind.YEAR) for g in ("Y7", "Y8")])
    fake.add_people(Role.STUDENT, [
        _person("a", "Y7", "a@school.example"),
        _person("b", "Y8", "b@school.example"),
        _person("c", "Y7", "c-at-school"),
    ])
    pm = new_manager()
    register(pm, "fake", fake)
    env = Environment(Hooks(pm), tmp_path / "state", environ={"FAKE_TOKEN": "tok-remap-1618"})
    return Runtime(engine=store_engine, env=env, actor="office")


def test_mapping_change_during_first_sync_reimports(store_engine: Engine, rt: Runtime) -> None:
    with store_engine.begin() as conn:
        ig.create(conn, rt.env, name="School", connector="fake",
                  config={"school": "S1", "token": "${FAKE_TOKEN}"},
                  settings={"sites": ["Main"]}, actor="office")
        mapping_rules.save_mapping(conn, rt.env, "School", _mapping("Y7"), actor="office",
                                   create_missing=True)
    first = service.start_run(rt, "School")
    assert (first.errors, first.duplicates, first.ready) == (1, 0, 1)  # Y8 not imported

    wider = _mapping("Y7", "Y8")
    with store_engine.begin() as conn, pytest.raises(StateError, match="1 error"):
        mapping_rules.save_mapping(conn, rt.env, "School", wider, actor="office",
                                   confirm_reimport=True)
    with store_engine.begin() as conn:
        review.skip(conn, "School", "c", actor="office")
        with pytest.raises(StateError, match="imported again"):
            mapping_rules.save_mapping(conn, rt.env, "School", wider, actor="office")
    with store_engine.begin() as conn:
        mapping_rules.save_mapping(conn, rt.env, "School", wider, actor="office",
                                   confirm_reimport=True)
        old = conn.execute(select(sync_runs.c.status).where(sync_runs.c.id == first.run_id))
        assert old.scalar_one() == "abandoned"
        assert ig.get(conn, "School").status is Status.DRAFT

    again = service.start_run(rt, "School")
    assert again.kind == "first"
    assert (again.errors, again.duplicates, again.ready) == (0, 0, 2)
    done = service.confirm(rt, "School")
    assert {k: v for k, v in done.counts.items() if v} == {"created": 2, "skipped": 1}
    with store_engine.connect() as conn:
        assert sorted(conn.execute(select(users.c.mis_id)).scalars()) == ["a", "b"]
