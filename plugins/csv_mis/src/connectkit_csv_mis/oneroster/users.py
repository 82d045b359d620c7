"""Rows of ``users.csv`` -> :class:`MISPerson`, joined with roles, enrollments, demographics.

1.1 reads the role from ``users.role`` (and orgs from ``orgSourcedIds``); 1.2 from
``roles.csv`` (the ``primary`` role wins, other staff roles become more staff groups).
Grades become year groups (``grade_labels`` renames them), homeroom classes registration
groups, other classes class groups, ``demographics.birthDate`` the date of birth.
In a delta file ``status = tobedeleted`` yields a tombstone instead of a person.
The ``password`` column is dropped: it never reaches extras, logs or the store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit_csv_mis.mapped import Mapped
from connectkit_csv_mis.oneroster.headers import columns
from connectkit_csv_mis.oneroster.index import BundleIndex
from connectkit_csv_mis.oneroster.spec import STAFF_ROLES, STUDENT_ROLES
from connectkit_csv_mis.reader import CsvFile
from connectkit_csv_mis.values import (
    header_paths,
    parse_date,
    parse_timestamp,
    raw_extras,
    row_hash,
    split_values,
)

log = logging.getLogger(__name__)


def role_of(roles: Sequence[tuple[str, str]]) -> Role | None:
    """The connectkit role of ``(role, roleType)`` pairs; primary first; None: not imported."""
    ordered = sorted(roles, key=lambda pair: pair[1] != "primary")
    for name, _ in ordered:
        if name in STUDENT_ROLES:
            return Role.STUDENT
        if name in STAFF_ROLES:
            return Role.STAFF
    return None


def _live_roles(rows: list[tuple[str, ...]]) -> list[tuple[str, str]]:
    """``(role, roleType)`` of the active role rows; all of them when every one is deleted."""
    live = [row for row in rows if row[3] != "tobedeleted"] or rows
    return [(row[0], row[1]) for row in live]


class UsersMapper:
    """Maps chunks of ``users.csv`` rows for one role."""

    def __init__(
        self,
        csv_file: CsvFile,
        version: str,
        index: BundleIndex,
        role: Role,
        grade_labels: Mapping[str, str],
    ) -> None:
        self.file = csv_file
        self.version = version
        self.index = index
        self.role = role
        self.grade_labels = grade_labels
        self.at = columns(csv_file, version, "users.csv")
        self._paths = header_paths(csv_file.header)

    def _cell(self, row: list[str], name: str) -> str:
        at = self.at.get(name)
        return row[at].strip() if at is not None else ""

    def map_chunk(self, chunk: Sequence[tuple[int, list[str]]]) -> list[Mapped]:
        ids = [self._cell(row, "sourcedId") for _, row in chunk]
        roles = self._roles(chunk, ids)
        enrolled = self.index.lookup("enrollments", ids)
        births = self.index.lookup("demographics", ids)
        class_ids = list({e[0] for rows in enrolled.values() for e in rows})
        classes = self.index.lookup("classes", class_ids)
        out: list[Mapped] = []
        for (line, row), mis_id in zip(chunk, ids, strict=True):
            pairs = roles.get(mis_id, [])
            if not mis_id or role_of(pairs) is not self.role:
                continue
            row_time = self._time(line, row)
            if self._cell(row, "status") == "tobedeleted":
                out.append(Mapped(mis_id, line, "", None, row_time, tombstone=True))
                continue
            groups = self._groups(row, pairs, enrolled.get(mis_id, []), classes)
            person = self._person(row, mis_id, groups, births.get(mis_id, []), row_time)
            out.append(Mapped(mis_id, line, row_hash(row), person, row_time))
        return out

    def _roles(
        self, chunk: Sequence[tuple[int, list[str]]], ids: list[str]
    ) -> dict[str, list[tuple[str, str]]]:
        if "role" in self.at:
            return {
                mis_id: [(self._cell(row, "role"), "primary")]
                for (_, row), mis_id in zip(chunk, ids, strict=True)
            }
        found = self.index.lookup("roles", ids)
        return {key: _live_roles(rows) for key, rows in found.items()}

    def _groups(
        self,
        row: list[str],
        roles: list[tuple[str, str]],
        enrolments: list[tuple[str, ...]],
        classes: dict[str, list[tuple[str, ...]]],
    ) -> tuple[GroupMembership, ...]:
        groups: list[GroupMembership] = []
        if self.role is Role.STUDENT:
            for grade in split_values(self._cell(row, "grades"), ","):
                label = self.grade_labels.get(grade, grade)
                groups.append(GroupMembership(group_id=label, kind=GroupKind.YEAR))
        else:
            for name in dict.fromkeys(r for r, _ in roles if r in STAFF_ROLES):
                groups.append(GroupMembership(group_id=name, kind=GroupKind.STAFF))
        for class_id, *_ in enrolments:
            kind = GroupKind.CLASS
            if any(c[1] == "homeroom" for c in classes.get(class_id, [])):
                kind = GroupKind.REGISTRATION
            groups.append(GroupMembership(group_id=class_id, kind=kind))
        return tuple(dict.fromkeys(groups))

    def _person(
        self,
        row: list[str],
        mis_id: str,
        groups: tuple[GroupMembership, ...],
        births: list[tuple[str, ...]],
        row_time: datetime | None,
    ) -> MISPerson:
        cell = self._cell
        extras = raw_extras(self.file.header, self._paths, row)
        extras.pop("password", None)  # a credential, never passed on or stored
        orgs = split_values(cell(row, "orgSourcedIds") or cell(row, "primaryOrgSourcedId"), ",")
        extras["orgs"] = orgs
        return MISPerson(
            mis_id=mis_id,
            role=self.role,
            person_id=cell(row, "userMasterIdentifier") or None,
            mis_code=cell(row, "identifier") or None,
            first_name=cell(row, "givenName") or None,
            last_name=cell(row, "familyName") or None,
            preferred_first_name=cell(row, "preferredGivenName") or None,
            preferred_last_name=cell(row, "preferredFamilyName") or None,
            middle_names=cell(row, "middleName") or None,
            emails={"primary": cell(row, "email")} if cell(row, "email") else {},
            phones={
                k: v
                for k, v in (("primary", cell(row, "phone")), ("mobile", cell(row, "sms")))
                if v
            },
            date_of_birth=self._birth(mis_id, births),
            groups=groups,
            updated_at=row_time,
            extras=extras,
        )

    def _birth(self, mis_id: str, births: list[tuple[str, ...]]) -> date | None:
        for (text,) in births:
            try:
                return parse_date(text)
            except ValueError:
                log.warning(
                    "demographics.csv: record %s, field birthDate: not a YYYY-MM-DD "
                    "date; left empty",
                    mis_id,
                )
        return None

    def _time(self, line: int, row: list[str]) -> datetime | None:
        try:
            return parse_timestamp(self._cell(row, "dateLastModified"))
        except ValueError:
            log.warning(
                "%s: line %d: dateLastModified is not an ISO 8601 time; ignored",
                self.file.name,
                line,
            )
            return None
