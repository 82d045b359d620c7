"""Run rules around the integration's status, failed lines, and hooks; and the mapping of
each record (``PopulationMap.apply``) against a plain reference."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

import pytest
import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.errors import StateError
from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit.store.tables import integrations, users
from connectkit.sync import service
from connectkit.sync.mapper import DIRECTORY_FIELDS, Mapped, PopulationMap, _text, resolve

from .conftest import NAME
from .test_first_sync import _assert_counts_equal_lines, person
from .test_ongoing import first_sync


def test_pending_refuses_and_deactivated_refuses_only_scheduled_runs(world) -> None:
    with world.engine.begin() as conn:
        conn.execute(sa.update(integrations).values(status="pending"))
    with pytest.raises(StateError, match="pending"):
        service.start_run(world.rt, NAME)
    with world.engine.begin() as conn:
        conn.execute(sa.update(integrations).values(status="ready"))
    first_sync(world, students=5, staff=0)
    with world.engine.begin() as conn:
        lifecycle.transition(conn, world.integration_id, lifecycle.Status.DEACTIVATED,
                             cause="test", actor="test")
    with pytest.raises(StateError, match="scheduled runs are off"):
        service.start_run(world.rt, NAME, kind="scheduled")
    assert service.start_run(world.rt, NAME, kind="manual").status == "committed"


def test_a_line_that_fails_is_counted_failed_and_the_rest_commit(world) -> None:
    world.settings(guard={"max_deletions": 1, "max_deletion_percent": 5})
    first_sync(world, students=10, staff=0)
    for i in range(3):
        world.fake.remove_person(Role.STUDENT, f"S{i:06d}")
    world.fake.add_people(Role.STUDENT, [person("N1", "New", "One", "n1@x.org"),
                                         person("N2", "New", "Two", "n2@x.org")])
    held = service.start_run(world.rt, NAME)
    assert held.status == "on_hold"
    assert held.planned["create"] == 2
    # between plan and approval someone links a user to N1 by hand: its create must fail
    with world.engine.begin() as conn:
        conn.execute(sa.insert(users).values(
            first_name="Hand", last_name="Made", active=True, mis_id="N1",
            integration_id=world.integration_id, created_at=world.clock(),
            updated_at=world.clock()))
    res = service.approve(world.rt, NAME)
    assert res.status == "committed"
    assert res.counts["failed"] == 1
    assert res.counts["created"] == 1
    assert res.counts["deactivated"] == 3
    failed = [ln for ln in world.lines(res.run_id) if ln["outcome"] == "failed"]
    assert [ln["mis_id"] for ln in failed] == ["N1"]
    assert "error" in failed[0]["detail"]
    # the failed line keeps what it planned (carried-key creates are read without it)
    assert failed[0]["detail"]["values"]["last_name"] == "One"
    assert failed[0]["detail"]["keys"]["name_key"] == "new\x1fone"
    _assert_counts_equal_lines(world, res.run_id, res.counts)


# --- PopulationMap.apply against a plain reference -----------------------------------------
#
# apply resolves the compiled paths inline and builds Mapped without its __init__; the
# reference below resolves every path with mapper.resolve and builds Mapped by keyword. Every
# combination must give the very same record: equal, the same __dict__ in the same order, the
# same value types, repr and pickle bytes.

_PATHS = {
    "first_name": "first_name",
    "emails.primary": "email",
    "contact_details.phones.mobile": "phone",
    "date_of_birth": "last_name",
}
_ODD_PATHS = [
    {"role": "first_name", "mis_id": "last_name", "groups": "email", "nowhere": "phone"},
    {"middle_names.x": "first_name", "emails": "last_name", "extras": "email"},
    {"proxy.a.b": "first_name", "proxy.a": "last_name", "listed": "email", "number": "phone"},
    {"contact_details": "first_name", "contact_details.phones": "last_name",
     "blank": "email", "updated_at": "phone"},
    {"contact_details.phones.mobile.deeper": "first_name", "emails.primary": "last_name",
     "phones.work": "email", "first_name": "not a directory field"},
    {},
]  # fmt: skip
_GROUPS = {"yr-1": "Student", "yr-2": "Student", "yr-9": "Sixth Form", "st-1": "Staff"}


def _member(group_id: str) -> GroupMembership:
    return GroupMembership(group_id=group_id, kind=GroupKind.YEAR)


def _people() -> list[MISPerson]:
    base: dict[str, Any] = {
        "mis_id": "S1",
        "role": Role.STUDENT,
        "person_id": "p-1",
        "mis_code": "1001",
        "first_name": "Ada",
        "emails": {"primary": "ada@example.org", "work": "  "},
        "phones": {"work": "01632 960000"},
        "date_of_birth": date(2012, 5, 1),
        "updated_at": datetime(2024, 5, 20, 5, 7, 4, tzinfo=UTC),
        "extras": {
            "contact_details": {"phones": {"mobile": "07911 123456"}},
            "proxy": MappingProxyType({"a": MappingProxyType({"b": " text "})}),
            "listed": ["a"],
            "number": 7911123456,
            "blank": " \u00a0 ",
        },
    }
    groups = [
        (),
        ("yr-1",),
        ("zz-0",),
        ("yr-9", "yr-1"),
        ("yr-2", "yr-1", "zz-0"),
        ("yr-1", "yr-1"),
        ("st-1", "yr-9", "yr-2"),
    ]
    odd_extras: list[dict[str, Any]] = [
        {},
        {"contact_details": "not a mapping"},
        {"contact_details": {"phones": {"mobile": ["a", "list"]}}},
        {"contact_details": {"phones": {"mobile": 7911123456}}},
        {"contact_details": {"phones": None}},
    ]
    people = []
    for n, ids in enumerate(groups):
        values = {**base, "groups": tuple(_member(i) for i in ids)}
        if n % 2:
            values.update(fingerprint=f"{n:032x}", first_name="   ", emails={})
        people.append(MISPerson.model_validate(values))
    people += [MISPerson.model_validate({**base, "extras": extras}) for extras in odd_extras]
    people.append(MISPerson(mis_id="S2", role=Role.STAFF))
    return people


def _reference_apply(population: PopulationMap, person: MISPerson) -> Mapped:
    fields: dict[str, str | None] = dict.fromkeys(DIRECTORY_FIELDS)
    for target, path in population.fields.items():
        fields[target] = _text(resolve(person, path))
    matched = sorted(g.group_id for g in person.groups if g.group_id in population.groups)
    return Mapped(
        mis_id=person.mis_id,
        role=population.role,
        person_id=person.person_id,
        mis_code=person.mis_code,
        fields=fields,
        user_types=tuple(sorted({population.groups[g] for g in matched})),
        groups=tuple(matched),
        fingerprint=person.fingerprint,
    )


@pytest.mark.parametrize("paths", [_PATHS, *_ODD_PATHS])
@pytest.mark.parametrize("role", list(Role))
def test_apply_equals_the_reference(paths: dict[str, str], role: Role) -> None:
    population = PopulationMap(role, {"fields": paths, "groups": _GROUPS, "area": "Door"})
    for someone in _people():
        got, ref = population.apply(someone), _reference_apply(population, someone)
        assert type(got) is Mapped
        assert got == ref
        assert list(vars(got)) == list(vars(ref))
        assert [type(v) for v in vars(got).values()] == [type(v) for v in vars(ref).values()]
        assert list(got.fields.items()) == list(ref.fields.items())
        assert repr(got) == repr(ref)
        assert pickle.dumps(got) == pickle.dumps(ref)
        assert pickle.loads(pickle.dumps(got)) == ref
        with pytest.raises(dataclasses.FrozenInstanceError):
            got.mis_id = "changed"  # type: ignore[misc]


def test_the_reference_cases_reach_every_branch() -> None:
    """The cases above do cover what they are for: 0, 1 and several matched groups, one
    and several user types, text and non-text values, fingerprints or none."""
    population = PopulationMap(Role.STUDENT, {"fields": _PATHS, "groups": _GROUPS})
    mapped = [population.apply(someone) for someone in _people()]
    assert {len(m.groups) for m in mapped} >= {0, 1, 2, 3}
    assert {len(m.user_types) for m in mapped} >= {0, 1, 2}
    assert ("yr-1", "yr-1") in {m.groups for m in mapped}
    assert {m.fingerprint is None for m in mapped} == {True, False}
    values = {v for m in mapped for v in m.fields.values()}
    assert {None, "2012-05-01", "7911123456", "07911 123456"} <= values
