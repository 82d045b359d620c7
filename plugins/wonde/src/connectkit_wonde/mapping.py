"""Wonde records mapped into connectkit models.

People keep every raw Wonde field in ``extras`` with relations unwrapped (``{"data": x}``
becomes ``x``), so field mapping can reach ``contact_details.emails.primary`` and the like.
Values Wonde nulls because a scope is missing are listed in ``extras["_not_permitted"]``
(see :mod:`connectkit_wonde.scopes`); values present but unreadable are listed in
``extras["_invalid"]`` (field -> reason) and logged naming the record and field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from connectkit.models import (
    AttendanceCode,
    GroupKind,
    GroupMembership,
    MISDeletion,
    MISGroup,
    MISPerson,
    Role,
)
from connectkit_wonde.parse import parse_date, parse_datetime, relation

log = logging.getLogger("connectkit_wonde")

_KINDS = {
    "YEAR": GroupKind.YEAR,
    "REGISTRATION": GroupKind.REGISTRATION,
    "FORM": GroupKind.REGISTRATION,
    "TUTOR": GroupKind.REGISTRATION,
    "HOUSE": GroupKind.HOUSE,
    "STAFF": GroupKind.STAFF,
    "DEPARTMENT": GroupKind.STAFF,
    "STAFF_GROUP": GroupKind.STAFF,
    "CLASS": GroupKind.CLASS,
}

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "preferred_first_name",
    "preferred_last_name",
    "middle_names",
    "emails.primary",
    "emails.email",
    "emails.home",
    "emails.work",
    "phones.primary",
    "phones.phone",
    "phones.mobile",
    "phones.home",
    "phones.work",
    "date_of_birth",
    "mis_code",
    "person_id",
    "forename",
    "surname",
    "legal_forename",
    "legal_surname",
    "initials",
    "title",
    "gender",
    "contact_details.emails.primary",
    "contact_details.emails.email",
    "contact_details.emails.home",
    "contact_details.emails.work",
    "contact_details.phones.primary",
    "contact_details.phones.phone",
    "contact_details.phones.mobile",
    "contact_details.phones.home",
    "contact_details.phones.work",
)
STUDENT_FIELDS = (*PERSON_FIELDS, "year.name", "year.code", "extended_details", "education_details")
STAFF_FIELDS = (*PERSON_FIELDS, "employment_details.role_text", "employment_details.teaching_staff")


def group_kind(raw_type: Any) -> GroupKind:
    """A Wonde group ``type`` (free text) as a GroupKind; OTHER when unknown."""
    if isinstance(raw_type, str) and raw_type in _KINDS:
        return _KINDS[raw_type]
    return _KINDS.get(str(raw_type or "").strip().upper().replace(" ", "_"), GroupKind.OTHER)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = (value if type(value) is str else str(value)).strip()
    return text or None


def _labelled(values: Any) -> dict[str, str]:
    """The non-blank string values of a labelled block (``emails``, ``phones``), stripped."""
    if not isinstance(values, Mapping):
        return {}
    return {
        str(key): text
        for key, value in values.items()
        if type(value) is str and (text := value.strip())
    }


def _unwrap(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` with every relation unwrapped (``{"data": x}`` -> ``x``)."""
    return {k: (v["data"] if type(v) is dict and "data" in v else v) for k, v in raw.items()}


_MEMBERSHIPS: dict[tuple[str, GroupKind], GroupMembership] = {}


def membership(group_id: str, kind: GroupKind) -> GroupMembership:
    """A GroupMembership, shared between people (models are frozen, so sharing is safe)."""
    key = (group_id, kind)
    found = _MEMBERSHIPS.get(key)
    if found is None:
        if len(_MEMBERSHIPS) > 50_000:
            _MEMBERSHIPS.clear()
        found = _MEMBERSHIPS[key] = GroupMembership(group_id=group_id, kind=kind)
    return found


_NAMED = (
    ("year", GroupKind.YEAR),
    ("registration", GroupKind.REGISTRATION),
    ("house", GroupKind.HOUSE),
)


def _memberships(values: Mapping[str, Any], role: Role) -> tuple[GroupMembership, ...]:
    """Memberships from a record whose relations are already unwrapped."""
    found: dict[str, GroupMembership] = {}
    for name, kind in _NAMED:
        item = values.get(name)
        if isinstance(item, dict) and item.get("id"):
            ident = str(item["id"])
            if ident not in found:
                found[ident] = membership(ident, kind)
    groups = values.get("groups")
    for group in groups if isinstance(groups, list) else ([groups] if groups else []):
        if isinstance(group, dict) and group.get("id"):
            ident = str(group["id"])
            if ident not in found:
                kind = group_kind(group.get("type"))
                if role is Role.STAFF and kind is GroupKind.OTHER:
                    kind = GroupKind.STAFF
                found[ident] = membership(ident, kind)
        elif isinstance(group, str) and group not in found:
            found[group] = membership(group, GroupKind.OTHER)
    return tuple(found.values())


def _safe(record_id: str, name: str, parse: Any, value: Any, invalid: dict[str, str]) -> Any:
    try:
        return parse(value)
    except (ValueError, TypeError) as exc:
        invalid[name] = str(exc)
        log.warning(
            "Wonde record %s: field %s is unreadable (%s); left empty", record_id, name, exc
        )
        return None


def map_person(
    raw: Mapping[str, Any], role: Role, not_permitted: Iterable[str] = ()
) -> MISPerson | None:
    """A Wonde student or employee as a MISPerson; None (with a warning) without an id.

    ``not_permitted`` are field paths this token may not read; those that came back null
    are listed in ``extras["_not_permitted"]``.
    """
    record_id = _text(raw.get("id"))
    if record_id is None:
        log.warning("Wonde %s record without an id skipped (mis_id %r)", role, raw.get("mis_id"))
        return None
    extras = _unwrap(raw)
    photo = extras.pop("photo", None)
    contact = extras.get("contact_details")
    if not isinstance(contact, dict):
        contact = {}
    invalid: dict[str, str] = {}
    denied = [path for path in not_permitted if _is_null(extras, path)]
    if denied:
        extras["_not_permitted"] = sorted(set(denied))
    dob = _safe(record_id, "date_of_birth", parse_date, raw.get("date_of_birth"), invalid)
    updated = _safe(record_id, "updated_at", parse_datetime, raw.get("updated_at"), invalid)
    if invalid:
        extras["_invalid"] = invalid
    forename, surname = _text(raw.get("forename")), _text(raw.get("surname"))
    return MISPerson(
        mis_id=record_id,
        role=role,
        person_id=_text(raw.get("upi")),
        mis_code=_text(raw.get("mis_id")),
        first_name=_text(raw.get("legal_forename")) or forename,
        last_name=_text(raw.get("legal_surname")) or surname,
        preferred_first_name=forename,
        preferred_last_name=surname,
        middle_names=_text(raw.get("middle_names")),
        emails=_labelled(contact.get("emails")),
        phones=_labelled(contact.get("phones")),
        date_of_birth=dob,
        groups=_memberships(extras, role),
        photo_hash=_text(photo.get("hash")) if isinstance(photo, dict) else None,
        updated_at=updated,
        extras=extras,
    )


def _is_null(raw: Mapping[str, Any], path: str) -> bool:
    """True when ``path`` is present in ``raw`` and null (an absent key is not null)."""
    if "." not in path:
        return path in raw and relation(raw[path]) is None
    value: Any = raw
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = relation(value[part])
        if value is None:
            return True
    return False


def map_group(raw: Mapping[str, Any]) -> MISGroup | None:
    """A Wonde group as a MISGroup (staff-type groups get ``role=staff``)."""
    ident = _text(raw.get("id"))
    if ident is None:
        log.warning("Wonde group without an id skipped (name %r)", raw.get("name"))
        return None
    kind = group_kind(raw.get("type"))
    name = _text(raw.get("name")) or _text(raw.get("description")) or ident
    return MISGroup(
        id=ident,
        name=name,
        kind=kind,
        code=_text(raw.get("code")) or _text(raw.get("mis_id")),
        role=Role.STAFF if kind is GroupKind.STAFF else Role.STUDENT,
    )


def deletion_role(raw_type: Any) -> Role | None:
    """The role a deletion ``type`` concerns; None for non-person types (group, class…)."""
    text = str(raw_type or "").lower()
    if text.startswith("student") or text in {"pupil", "leaver", "pre_admission"}:
        return Role.STUDENT
    if text.startswith("employee") or text == "staff":
        return Role.STAFF
    return None


def map_deletion(raw: Mapping[str, Any]) -> MISDeletion | None:
    """A person deletion (or restoration); None for other types or unusable entries."""
    role = deletion_role(raw.get("type"))
    ident = _text(raw.get("id"))
    if role is None or ident is None:
        return None
    try:
        deleted = parse_datetime(raw.get("deleted_at"))
        restored = parse_datetime(raw.get("restored_at"))
    except ValueError as exc:
        log.warning("Wonde deletion %s: field deleted_at/restored_at unreadable (%s)", ident, exc)
        return None
    if deleted is None:
        log.warning("Wonde deletion %s: field deleted_at is missing; skipped", ident)
        return None
    return MISDeletion(
        mis_id=ident,
        role=role,
        deleted_at=deleted,
        restored_at=restored,
        person_id=_text(raw.get("upi")),
    )


def map_attendance_code(raw: Mapping[str, Any]) -> AttendanceCode | None:
    """A Wonde attendance code; None (with a warning naming it) when unusable."""
    code = _text(raw.get("code"))
    if code is None or len(code) > 8:
        log.warning(
            "Wonde attendance code %s: field code %r unusable; skipped", raw.get("id"), code
        )
        return None
    return AttendanceCode(
        code=code,
        description=_text(raw.get("description")) or code,
        meaning=_text(raw.get("type")),
        mis_id=_text(raw.get("id")),
    )
