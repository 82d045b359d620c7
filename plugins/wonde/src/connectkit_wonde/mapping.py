"""Wonde records mapped into connectkit models.

People keep every raw Wonde field in ``extras`` with relations unwrapped (``{"data": x}``
becomes ``x``), so field mapping can reach ``contact_details.emails.primary`` and the like.
Values Wonde nulls because a scope is missing are listed in ``extras["_not_permitted"]``
(see :mod:`connectkit_wonde.scopes`); values present but unreadable are listed in
``extras["_invalid"]`` (field -> reason) and logged naming the record and field.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

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
    """``value`` as stripped text; None when it is None or blank."""
    if value is None:
        return None
    text = (value if type(value) is str else str(value)).strip()
    return text or None


def _labelled(values: Any) -> dict[str, str]:
    """The non-blank string values of a labelled block (``emails``, ``phones``), stripped,
    keyed by ``str(label)``; ``{}`` when ``values`` is not a mapping."""
    if type(values) is not dict and not isinstance(values, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, value in values.items():
        if type(value) is str and (text := value.strip()):
            out[key if type(key) is str else _label(key)] = text
    return out


def _label(key: Any) -> str:
    """``str(key)`` as a plain ``str`` (what validation makes of a ``str`` subclass)."""
    label = str(key)
    return label if type(label) is str else str.__str__(label)


def _unwrap(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` (same key order) with every relation unwrapped (``{"data": x}`` ->
    ``x``; only plain dicts are relations)."""
    out = dict(raw)
    for key, value in out.items():
        if type(value) is dict and "data" in value:
            out[key] = value["data"]  # replaces an existing key: the iteration stays valid
    return out


_MEMBERSHIPS: dict[GroupKind, dict[str, GroupMembership]] = {kind: {} for kind in GroupKind}
"""Shared memberships by kind, then group id (keyed by str: an enum's hash is Python code)."""


def membership(group_id: str, kind: GroupKind) -> GroupMembership:
    """A GroupMembership, shared between people (models are frozen, so sharing is safe)."""
    shared = _MEMBERSHIPS[kind]
    found = shared.get(group_id)
    if found is None:
        if len(shared) > 50_000:
            shared.clear()
        found = shared[group_id] = GroupMembership(group_id=group_id, kind=kind)
    return found


_NAMED = tuple(
    (name, kind, _MEMBERSHIPS[kind])
    for name, kind in (
        ("year", GroupKind.YEAR),
        ("registration", GroupKind.REGISTRATION),
        ("house", GroupKind.HOUSE),
    )
)
_TYPED = {raw_type: (kind, _MEMBERSHIPS[kind]) for raw_type, kind in _KINDS.items()}
"""Each exact type name ``group_kind`` knows, with its kind and that kind's shared memberships
(no known type is OTHER, so the staff default never applies to these)."""
_OTHER = _MEMBERSHIPS[GroupKind.OTHER]


def _memberships(values: Mapping[str, Any], role: Role) -> tuple[GroupMembership, ...]:
    """Memberships from a record whose relations are already unwrapped: ``year``,
    ``registration`` and ``house`` objects, then ``groups`` (a list, one object or one id
    string); each group id once, first occurrence wins; untyped staff groups are STAFF."""
    found: dict[str, GroupMembership] = {}
    for name, kind, shared in _NAMED:
        item = values.get(name)
        if isinstance(item, dict) and item.get("id"):
            ident = item["id"]
            if type(ident) is not str:
                ident = str(ident)
            if ident not in found:
                found[ident] = shared.get(ident) or membership(ident, kind)
    groups = values.get("groups")
    for group in groups if isinstance(groups, list) else ([groups] if groups else ()):
        if isinstance(group, dict) and group.get("id"):
            ident = group["id"]
            if type(ident) is not str:
                ident = str(ident)
            if ident not in found:
                raw_type = group.get("type")
                typed = _TYPED.get(raw_type) if type(raw_type) is str else None
                if typed is not None:
                    found[ident] = typed[1].get(ident) or membership(ident, typed[0])
                else:
                    found[ident] = membership(ident, _untyped_kind(raw_type, role))
        elif isinstance(group, str) and group not in found:
            found[group] = _OTHER.get(group) or membership(group, GroupKind.OTHER)
    return tuple(found.values())


def _untyped_kind(raw_type: Any, role: Role) -> GroupKind:
    """The kind of a group whose type is not an exact known name: ``group_kind``, except
    that a staff member's OTHER group is STAFF."""
    kind = group_kind(raw_type)
    if role is Role.STAFF and kind is GroupKind.OTHER:
        return GroupKind.STAFF
    return kind


def _safe(record_id: str, name: str, parse: Any, value: Any, invalid: dict[str, str]) -> Any:
    """``parse(value)``; on ValueError/TypeError None, with the reason in ``invalid[name]``
    and a warning naming the record and field."""
    try:
        return parse(value)
    except (ValueError, TypeError) as exc:
        invalid[name] = str(exc)
        log.warning(
            "Wonde record %s: field %s is unreadable (%s); left empty", record_id, name, exc
        )
        return None


MAPPING_REVISION = "2"
"""Part of every fingerprint: bump it whenever :func:`map_person` maps the same raw record
differently, or :func:`fingerprint` digests it differently, so the engine checks every
record again once. 2: the record's JSON bytes as received (1 digested the decoded record
with its keys sorted)."""


def fingerprinter(
    role: Role, not_permitted: Iterable[str] = ()
) -> Callable[[Mapping[str, Any] | bytes], str]:
    """:func:`fingerprint` for one page: the role and not-permitted paths are digested
    once, each record's source then only added to a copy of that state."""
    header = orjson.dumps([MAPPING_REVISION, str(role), sorted(not_permitted)])
    seed = _blake2b(header + b"\n", digest_size=16)

    def of(raw: Mapping[str, Any] | bytes) -> str:
        digest = seed.copy()
        digest.update(raw if isinstance(raw, bytes) else orjson.dumps(raw))
        return digest.hexdigest()

    return of


def fingerprint(
    raw: Mapping[str, Any] | bytes, role: Role, not_permitted: Iterable[str] = ()
) -> str:
    """The fingerprint of what :func:`map_person` maps a record from: the record's JSON
    bytes as received (or a decoded record, serialised in its own key order), the role,
    the not-permitted paths (sorted) and :data:`MAPPING_REVISION`.

    Equal for equal bytes. The same record sent with other whitespace, escaping or key
    order may fingerprint differently: that only costs a needless re-check ("changed"),
    never a missed change, and digesting the bytes as they came is what spares a re-run
    from serialising every record again."""
    return fingerprinter(role, not_permitted)(raw)


_blake2b = hashlib.blake2b


def map_person(
    raw: Mapping[str, Any],
    role: Role,
    not_permitted: Iterable[str] = (),
    fingerprint: str | None = None,
) -> MISPerson | None:
    """A Wonde student or employee as a MISPerson; None (with a warning) without an id.

    ``not_permitted`` are field paths this token may not read; those that came back null
    are listed in ``extras["_not_permitted"]``. ``fingerprint`` (see :func:`fingerprint`)
    is carried on the person when given.
    """
    get = raw.get
    record_id = _text(get("id"))
    if record_id is None:
        log.warning("Wonde %s record without an id skipped (mis_id %r)", role, get("mis_id"))
        return None
    extras = _unwrap(raw)
    photo = extras.pop("photo", None)
    contact = extras.get("contact_details")
    if isinstance(contact, dict):
        emails, phones = _labelled(contact.get("emails")), _labelled(contact.get("phones"))
    else:
        emails, phones = {}, {}
    if not_permitted:
        denied = [path for path in not_permitted if _is_null(extras, path)]
        if denied:
            extras["_not_permitted"] = sorted(set(denied))
    invalid: dict[str, str] = {}
    try:  # _safe, inlined for the common case that reads
        dob = parse_date(get("date_of_birth"))
    except (ValueError, TypeError):
        dob = _safe(record_id, "date_of_birth", parse_date, get("date_of_birth"), invalid)
    try:
        updated = parse_datetime(get("updated_at"))
    except (ValueError, TypeError):
        updated = _safe(record_id, "updated_at", parse_datetime, get("updated_at"), invalid)
    if invalid:
        extras["_invalid"] = invalid
    # _text inlined for the str case (the hot path): the same value as _text(value)
    forename = (v.strip() or None) if type(v := get("forename")) is str else _text(v)
    surname = (v.strip() or None) if type(v := get("surname")) is str else _text(v)
    legal_forename = (v.strip() or None) if type(v := get("legal_forename")) is str else _text(v)
    legal_surname = (v.strip() or None) if type(v := get("legal_surname")) is str else _text(v)
    # every field is given, in MISPerson's field order, so model_fields_set is all fields
    # (but fingerprint when it is None)
    fields: dict[str, Any] = {
        "mis_id": record_id,
        "role": role,
        "person_id": (v.strip() or None) if type(v := get("upi")) is str else _text(v),
        "mis_code": (v.strip() or None) if type(v := get("mis_id")) is str else _text(v),
        "first_name": legal_forename or forename,
        "last_name": legal_surname or surname,
        "preferred_first_name": forename,
        "preferred_last_name": surname,
        "middle_names": _text(get("middle_names")),
        "emails": emails,
        "phones": phones,
        "date_of_birth": dob,
        "groups": _memberships(extras, role),
        "photo_hash": _text(photo.get("hash")) if isinstance(photo, dict) else None,
        "updated_at": updated,
        "extras": extras,
        "fingerprint": fingerprint,
    }
    if (
        _TYPED_PERSON
        and type(role) is Role
        and (fingerprint is None or (type(fingerprint) is str and len(fingerprint) <= 128))
        and _PLAIN_STR.issuperset(map(type, extras))
    ):
        return _typed_person(fields, _SET_UNPRINTED if fingerprint is None else _SET_ALL)
    if fingerprint is None:
        del fields["fingerprint"]  # not given: a default, as before
    person: MISPerson = _validate_person(fields)
    return person


_validate_person = MISPerson.__pydantic_validator__.validate_python
"""What ``MISPerson(**fields)`` and ``MISPerson.model_validate(fields)`` run, without their
Python wrappers (MISPerson has no custom ``__init__``): the same validation, the same model."""

_FIELD_ORDER = (
    "mis_id", "role", "person_id", "mis_code", "first_name", "last_name",
    "preferred_first_name", "preferred_last_name", "middle_names", "emails", "phones",
    "date_of_birth", "groups", "photo_hash", "updated_at", "extras", "fingerprint",
)  # fmt: skip
_DECORATORS = MISPerson.__pydantic_decorators__
_TYPED_PERSON = (
    tuple(MISPerson.model_fields) == _FIELD_ORDER
    and MISPerson.model_config.get("extra") == "forbid"
    and not MISPerson.__pydantic_post_init__
    and not MISPerson.__private_attributes__
    and not MISPerson.__pydantic_root_model__
    and not any(
        (_DECORATORS.validators, _DECORATORS.field_validators, _DECORATORS.root_validators,
         _DECORATORS.model_validators)
    )
)  # fmt: skip
"""Whether :func:`_typed_person` may stand in for validation: MISPerson still has the
fields :func:`map_person` builds, in that order, and no validator, post-init hook or
private attribute of its own (checked once, at import; otherwise every person is validated).
A constraint added to a field's type is not seen here: ``tests/test_mapping.py`` compares
the two ways on every test record."""
_SET_ALL = _FIELD_ORDER
_SET_UNPRINTED = _FIELD_ORDER[:-1]
"""The fields set, with and without a fingerprint, in field order: validation adds each to
the set in that order, and the same insertions give a set that iterates the same way."""
_PLAIN_STR = frozenset((str,))
_new_object = object.__new__
_set_slot = object.__setattr__


def _typed_person(fields: dict[str, Any], fields_set: tuple[str, ...]) -> MISPerson:
    """The MISPerson ``_validate_person(fields)`` gives, built as ``model_construct`` does
    (no validation): ``fields`` must hold every field, in MISPerson's order, each already of
    the exact type validation would give (what :func:`map_person` builds, when ``role`` is
    a Role, ``fingerprint`` None or at most 128 characters and every key of ``extras`` a
    plain ``str``); ``fields_set`` is the names validation would record as given, in
    field order.

    ``fields`` becomes the model's ``__dict__`` (validation would copy the three mappings;
    map_person's are its own). Equal to validation in every respect tests can see: values,
    their types, field order, fields set, ``repr``, dumps and pickles."""
    person: MISPerson = _new_object(MISPerson)
    _set_slot(person, "__dict__", fields)
    _set_slot(person, "__pydantic_fields_set__", set(fields_set))
    _set_slot(person, "__pydantic_extra__", None)
    _set_slot(person, "__pydantic_private__", None)
    return person


def _is_null(raw: Mapping[str, Any], path: str) -> bool:
    """True when ``path`` is present in ``raw`` and null (an absent key is not null)."""
    if "." not in path:  # relation(raw[path]) is None, inlined
        return path in raw and (
            (value := raw[path]) is None
            or (isinstance(value, dict) and "data" in value and value["data"] is None)
        )
    value = raw
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
