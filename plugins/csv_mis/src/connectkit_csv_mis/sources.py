"""The interface the connector needs from an export, and the factory choosing one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from connectkit.models import MISGroup, Role, SchoolInfo
from connectkit_csv_mis.generic_source import GenericSource
from connectkit_csv_mis.oneroster.source import OneRosterSource
from connectkit_csv_mis.pages import ChunkMapper
from connectkit_csv_mis.reader import CsvFile
from connectkit_csv_mis.settings import Settings


class PeopleSource(Protocol):
    """A generic export or a OneRoster bundle."""

    def open(self, role: Role) -> AbstractContextManager[tuple[CsvFile, ChunkMapper]]: ...

    def signature(self, role: Role) -> str: ...

    def full(self, role: Role) -> bool: ...

    def school(self) -> SchoolInfo: ...

    def group_names(self) -> dict[str, str]: ...

    def listed_groups(self) -> Iterator[MISGroup] | None: ...


def make_source(settings: Settings, state_dir: Path) -> PeopleSource:
    """The source for ``settings.mode``."""
    if settings.mode == "oneroster":
        return OneRosterSource(settings, state_dir)
    return GenericSource(settings)
