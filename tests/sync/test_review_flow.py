"""The first sync end to end with the real engine: import, review (edit, merge, skip), confirm,
then a second run that must leave every decision in place and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from connectkit import integrations as ig
from connectkit.errors import StateError
from connectkit.integrations import Environment, Status
from connectkit.models import GroupKind, GroupMembership, MISGroup, MISPerson, Role
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.tables import users
from connectkit.sync import mapping_rules, review, service
from connectkit.sync.keys import user_keys
from connectkit.sync.runtime import Runtime
from connectkit.testing.fake import FakeConnector

MAPPING = {
    "students": {
        "fields": {"first_name": "first_name", "last_name": "last_name",
                   "emails.primary": "email", "phones.mobile": "phone"},
        "groups": {"Y7": "Student"},
    },
}


def _person(mis_id: str, first: str, last: str, email: str, phone: str) -> MISPerson:
    return MISPerson(
        mis_id=mis_id, role=Role.STUDENT, person_id=f"upi-{mis_id}", first_name=first,
        last_name=last, emails={"primary": email}, phones={"mobile": phone},
        groups=(GroupMembership(group_id="Y7", kind=GroupKind.YEAR),),
    )


@pytest.fixture
def fake() -> FakeConnector:
    connector = FakeConnector()
    connector.add_groups([MISGroup(id="Y7", name="Year 7", kind=GroupKind.YEAR)])
    connector.add_people(Role.STUDENT, [
        _person("s1", "Ann", "Lee", "ann@school.example", "+447911100001"),
        _person("s2", "Bob", "Ray", "bob-at-school", "+447911100002"),
        _person("s3", "Cat", "Moss", "cat@school.example", "+447911100003"),
        _person("s4", "Dan", "Ode", "dan@school.example", "+447911100004"),
    ])
    return connector


@pytest.fixture
def rt(store_engine: Engine, fake: FakeConnector, tmp_path: Path) -> Runtime:
    pm = new_manager()
    register(pm, "fake", fake)
    env = Environment(Hooks(pm), tmp_path / "state", environ={"FAKE_TOKEN": "tok-flow-7788"})
    return Runtime(engine=store_engine, env=env, actor="office")


def _directory_user(engine: Engine, first: str, last: str, email: str, phone: str) -> int:
    stamp = ig.now()
    row = {"first_name": first, "last_name": last, "email": email, "phone": phone}
    with engine.begin() as conn:
        return int(conn.execute(insert(users).values(
            **row, **user_keys(row), active=True, created_at=stamp, updated_at=stamp,
        ).returning(users.c.id)).scalar_one())


def test_first_sync_review_then_unchanged_rerun(store_engine: Engine, rt: Runtime) -> None:
    cat = _directory_user(store_engine, "Cat", "Moss", "CAT@school.example", "+447911199999")
    _directory_user(store_engine, "Dan", "Ode", "dan@school.example", "+447911188888")
    with store_engine.begin() as conn:
        ig.create(conn, rt.env, name="School", connector="fake",
                  config={"school": "S1", "token": "${FAKE_TOKEN}"},
                  settings={"sites": ["Main"]}, actor="office")
        mapping_rules.save_mapping(conn, rt.env, "School", MAPPING, actor="office",
                                   create_missing=True)
    first = service.start_run(rt, "School")
    assert (first.errors, first.duplicates, first.ready) == (1, 2, 1)
    with store_engine.begin() as conn:
        assert ig.get(conn, "School").status is Status.DRAFT
        with pytest.raises(StateError, match=r"while 1 error\(s\) remain"):
            review.merge(conn, "School", "s3", actor="office")
        fixed = review.edit(conn, "School", "s2", {"email": "bob@school.example"},
                            actor="office")
        assert fixed.listed == "ready"
        preview = review.merge_preview(conn, "School", "s3", {"phone": "directory"})
        assert preview.user_id == cat
        review.merge(conn, "School", "s3", {"phone": "directory"}, actor="office")
        review.skip(conn, "School", "s4", actor="office")
    done = service.confirm(rt, "School")
    assert done.status == "committed"
    assert {k: v for k, v in done.counts.items() if v} == {
        "created": 2, "merged": 1, "skipped": 1,
    }
    with store_engine.connect() as conn:
        assert ig.get(conn, "School").status is Status.ACTIVE
        merged = conn.execute(select(users).where(users.c.id == cat)).mappings().one()
        names = conn.execute(
            select(users.c.first_name).where(users.c.integration_id.is_not(None))
            .order_by(users.c.first_name)
        ).scalars().all()
    assert (merged["mis_id"], merged["person_id"]) == ("s3", "upi-s3")
    assert merged["phone"] == "+447911199999"  # the directory value won
    assert names == ["Ann", "Bob", "Cat"]  # Dan was skipped, not linked

    again = service.start_run(rt, "School", full=True)
    assert again.status == "committed"
    assert {k: v for k, v in again.counts.items() if v} == {"unchanged": 3, "skipped": 1}
    with store_engine.connect() as conn:
        phone = conn.execute(select(users.c.phone).where(users.c.id == cat)).scalar_one()
        bob = conn.execute(select(users.c.email).where(users.c.mis_id == "s2")).scalar_one()
    assert phone == "+447911199999"
    assert bob == "bob@school.example"
