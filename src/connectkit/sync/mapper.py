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

from collections.abc import Callable, Mapping
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
        self._getters: tuple[tuple[str, Callable[[MISPerson], Any]], ...] = tuple(
            (target, _getter(path)) for target, path in self.fields.items()
        )
        self._blank: dict[str, str | None] = dict.fromkeys(DIRECTORY_FIELDS)

    @property
    def enabled(self) -> bool:
        """A population with no mapped group imports nobody (R2.1)."""
        return bool(self.groups)

    def apply(self, person: MISPerson) -> Mapped:
        """Map ``person``; never raises (bad values are the validator's to judge)."""
        fields = self._blank.copy()
        for target, get in self._getters:
            fields[target] = _text(get(person))
        groups = self.groups
        matched = [g.group_id for g in person.groups if g.group_id in groups]
        types = (
            (groups[matched[0]],) if len(matched) == 1
            else tuple(sorted({groups[g] for g in matched}))
        )  # fmt: skip
        return Mapped(
            mis_id=person.mis_id,
            role=self.role,
            person_id=person.person_id,
            mis_code=person.mis_code,
            fields=fields,
            user_types=types,
            groups=tuple(sorted(matched)),
            fingerprint=person.fingerprint,
        )


def compile_mapping(mapping: Mapping[str, Any]) -> dict[Role, PopulationMap]:
    """One :class:`PopulationMap` per role from the stored mapping JSON."""
    return {role: PopulationMap(role, mapping.get(key)) for role, key in POPULATION.items()}


def _getter(path: tuple[str, ...]) -> Callable[[MISPerson], Any]:
    """A resolver for ``path`` built once per mapping: the same answers as
    :func:`resolve`, without re-deciding per record where the path starts."""
    head, rest = path[0], path[1:]
    if head not in _ATTRIBUTES:
        head, rest = "extras", path
    if not rest:
        return lambda person: getattr(person, head)
    if len(rest) == 1:
        key = rest[0]

        def one(person: MISPerson) -> Any:
            value = getattr(person, head)
            return value.get(key) if isinstance(value, Mapping) else None

        return one
    return lambda person: _walk(getattr(person, head), rest)


def _walk(value: Any, rest: tuple[str, ...]) -> Any:
    for segment in rest:
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


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
