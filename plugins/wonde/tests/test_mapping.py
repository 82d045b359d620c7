"""Mapping Wonde payloads (shapes from the reference, values made up) into models."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from connectkit.models import GroupKind, Role
from connectkit_wonde.mapping import (
    deletion_role,
    group_kind,
    map_attendance_code,
    map_deletion,
    map_group,
    map_person,
)

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
