"""The files of a plain MIS export (students, staff, optional groups) as a people source."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectkit.errors import BadResponseError
from connectkit.models import GroupKind, MISGroup, Role, SchoolInfo
from connectkit_csv_mis.generic import GenericMapper
from connectkit_csv_mis.pages import ChunkMapper
from connectkit_csv_mis.paths import existing_file
from connectkit_csv_mis.reader import CsvFile, Source, open_csv
from connectkit_csv_mis.settings import ROLE_KEYS, Settings


class GenericSource:
    """Students and staff files read through the column map."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def path(self, role: Role) -> Path:
        return existing_file(self.settings.root, self.settings.files[role], ROLE_KEYS[role])

    def csv(self, path: Path) -> Source:
        return Source.from_path(path)

    @contextmanager
    def open_file(self, path: Path) -> Iterator[CsvFile]:
        s = self.settings
        with open_csv(self.csv(path), s.encoding, s.delimiter, s.max_line_bytes) as csv_file:
            yield csv_file

    @contextmanager
    def open(self, role: Role) -> Iterator[tuple[CsvFile, ChunkMapper]]:
        s = self.settings
        with self.open_file(self.path(role)) as csv_file:
            mapper = GenericMapper(csv_file, role, s.columns[role], s.separator, s.date_format)
            yield csv_file, mapper

    def signature(self, role: Role) -> str:
        stat = self.path(role).stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    def full(self, role: Role) -> bool:
        return True

    def school(self) -> SchoolInfo:
        s = self.settings
        return SchoolInfo(id=s.school_id or s.root.name, name=s.school_name or s.root.name)

    def group_names(self) -> dict[str, str]:
        return {}

    def listed_groups(self) -> Iterator[MISGroup] | None:
        """Groups from the optional groups file (``id,name,kind[,code,role]``), else None."""
        if not self.settings.groups_file:
            return None
        return self._read_groups(
            existing_file(self.settings.root, self.settings.groups_file, "groups")
        )

    def _read_groups(self, path: Path) -> Iterator[MISGroup]:
        with self.open_file(path) as csv_file:
            at = {key: csv_file.index(key, "groups") for key in ("id", "name", "kind")}
            code = csv_file.header.index("code") if "code" in csv_file.header else None
            role = csv_file.header.index("role") if "role" in csv_file.header else None
            for row in csv_file.rows():
                try:
                    kind = GroupKind(row[at["kind"]].strip().lower())
                    owner = Role(row[role].strip().lower()) if role is not None else None
                except ValueError as exc:
                    raise BadResponseError(f"{csv_file.where()}: {exc}") from None
                yield MISGroup(
                    id=row[at["id"]].strip(),
                    name=row[at["name"]].strip(),
                    kind=kind,
                    code=(row[code].strip() or None) if code is not None else None,
                    role=owner or (Role.STAFF if kind is GroupKind.STAFF else Role.STUDENT),
                )
