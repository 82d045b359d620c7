"""A row of a plain MIS export -> :class:`MISPerson`, through the configured column map."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from connectkit.errors import BadResponseError
from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit_csv_mis.mapped import Mapped
from connectkit_csv_mis.reader import CsvFile
from connectkit_csv_mis.settings import ROLE_KEYS
from connectkit_csv_mis.values import (
    header_paths,
    parse_date,
    parse_timestamp,
    raw_extras,
    row_hash,
    split_values,
)

log = logging.getLogger(__name__)

GROUP_COLUMNS: tuple[tuple[str, GroupKind], ...] = (
    ("year_group", GroupKind.YEAR),
    ("registration_group", GroupKind.REGISTRATION),
    ("house", GroupKind.HOUSE),
    ("staff_group", GroupKind.STAFF),
)
_NAMES = (
    "first_name",
    "last_name",
    "preferred_first_name",
    "preferred_last_name",
    "middle_names",
    "mis_code",
    "person_id",
)


class GenericMapper:
    """Maps rows of one open export for one role; column positions resolved once."""

    def __init__(
        self,
        csv_file: CsvFile,
        role: Role,
        columns: Mapping[str, str],
        separator: str = "|",
        date_format: str = "%Y-%m-%d",
    ) -> None:
        self.file = csv_file
        self.role = role
        self.at = {
            key: csv_file.index(col, f"columns.{ROLE_KEYS[role]}.{key}")
            for key, col in columns.items()
        }
        self.separator = separator
        self.date_format = date_format
        self._paths = header_paths(csv_file.header)
        self._group_columns = [
            (self.at[key], kind) for key, kind in GROUP_COLUMNS if key in self.at
        ]
        self._memberships: dict[tuple[str, GroupKind], GroupMembership] = {}
        self._names = [(key, self.at[key]) for key in _NAMES if key in self.at]

    def map_chunk(self, chunk: Sequence[tuple[int, list[str]]]) -> list[Mapped]:
        """Map ``(line, row)`` pairs; every row of a plain export is a person."""
        return [self.map_row(line, row) for line, row in chunk]

    def map_row(self, line: int, row: list[str]) -> Mapped:
        at = self.at
        mis_id = row[at["mis_id"]].strip()
        if not mis_id:
            raise BadResponseError(
                f"{self.file.name}: line {line}, column {at['mis_id'] + 1} "
                f"({self.file.header[at['mis_id']]!r}): the MIS id is empty"
            )
        row_time = self._timestamp(line, row)
        person = MISPerson(
            mis_id=mis_id,
            role=self.role,
            **{key: (row[column].strip() or None) for key, column in self._names},
            emails=self._labelled("email", row),
            phones=self._labelled("phone", row),
            date_of_birth=self._date(line, row),
            groups=self._groups(row),
            updated_at=row_time,
            extras=raw_extras(self.file.header, self._paths, row),
        )
        return Mapped(mis_id, line, row_hash(row), person, row_time)

    def _labelled(self, key: str, row: list[str]) -> dict[str, str]:
        column = self.at.get(key)
        value = row[column].strip() if column is not None else ""
        return {"primary": value} if value else {}

    def _groups(self, row: list[str]) -> tuple[GroupMembership, ...]:
        found: list[GroupMembership] = []
        for column, kind in self._group_columns:
            for value in split_values(row[column], self.separator):
                found.append(self._membership(value, kind))
        return tuple(found)

    def _membership(self, group_id: str, kind: GroupKind) -> GroupMembership:
        """Memberships are immutable and few: built (validated) once per group and kind."""
        key = (group_id, kind)
        membership = self._memberships.get(key)
        if membership is None:
            membership = GroupMembership(group_id=group_id, kind=kind)
            if len(self._memberships) < 10_000:
                self._memberships[key] = membership
        return membership

    def _date(self, line: int, row: list[str]) -> date | None:
        if "date_of_birth" not in self.at:
            return None
        value: date | None = self._parsed(line, row, "date_of_birth", self._parse_date)
        return value

    def _parse_date(self, text: str) -> date | None:
        return parse_date(text, self.date_format)

    def _timestamp(self, line: int, row: list[str]) -> datetime | None:
        if "updated_at" not in self.at:
            return None
        value: datetime | None = self._parsed(line, row, "updated_at", parse_timestamp)
        return value

    def _parsed(self, line: int, row: list[str], key: str, parse: Any) -> Any:
        if key not in self.at:
            return None
        column = self.at[key]
        try:
            return parse(row[column])
        except ValueError:
            log.warning(
                "%s: line %d, column %d (%r): not a valid %s; left empty",
                self.file.name,
                line,
                column + 1,
                self.file.header[column],
                key,
            )
            return None
