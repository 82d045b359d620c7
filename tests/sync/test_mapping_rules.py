"""Mapping rules (R2.1-R2.5): validation against connector and directory, change rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from connectkit import integrations as ig
from connectkit.errors import MappingError, StateError
from connectkit.integrations import Environment
from connectkit.models import GroupKind, MISGroup, Role
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.tables import (
    areas,
    integrations,
    skips,
    staged_records,
    sync_runs,
    user_types,
    users,
)
from connectkit.sync import mapping_rules as mr
from connectkit.testing.fake import FakeConnector

GROUPS = [
    MISGroup(id="Y7", name="Year 7", kind=GroupKind.YEAR),
    MISGroup(id="Y8", name="Year 8", kind=GroupKind.YEAR),
    MISGroup(id="TEACH", name="Teaching", kind=GroupKind.STAFF, role=Role.STAFF),
]
OFFERED = {role: ("first_name", "last_name", "emails.primary", "emails.work", "phones.mobile")
           for role in Role}
DIRECTORY = mr.Directory(frozenset({"Student", "Staff"}), frozenset({"Student Entrance"}))
GOOD: dict[str, Any] = {
    "students": {
        "area": "Student Entrance",
        "fields": {"first_name": "first_name", "last_name": "last_name",
                   "emails.primary": "email"},
        "groups": {"Y7": "Student", "Y8": "Student"},
    },
    "staff": {
        "fields": {"first_name": "first_name", "last_name": "last_name"},
        "groups": {"TEACH": "Staff"},
    },
}


def _check(mapping: Any, **kwargs: Any) -> mr.MappingCheck:
    options: dict[str, Any] = {
        "connector": "fake", "offered": OFFERED, "groups": GROUPS, "directory": DIRECTORY,
    }
    return mr.check_mapping(mapping, **(options | kwargs))


def _issues(mapping: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(MappingError) as caught:
        _check(mapping, **kwargs)
    return caught.value.issues


# --- pure rules --------------------------------------------------------------------------


def test_good_mapping_passes_normalised() -> None:
    check = _check(GOOD)
    assert check.mapping == GOOD
    assert check.create_types == ()
    assert check.warnings == ()


def test_two_mis_fields_onto_one_directory_field_names_both() -> None:
    mapping = {"students": {"fields": {"emails.primary": "email", "emails.work": "email",
                                       "first_name": "first_name", "last_name": "last_name"},
                            "groups": {"Y7": "Student"}}}
    issues = _issues(mapping)
    assert issues == [
        "mapping.students.fields: MIS fields 'emails.primary' and 'emails.work' both map onto "
        "directory field 'email'; map one MIS field per directory field"
    ]


def test_every_problem_reported_at_once() -> None:
    mapping = {
        "students": {
            "fields": {"first_name": "forename", "nickname": "last_name"},
            "groups": {"Y9": "Student", "Y7": ["Student", "Staff"], "Y8": "Pupil"},
            "colour": "red",
        },
        "visitors": {},
    }
    issues = _issues(mapping)
    text = "\n".join(issues)
    assert "mapping.visitors: unknown population" in text
    assert "mapping.students.colour: unknown key" in text
    assert "'forename' is not a directory field" in text
    assert "connector 'fake' offers no field 'nickname' for students" in text
    assert "the MIS has no group 'Y9'" in text
    assert "must name exactly one user type" in text
    assert "user type 'Pupil' does not exist in the directory" in text
    assert len(issues) == 7


def test_group_maps_to_at_most_one_type_across_populations() -> None:
    mapping = {
        "students": {"fields": {}, "groups": {"TEACH": "Student"}},
        "staff": {"fields": {}, "groups": {"TEACH": "Staff"}},
    }
    issues = _issues(mapping)
    assert len(issues) == 1
    assert "group 'TEACH' maps to user type 'Staff' for staff and to 'Student' for students" in (
        issues[0]
    )


def test_many_groups_to_one_type_allowed_and_unmapped_groups_fine() -> None:
    check = _check({"students": {"fields": {"first_name": "first_name",
                                            "last_name": "last_name"},
                                 "groups": {"Y7": "Student", "Y8": "Student"}}})
    assert check.mapping["students"]["groups"] == {"Y7": "Student", "Y8": "Student"}


def test_missing_types_and_area_created_only_on_confirmation() -> None:
    mapping = {"students": {"area": "Hall", "fields": {}, "groups": {"Y7": "Pupil"}}}
    issues = _issues(mapping)
    assert any("user type 'Pupil' does not exist" in i for i in issues)
    assert any("sign-in area 'Hall' does not exist" in i for i in issues)
    check = _check(mapping, create_missing=True)
    assert check.create_types == ("Pupil",)
    assert check.create_area == "Hall"


def test_any_path_when_connector_offers_none_and_groups_unchecked() -> None:
    mapping = {"staff": {"fields": {"contact_details.emails.primary": "email",
                                    "first_name": "first_name", "last_name": "last_name"},
                         "groups": {"ANY": "Staff"}}}
    check = _check(mapping, offered={}, groups=None)
    assert check.mapping["staff"]["fields"]["contact_details.emails.primary"] == "email"
    assert _issues({"staff": {"fields": {"a..b": "email"}}}, offered={}) == [
        "mapping.staff.fields.\"a..b\": 'a..b' is not a field path"
    ]


def test_warnings_for_names_unmapped_and_no_groups() -> None:
    check = _check({
        "students": {"fields": {"first_name": "first_name"}, "groups": {"Y7": "Student"}},
        "staff": {"fields": {"first_name": "first_name"}},
    })
    assert any("every students record will be an error" in w for w in check.warnings)
    assert any("no staff are imported" in w for w in check.warnings)


def test_staff_group_in_students_mapping_warns() -> None:
    check = _check({"students": {"fields": {"first_name": "first_name",
                                            "last_name": "last_name"},
                                 "groups": {"TEACH": "Staff"}}})
    assert any("'TEACH' is a staff group, mapped for students" in w for w in check.warnings)


# --- against the store -------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeConnector:
    connector = FakeConnector()
    connector.add_groups(GROUPS)
    return connector


@pytest.fixture
def env(fake: FakeConnector, tmp_path: Path) -> Environment:
    pm = new_manager()
    register(pm, "fake", fake)
    return Environment(Hooks(pm), tmp_path / "state", environ={"FAKE_TOKEN": "tok-map-4455"})


@pytest.fixture
def row(store_engine: Engine, env: Environment) -> ig.IntegrationRow:
    with store_engine.begin() as conn:
        conn.execute(insert(user_types), [{"name": "Student"}, {"name": "Staff"}])
        created, _ = ig.create(
            conn, env, name="School", connector="fake",
            config={"school": "S1", "token": "${FAKE_TOKEN}"},
            settings={"sites": ["Main"]}, actor="admin",
        )
    return created


def _save(engine: Engine, env: Environment, mapping: Any, **kwargs: Any) -> mr.MappingChange:
    with engine.begin() as conn:
        return mr.save_mapping(conn, env, "School", mapping, actor="admin", **kwargs)


def _stage(engine: Engine, integration_id: int, mis_id: str, listed: str) -> None:
    stamp = ig.now()
    with engine.begin() as conn:
        run_id = conn.execute(select(sync_runs.c.id)).scalar()
        if run_id is None:
            run_id = conn.execute(insert(sync_runs).values(
                integration_id=integration_id, kind="first", status="awaiting_review",
                phase="review", checkpoint={}, counts={}, started_at=stamp,
            ).returning(sync_runs.c.id)).scalar_one()
        conn.execute(insert(staged_records).values(
            integration_id=integration_id, run_id=run_id, role="student", mis_id=mis_id,
            list=listed, fields={"first_name": "A", "last_name": "B"}, record_hash="0" * 64,
        ))


def _mapping_row(engine: Engine) -> tuple[dict[str, Any], int]:
    with engine.connect() as conn:
        found = conn.execute(select(integrations.c.mapping, integrations.c.mapping_version)).one()
    return found[0], found[1]


def test_save_checks_connector_groups_and_logs(
    store_engine: Engine, env: Environment, row: ig.IntegrationRow, fake: FakeConnector
) -> None:
    with store_engine.begin() as conn:
        conn.execute(insert(areas).values(site_id=1, name="Student Entrance"))
    change = _save(store_engine, env, GOOD)
    assert change.changed
    assert not change.reimport
    assert _mapping_row(store_engine) == (GOOD, 2)
    assert fake.calls("fetch_groups")
    with store_engine.connect() as conn:
        last = list(ig.events(conn, row.id))[-1]
    assert (last.kind, last.from_value, last.to_value) == ("mapping", "1", "2")
    again = _save(store_engine, env, GOOD)
    assert not again.changed
    assert _mapping_row(store_engine)[1] == 2


def test_save_refuses_groups_the_mis_lacks(
    store_engine: Engine, env: Environment, row: ig.IntegrationRow
) -> None:
    with pytest.raises(MappingError, match="the MIS has no group 'Y13'"):
        _save(store_engine, env, {"students": {"fields": {}, "groups": {"Y13": "Student"}}})
    assert _mapping_row(store_engine) == ({}, 1)


def test_save_creates_types_and_area_on_confirmation(
    store_engine: Engine, env: Environment, row: ig.IntegrationRow
) -> None:
    mapping = {"students": {"area": "Hall", "fields": {"first_name": "first_name",
                                                       "last_name": "last_name"},
                            "groups": {"Y7": "Pupil"}}}
    with pytest.raises(MappingError, match="'Pupil' does not exist"):
        _save(store_engine, env, mapping)
    _save(store_engine, env, mapping, create_missing=True)
    with store_engine.connect() as conn:
        assert "Pupil" in conn.execute(select(user_types.c.name)).scalars().all()
        assert conn.execute(select(areas.c.name)).scalars().all() == ["Hall"]


def test_edit_refused_while_errors_or_duplicates_unresolved(
    store_engine: Engine, env: Environment, row: ig.IntegrationRow
) -> None:
    simple = {"staff": {"fields": {"first_name": "first_name", "last_name": "last_name"},
                        "groups": {"TEACH": "Staff"}}}
    _stage(store_engine, row.id, "e1", "error")
    _stage(store_engine, row.id, "d1", "duplicate")
    _stage(store_engine, row.id, "d2", "duplicate")
    with pytest.raises(StateError, match=r"while 1 error\(s\) and 2 duplicate\(s\) are unres"):
        _save(store_engine, env, simple, confirm_reimport=True)
    with store_engine.begin() as conn:
        conn.execute(insert(skips), [
            {"integration_id": row.id, "mis_id": m, "created_at": ig.now()}
            for m in ("e1", "d1", "d2")
        ])
    assert _save(store_engine, env, simple, confirm_reimport=True).changed


def test_change_after_import_needs_confirmation_then_reimports(
    store_engine: Engine, env: Environment, row: ig.IntegrationRow
) -> None:
    first = {"staff": {"fields": {"first_name": "first_name", "last_name": "last_name"},
                       "groups": {"TEACH": "Staff"}}}
    _save(store_engine, env, first)
    _stage(store_engine, row.id, "r1", "ready")
    stamp = ig.now()
    with store_engine.begin() as conn:
        conn.execute(insert(users).values(
            first_name="A", last_name="B", active=True, integration_id=row.id, mis_id="m0",
            record_hash="f" * 64, created_at=stamp, updated_at=stamp,
        ))
    second = {"staff": {"fields": {"first_name": "first_name", "last_name": "last_name",
                                   "emails.primary": "email"}, "groups": {"TEACH": "Staff"}}}
    with store_engine.connect() as conn:
        plan = mr.plan_mapping_change(conn, env, "School", second)
    assert plan.reimport
    assert plan.warning is not None
    assert "imported again" in plan.warning
    with pytest.raises(StateError, match="every record will be imported again"):
        _save(store_engine, env, second)
    assert _mapping_row(store_engine) == (first, 2)
    change = _save(store_engine, env, second, confirm_reimport=True)
    assert change.reimport
    assert _mapping_row(store_engine) == (second, 3)
    with store_engine.connect() as conn:
        assert conn.execute(select(staged_records.c.id)).first() is None
        assert conn.execute(select(users.c.record_hash)).scalar_one() is None
        last = list(ig.events(conn, row.id))[-1]
    assert "re-imported" in last.cause
