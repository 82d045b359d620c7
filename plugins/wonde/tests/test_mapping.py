"""Mapping Wonde payloads (shapes from the reference, values made up) into models."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit_wonde import mapping
from connectkit_wonde.emulator.data import School
from connectkit_wonde.mapping import (
    deletion_role,
    group_kind,
    map_attendance_code,
    map_deletion,
    map_group,
    map_person,
)
from connectkit_wonde.parse import parse_date, read_datetime

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "wonde"

STUDENT = {
    "id": "A1749191433",
    "upi": "8d444684b7aa79bc97f8594a4aab7ce3",
    "mis_id": "9919",
    "initials": "RB",
    "surname": "Bennett",
    "forename": "Ruthie",
    "middle_names": None,
    "legal_surname": "Bennett",
    "legal_forename": "Ruth",
    "gender": "FEMALE",
    "date_of_birth": {
        "date": "2012-09-29 00:00:00.000000",
        "timezone_type": 3,
        "timezone": "Europe/London",
    },
    "restored_at": None,
    "updated_at": {"date": "2024-05-20 05:07:04.000000", "timezone_type": 3, "timezone": "UTC"},
    "some_new_key": {"added": "later"},
    "year": {"data": {"id": "A1111111111", "code": "7", "name": "Year 7", "type": "YEAR"}},
    "contact_details": {
        "data": {
            "phones": {
                "phone": "01632 960000",
                "primary": "01632 960000",
                "home": None,
                "work": None,
                "mobile": None,
            },
            "emails": {
                "email": "ruth@example.org",
                "primary": "ruth@example.org",
                "home": None,
                "work": "  ",
            },
        }
    },
    "groups": {
        "data": [{"id": "A2222222222", "name": "7RED", "type": "REGISTRATION"}, "A3333333333"]
    },
    "photo": {"data": {"content": "AAAA", "hash": "5d41402abc4b2a76b9719d911017c592"}},
}


def test_student_maps_names_ids_contacts_groups() -> None:
    person = map_person(STUDENT, Role.STUDENT)
    assert person is not None
    assert (person.mis_id, person.person_id, person.mis_code) == (
        "A1749191433",
        "8d444684b7aa79bc97f8594a4aab7ce3",
        "9919",
    )
    assert (person.first_name, person.last_name) == ("Ruth", "Bennett")
    assert person.preferred_first_name == "Ruthie"
    assert person.emails == {"email": "ruth@example.org", "primary": "ruth@example.org"}
    assert person.phones == {"phone": "01632 960000", "primary": "01632 960000"}
    assert person.date_of_birth == date(2012, 9, 29)
    assert [(g.group_id, g.kind) for g in person.groups] == [
        ("A1111111111", GroupKind.YEAR),
        ("A2222222222", GroupKind.REGISTRATION),
        ("A3333333333", GroupKind.OTHER),
    ]
    assert person.photo_hash == "5d41402abc4b2a76b9719d911017c592"
    assert person.extras["contact_details"]["emails"]["primary"] == "ruth@example.org"
    assert person.extras["year"]["name"] == "Year 7"
    assert person.extras["some_new_key"] == {"added": "later"}
    assert "photo" not in person.extras
    assert "_not_permitted" not in person.extras


def test_nulls_from_missing_scopes_are_not_permitted_not_empty() -> None:
    raw = {**STUDENT, "contact_details": None, "date_of_birth": None}
    person = map_person(
        raw, Role.STUDENT, not_permitted={"contact_details", "date_of_birth", "gender"}
    )
    assert person is not None
    assert person.extras["_not_permitted"] == ["contact_details", "date_of_birth"]
    assert person.emails == {}


def test_relation_shapes_null_or_data_null_are_tolerated() -> None:
    raw = {**STUDENT, "year": {"data": None}, "groups": None, "contact_details": {"data": None}}
    person = map_person(raw, Role.STUDENT)
    assert person is not None
    assert person.groups == ()
    assert person.emails == {}


def test_unreadable_value_is_logged_naming_record_and_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = {**STUDENT, "date_of_birth": {"date": "not a date"}}
    with caplog.at_level(logging.WARNING):
        person = map_person(raw, Role.STUDENT)
    assert person is not None
    assert person.date_of_birth is None
    assert "date_of_birth" in person.extras["_invalid"]
    assert "A1749191433" in caplog.text
    assert "date_of_birth" in caplog.text


def test_record_without_id_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert map_person({"mis_id": "12"}, Role.STAFF) is None
    assert "without an id" in caplog.text


def test_staff_groups_default_to_staff_kind() -> None:
    person = map_person(
        {
            "id": "A500460806",
            "forename": "Selina",
            "surname": "Andrews",
            "groups": {"data": [{"id": "G1", "name": "Science"}]},
        },
        Role.STAFF,
    )
    assert person is not None
    assert person.groups[0].kind is GroupKind.STAFF
    assert person.first_name == "Selina"


def test_groups_and_kinds() -> None:
    assert group_kind("registration") is GroupKind.REGISTRATION
    assert group_kind("Staff Group") is GroupKind.STAFF
    assert group_kind(None) is GroupKind.OTHER
    group = map_group({"id": "A2", "mis_id": "501", "description": "7 Red", "type": "STAFF"})
    assert group is not None
    assert (group.name, group.code, group.role) == ("7 Red", "501", Role.STAFF)
    assert map_group({"name": "no id"}) is None


def test_deletions_only_for_people() -> None:
    raw = {
        "type": "student",
        "id": "A1039521228",
        "mis_id": "9919",
        "deleted_at": {"date": "2024-07-20 02:11:09.000000", "timezone": "UTC"},
        "restored_at": None,
    }
    deletion = map_deletion(raw)
    assert deletion is not None
    assert deletion.role is Role.STUDENT
    assert deletion.deleted_at.year == 2024
    assert map_deletion({**raw, "type": "class"}) is None
    assert map_deletion({**raw, "deleted_at": None}) is None
    assert deletion_role("employee") is Role.STAFF


def test_attendance_codes() -> None:
    code = map_attendance_code(
        {"id": "A186523258", "code": "/", "description": "Present (AM)", "type": "PRESENT"}
    )
    assert code is not None
    assert (code.code, code.mis_id, code.meaning) == ("/", "A186523258", "PRESENT")
    assert map_attendance_code({"id": "X", "code": "WAY-TOO-LONG"}) is None


# --- map_person against an independent, plain reference mapping ---------------------------
#
# The reference below restates the mapping contract in the most direct way (no caches, no
# fast paths, no shared objects) and builds the model by validation. map_person must give
# the very same model for every record: the same values of the very same types (down to the
# keys and values of its mappings), the same fields set, the same repr, dumps and pickle, on
# a first call and on a second one (caches warm), with and without a fingerprint.


def _ref_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


_ref_datetime = read_datetime  # dates are read as the parser reads them (test_parse.py)
_ref_date = parse_date


def _ref_payload(value: object) -> object:
    return value["data"] if isinstance(value, dict) and "data" in value else value


def _ref_is_null(extras: dict[str, Any], path: str) -> bool:
    value: Any = extras
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = _ref_payload(value[part])
        if value is None:
            return True
    return False


def _ref_labelled(values: object) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(values, Mapping):
        for key, value in values.items():
            if type(value) is str and value.strip():
                out[str(key)] = value.strip()
    return out


def _ref_groups(extras: dict[str, Any], role: Role) -> tuple[GroupMembership, ...]:
    pairs: list[tuple[str, GroupKind]] = []
    for name, kind in (
        ("year", GroupKind.YEAR),
        ("registration", GroupKind.REGISTRATION),
        ("house", GroupKind.HOUSE),
    ):
        item = extras.get(name)
        if isinstance(item, dict) and item.get("id"):
            pairs.append((str(item["id"]), kind))
    groups = extras.get("groups")
    if not isinstance(groups, list):
        groups = [groups] if groups else []
    for group in groups:
        if isinstance(group, dict) and group.get("id"):
            kind = group_kind(group.get("type"))
            if role is Role.STAFF and kind is GroupKind.OTHER:
                kind = GroupKind.STAFF
            pairs.append((str(group["id"]), kind))
        elif isinstance(group, str):
            pairs.append((group, GroupKind.OTHER))
    seen: dict[str, GroupMembership] = {}
    for ident, kind in pairs:
        if ident not in seen:
            seen[ident] = GroupMembership(group_id=ident, kind=kind)
    return tuple(seen.values())


def reference_person(
    raw: Mapping[str, Any],
    role: Role,
    not_permitted: Iterable[str] = (),
    fingerprint: str | None = None,
) -> MISPerson | None:
    record_id = _ref_text(raw.get("id"))
    if record_id is None:
        return None
    extras = {k: (v["data"] if type(v) is dict and "data" in v else v) for k, v in raw.items()}
    photo = extras.pop("photo", None)
    contact = extras.get("contact_details")
    if not isinstance(contact, dict):
        contact = {}
    denied = sorted({path for path in not_permitted if _ref_is_null(extras, path)})
    if denied:
        extras["_not_permitted"] = denied
    invalid: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, parse in (("date_of_birth", _ref_date), ("updated_at", _ref_datetime)):
        try:
            values[name] = parse(raw.get(name))
        except (ValueError, TypeError) as exc:
            values[name] = None
            invalid[name] = str(exc)
    if invalid:
        extras["_invalid"] = invalid
    forename, surname = _ref_text(raw.get("forename")), _ref_text(raw.get("surname"))
    printed = {} if fingerprint is None else {"fingerprint": fingerprint}
    return MISPerson(
        mis_id=record_id,
        role=role,
        person_id=_ref_text(raw.get("upi")),
        mis_code=_ref_text(raw.get("mis_id")),
        first_name=_ref_text(raw.get("legal_forename")) or forename,
        last_name=_ref_text(raw.get("legal_surname")) or surname,
        preferred_first_name=forename,
        preferred_last_name=surname,
        middle_names=_ref_text(raw.get("middle_names")),
        emails=_ref_labelled(contact.get("emails")),
        phones=_ref_labelled(contact.get("phones")),
        date_of_birth=values["date_of_birth"],
        groups=_ref_groups(extras, role),
        photo_hash=_ref_text(photo.get("hash")) if isinstance(photo, dict) else None,
        updated_at=values["updated_at"],
        extras=extras,
        **printed,
    )


def _cassette_people() -> list[tuple[dict[str, Any], Role]]:
    """Every student and employee record in the recorded Wonde cassettes."""
    found: list[tuple[dict[str, Any], Role]] = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            uri = interaction["request"]["uri"].split("?")[0]
            role = Role.STAFF if uri.endswith("/employees") else Role.STUDENT
            if not uri.endswith(("/students", "/employees", "/leavers", "/pre-admissions")):
                continue
            body = json.loads(interaction["response"]["body"]["string"] or "{}")
            rows = body.get("data")
            found.extend((row, role) for row in rows if isinstance(row, dict))
    return found


def _emulator_people() -> list[tuple[dict[str, Any], Role]]:
    """Emulator records of every kind, with every include, some with scopes denied."""
    school = School(id="A1930499544", name="Emulated Academy", students=40, staff=10)
    includes = {"contact_details", "year", "groups", "employment_details", "extended_details",
                "photo"}  # fmt: skip
    found: list[tuple[dict[str, Any], Role]] = []
    for denied in (set(), {"contact_details", "date_of_birth", "photo", "gender"}):
        for kind, count in (("student", 40), ("leaver", 5), ("pre", 5), ("employee", 10)):
            role = Role.STAFF if kind == "employee" else Role.STUDENT
            found.extend((school.person(kind, i, includes, denied), role) for i in range(count))
    return found


def _edge_people() -> list[tuple[dict[str, Any], Role]]:
    """Hand-made records: every odd shape map_person has to tolerate."""
    base: dict[str, Any] = json.loads(json.dumps(STUDENT))
    utc = {"timezone_type": 3, "timezone": "UTC"}
    shapes: list[dict[str, Any]] = [
        {},
        {"contact_details": None},
        {"contact_details": {"data": None}},
        {"contact_details": {"data": {"emails": None, "phones": "01632 960000"}}},
        {"contact_details": {"emails": {"primary": "x@example.org"}}},  # not wrapped
        {"contact_details": {"data": {"emails": {1: " a@b.c ", "p": 7, "q": "\u00a0"}}}},
        {"contact_details": {"data": {"emails": [("primary", "x@y.z")]}}},
        {"year": None, "groups": None},
        {"year": {"data": None}, "groups": {"data": None}},
        {"year": "A1111111111", "groups": "A4444444444"},
        {"year": {"data": {"id": 7, "name": "Year 7"}}},
        {"year": {"data": {"id": ""}}, "registration": {"id": "R1"}, "house": {"data": {}}},
        {"registration": {"data": {"id": "R1"}}, "house": {"data": {"id": "H1"}}},
        {"groups": {"data": {"id": "G1", "type": "House"}}},
        {"groups": {"data": "G2"}},
        {"groups": ["G3", "G3", {"id": "G3", "type": "YEAR"}, None, 5, {"type": "YEAR"}]},
        {
            "groups": {
                "data": [{"id": "A1111111111", "type": "CLASS"}, {"id": "C1", "type": "CLASS"}]
            }
        },
        {
            "groups": {
                "data": [
                    {"id": "G4", "type": " staff group "},
                    {"id": "G5"},
                    {"id": "G6", "type": None},
                    {"id": "G7", "type": 3},
                    {"id": 8, "type": "TUTOR"},
                    {"id": "G9", "type": "Weird"},
                ]
            }
        },
        {"date_of_birth": {"date": "not a date"}},
        {"date_of_birth": {"date": "2012-02-30 00:00:00.000000"}},
        {"date_of_birth": "2012-09-29"},
        {"date_of_birth": 20120929},
        {"date_of_birth": {"date": None}},
        {"date_of_birth": ""},
        {"updated_at": {"date": "yesterday", **utc}},
        {"updated_at": {"date": "2024-05-20 05:07:04.1+0100", **utc}},
        {"updated_at": {"date": "2024-05-20 05:07:04.12345Z", **utc}},
        {"updated_at": {"date": "2024-05-20T05:07:04.000000", **utc}},
        {"updated_at": {"date": "2024-05-20Z05:07:04.000000", **utc}},
        {"updated_at": {"date": "2024-05-20 05:07:04", **utc}},
        {"updated_at": {"date": " 2024-05-20 05:07:04.000000", **utc}},
        {"updated_at": {"date": "2024-05-20 05:07:04.000000", "timezone": "Europe/London"}},
        {"updated_at": {"date": "2024-05-20 05:07:04.000000", "timezone": "Nowhere/Else"}},
        {"updated_at": {"date": "2024-02-30 05:07:04.000000", **utc}},
        {"updated_at": {"date": 1716181624, **utc}},
        {"updated_at": "2024-05-20T05:07:04Z"},
        {"updated_at": None},
        {"photo": None},
        {"photo": {"data": None}},
        {"photo": {"data": {"hash": "  "}}},
        {"photo": {"hash": 12345}},
        {"forename": "  Zoë ", "surname": "Nguyễn", "legal_forename": " ", "legal_surname": None},
        {"forename": "Łukasz", "legal_forename": "Ł", "middle_names": " Ní Bhriain "},
        {"upi": 12345, "mis_id": 9919, "middle_names": ""},
        {"id": "  A9  "},
        {"id": 123},
        {"extended_details": {"data": {"sen_status": None}}, "restored_at": None},
        {"gender": {"data": {"data": None}}, "year": {"data": {"data": None}}},
        {"gender": {"data": {"data": "F"}}, "groups": {"data": {"data": None}}},
        {"classes": {"data": []}, "some_list": [{"data": 1}]},
    ]
    found = [({**base, **shape}, Role.STUDENT) for shape in shapes]
    found += [({**base, **shape}, Role.STAFF) for shape in shapes]
    found += [({"id": ""}, Role.STUDENT), ({"mis_id": "1"}, Role.STAFF), ({"id": None}, Role.STAFF)]
    return found


NOT_PERMITTED: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset({"contact_details", "date_of_birth", "gender", "photo", "year", "groups"}),
    frozenset(
        {
            "contact_details.emails.primary",
            "contact_details.phones",
            "employment_details",
            "year.name",
            "missing",
            "missing.path",
            "_invalid",
        }
    ),
)


def _types(value: object) -> object:
    """The type of ``value`` and, inside dicts, lists and tuples, of every key and item."""
    if isinstance(value, dict):
        return dict, [(_types(k), _types(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return type(value), [_types(item) for item in value]
    return type(value)


def _same(new: MISPerson | None, ref: MISPerson | None, *, pickles: bool = False) -> None:
    """``new`` is ``ref`` in every respect but identity (None when ``ref`` is); with
    ``pickles``, down to the pickle's bytes (which also show which values are one object)."""
    if ref is None:
        assert new is None
        return
    assert new is not None
    assert type(new) is MISPerson
    assert new == ref
    assert list(new.__dict__) == list(ref.__dict__)
    assert _types(new.__dict__) == _types(ref.__dict__)
    assert new.model_dump() == ref.model_dump()
    assert new.model_fields_set == ref.model_fields_set
    assert type(new.model_fields_set) is type(ref.model_fields_set)
    assert (new.__pydantic_extra__, new.__pydantic_private__) == (None, None)
    assert (ref.__pydantic_extra__, ref.__pydantic_private__) == (None, None)
    assert repr(new) == repr(ref)
    assert new.model_dump_json() == ref.model_dump_json()
    assert pickle.loads(pickle.dumps(new)) == ref
    if pickles:
        assert pickle.dumps(new) == pickle.dumps(ref)


@pytest.mark.parametrize(
    "source", [_cassette_people, _emulator_people, _edge_people], ids=lambda f: f.__name__
)
def test_map_person_equals_the_reference_mapping(source: Any) -> None:
    people = source()
    assert len(people) >= 20
    for n, (raw, role) in enumerate(people):
        for denied, print_ in zip(NOT_PERMITTED, PRINTS[n % 2 :], strict=False):
            before = copy.deepcopy(raw)
            ref = reference_person(raw, role, denied, print_)
            _same(map_person(raw, role, denied, print_), ref)
            # any iterable, warm caches
            _same(map_person(raw, role, iter(sorted(denied)), print_), ref)
            assert raw == before  # the input is never changed


PRINTS = (None, "0" * 32, None, "f" * 128, None)
"""Fingerprints given with the NOT_PERMITTED sets (shifted by one every other record)."""


def test_typed_people_equal_validated_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where map_person builds the model without validation, validating the same values
    gives the very same model: every test record, each way it is mapped."""
    assert mapping._TYPED_PERSON  # the fast path is on (else this test proves nothing)
    typed = mapping._typed_person
    built: list[MISPerson] = []

    def checked(fields: dict[str, Any], fields_set: tuple[str, ...]) -> MISPerson:
        assert list(fields) == list(MISPerson.model_fields)
        left_out = set(fields) - set(fields_set)
        assert not left_out or (left_out == {"fingerprint"} and fields["fingerprint"] is None)
        given = {k: v for k, v in fields.items() if k in fields_set}
        before = copy.deepcopy(given)
        validated = MISPerson.model_validate(given)
        assert given == before
        person = typed(fields, fields_set)
        _same(person, validated, pickles=True)
        for name in ("mis_id", "role", "date_of_birth", "updated_at", "fingerprint"):
            assert getattr(person, name) == getattr(validated, name)
        built.append(person)
        return person

    monkeypatch.setattr(mapping, "_typed_person", checked)
    people = _cassette_people() + _emulator_people() + _edge_people()
    mapped = 0
    for n, (raw, role) in enumerate(people):
        for denied, print_ in zip(NOT_PERMITTED, PRINTS[n % 2 :], strict=False):
            mapped += map_person(raw, role, denied, print_) is not None
    assert len(built) == mapped > 500  # every person took the fast path


class _Label:
    """A label whose ``str`` is a ``str`` subclass (validation makes it a plain str)."""

    class Text(str):
        pass

    def __str__(self) -> str:
        return self.Text("odd")


@pytest.mark.parametrize(
    ("raw", "role", "print_"),
    [
        (STUDENT, "staff", None),  # a role given as text is validated into a Role
        (STUDENT, "student", "0" * 32),
        ({**STUDENT, _Label.Text("sub"): 1}, Role.STUDENT, None),  # a str subclass key
        (STUDENT, Role.STUDENT, "f" * 128),
        (STUDENT, Role.STUDENT, b"bytes"),  # validated into text
    ],
)
def test_values_validation_changes_are_validated(raw: Any, role: Any, print_: Any) -> None:
    """Inputs whose values validation would convert take the validated way (or are
    converted beforehand) and still equal the reference."""
    _same(map_person(raw, role, (), print_), reference_person(raw, role, (), print_))
    person = map_person(raw, role, (), print_)
    assert person is not None
    assert type(person.role) is Role
    assert all(type(k) is str for k in (*person.extras, *person.emails))


def test_labels_are_plain_text_as_validation_makes_them() -> None:
    labelled = mapping._labelled({_Label(): " a@b.c ", 7: "x", "p": " "})
    assert labelled == {"odd": "a@b.c", "7": "x"}
    validated = MISPerson(mis_id="A1", role=Role.STAFF, emails={_Label.Text("odd"): "a@b.c"})
    assert validated.emails == {"odd": "a@b.c"}
    assert [type(k) for k in validated.emails] == [str]
    assert [type(k) for k in labelled] == [str, str]


@pytest.mark.parametrize(
    ("raw", "print_"),
    [
        ({**STUDENT, 7: "a number key"}, None),
        (STUDENT, "f" * 129),
        (STUDENT, 5),
    ],
)
def test_invalid_values_fail_as_validation_does(raw: Any, print_: Any) -> None:
    """What validation refuses is refused with the very same error."""
    with pytest.raises(ValidationError) as expected:
        reference_person(raw, Role.STUDENT, (), print_)
    with pytest.raises(ValidationError) as got:
        map_person(raw, Role.STUDENT, (), print_)
    assert str(got.value) == str(expected.value)
    assert got.value.errors() == expected.value.errors()


def test_the_reference_sees_what_the_edge_cases_are_for() -> None:
    """The edge cases do reach the branches they are written for (so the equality above
    covers them): invalid dates, denied paths, every group kind, no-id records."""
    mapped = [reference_person(raw, role, NOT_PERMITTED[1]) for raw, role in _edge_people()]
    people = [p for p in mapped if p is not None]
    assert len(people) < len(mapped)
    assert any("updated_at" in p.extras.get("_invalid", {}) for p in people)
    assert any("date_of_birth" in p.extras.get("_invalid", {}) for p in people)
    assert any(p.extras.get("_not_permitted") for p in people)
    assert any(p.photo_hash for p in people)
    assert any(p.photo_hash is None for p in people)
    kinds = {g.kind for p in people for g in p.groups}
    assert kinds == set(GroupKind)
    stamps = {p.updated_at for p in people}
    assert datetime(2024, 5, 20, 4, 7, 4, 100000, tzinfo=UTC) in stamps  # "+0100" honoured


def test_cassette_and_emulator_records_are_real_people() -> None:
    assert {role for _, role in _cassette_people()} == {Role.STUDENT, Role.STAFF}
    mapped = [map_person(raw, role) for raw, role in _emulator_people()]
    assert all(p is not None and p.emails is not None for p in mapped)
