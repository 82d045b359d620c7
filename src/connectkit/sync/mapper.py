"""Apply an integration's mapping (R2) to one MIS record.

The mapping is the ``[integrations.mapping]`` shape: per population (``students`` /
``staff``) a ``fields`` table (MIS field path -> directory field), a ``groups`` table
(MIS group id -> user type name) and, for students, the sign-in ``area``. Whether a
mapping is *valid* (one MIS field per directory field, known groups ...) is checked
when it is saved (``mapping_rules``); here it is only applied.

Field paths: the first segment names a :class:`~connectkit.models.MISPerson` attribute
and later segments go into mappings (``emails.primary``); a first segment that is not an
attribute resolves inside ``MISPerson.extras`` (``contact_details.emails.primary``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectkit.models import MISPerson, Role

DIRECTORY_FIELDS = ("first_name", "last_name", "email", "phone")
POPULATION = {Role.STUDENT: "students", Role.STAFF: "staff"}
_ATTRIBUTES = frozenset(MISPerson.model_fields) - {"extras"}


@dataclass(frozen=True)
class Mapped:
    """One record after mapping.

    ``fields`` holds every directory field (unmapped ones are None); ``user_types`` the
    distinct user types of the person's mapped groups, sorted (empty: not imported; more
    than one: the "groups" error).
    """

    mis_id: str
    role: Role
    person_id: str | None
    mis_code: str | None
    fields: dict[str, str | None]
    user_types: tuple[str, ...]
    groups: tuple[str, ...]
    fingerprint: str | None = None
    """The connector's fingerprint of the record's source (``MISPerson.fingerprint``)."""


_MAPPED_FIELDS = ("mis_id", "role", "person_id", "mis_code", "fields", "user_types", "groups",
                  "fingerprint")  # fmt: skip
"""The fields :meth:`PopulationMap.apply` sets, in order: it builds each Mapped as
``Mapped(**values)`` would (the same ``__dict__``, so the same equality, hash, repr and
pickle) without the frozen dataclass's ``__init__``, which sets each field through
``object.__setattr__`` (called by keyword, it cost a third of ``apply``). Checked at
import: a new field or a ``__post_init__`` fails loudly rather than building incomplete
records."""
if (
    tuple(field.name for field in dataclasses.fields(Mapped)) != _MAPPED_FIELDS
    or hasattr(Mapped, "__post_init__")
):  # fmt: skip
    raise RuntimeError("Mapped changed: update PopulationMap.apply and _MAPPED_FIELDS")
_new_object = object.__new__
_set_slot = object.__setattr__


class PopulationMap:
    """The compiled mapping of one population (role)."""

    def __init__(self, role: Role, section: Mapping[str, Any] | None) -> None:
        section = section or {}
        self.role = role
        self.area: str | None = section.get("area") if role is Role.STUDENT else None
        self.fields: dict[str, tuple[str, ...]] = {
            target: tuple(path.split("."))
            for path, target in (section.get("fields") or {}).items()
            if target in DIRECTORY_FIELDS
        }
        self.groups: dict[str, str] = dict(section.get("groups") or {})
        self._paths: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
            (target, *_start(path)) for target, path in self.fields.items()
        )
        self._blank: dict[str, str | None] = dict.fromkeys(DIRECTORY_FIELDS)

    @property
    def enabled(self) -> bool:
        """A population with no mapped group imports nobody (R2.1)."""
        return bool(self.groups)

    def apply(self, person: MISPerson) -> Mapped:
        """Map ``person``; never raises (bad values are the validator's to judge)."""
        fields = self._blank.copy()
        for target, head, rest in self._paths:  # resolve(person, path), inlined
            value = getattr(person, head)
            for segment in rest:
                if type(value) is not dict and not isinstance(value, Mapping):
                    value = None
                    break
                value = value.get(segment)
            if type(value) is str:  # _text(value), inlined for text
                fields[target] = value if value.strip() else None
            else:
                fields[target] = _text(value)
        groups = self.groups
        matched = [i for g in person.groups if (i := g.group_id) in groups]
        if len(matched) < 2:  # nothing to sort: the same tuples as the general case below
            types: tuple[str, ...] = (groups[matched[0]],) if matched else ()
            found = tuple(matched)
        else:
            types = tuple(sorted({groups[g] for g in matched}))
            found = tuple(sorted(matched))
        mapped: Mapped = _new_object(Mapped)  # see _MAPPED_FIELDS
        _set_slot(
            mapped,
            "__dict__",
            {
                "mis_id": person.mis_id,
                "role": self.role,
                "person_id": person.person_id,
                "mis_code": person.mis_code,
                "fields": fields,
                "user_types": types,
                "groups": found,
                "fingerprint": person.fingerprint,
            },
        )
        return mapped


def compile_mapping(mapping: Mapping[str, Any]) -> dict[Role, PopulationMap]:
    """One :class:`PopulationMap` per role from the stored mapping JSON."""
    return {role: PopulationMap(role, mapping.get(key)) for role, key in POPULATION.items()}


def _start(path: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Where :func:`resolve` starts ``path``: (the MISPerson attribute, the keys after it),
    decided once per mapping rather than per record."""
    if path[0] in _ATTRIBUTES:
        return path[0], path[1:]
    return "extras", path


def resolve(person: MISPerson, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``person`` (None when any segment is missing)."""
    head, rest = path[0], path[1:]
    if head in _ATTRIBUTES:
        value: Any = getattr(person, head)
    else:
        value, rest = person.extras, path
    for segment in rest:
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


def _text(value: Any) -> str | None:
    """Directory fields are text: dates become ISO strings, containers are not values."""
    if type(value) is str:
        return value if value.strip() else None
    if value is None or isinstance(value, Mapping | list | tuple):
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None
