"""A OneRoster bundle as a people source (same interface as the generic one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectkit.models import MISGroup, Role, SchoolInfo
from connectkit_csv_mis.oneroster.bundle import Bundle
from connectkit_csv_mis.oneroster.index import BundleIndex
from connectkit_csv_mis.oneroster.manifest import Manifest, read_manifest
from connectkit_csv_mis.oneroster.users import UsersMapper
from connectkit_csv_mis.pages import ChunkMapper
from connectkit_csv_mis.paths import resolve_inside
from connectkit_csv_mis.reader import CsvFile, open_csv
from connectkit_csv_mis.settings import Settings


class OneRosterSource:
    """users.csv of a bundle, joined through a :class:`BundleIndex` in ``state_dir``."""

    def __init__(self, settings: Settings, state_dir: Path) -> None:
        assert settings.bundle is not None
        self.settings = settings
        self.state_dir = state_dir
        self.path = resolve_inside(settings.root, settings.bundle, "bundle")

    @contextmanager
    def bundle(self) -> Iterator[tuple[Bundle, Manifest]]:
        with Bundle(self.path) as bundle:
            yield bundle, self._manifest(bundle)

    def _manifest(self, bundle: Bundle) -> Manifest:
        source = bundle.source("manifest.csv")
        with open_csv(source, max_line_bytes=self.settings.max_line_bytes) as csv_file:
            return read_manifest(csv_file)

    @contextmanager
    def open(self, role: Role) -> Iterator[tuple[CsvFile, ChunkMapper]]:
        s = self.settings
        with self.bundle() as (bundle, manifest):
            index = BundleIndex(self.state_dir, bundle, manifest, s.max_line_bytes)
            try:
                with open_csv(
                    bundle.source("users.csv"), s.encoding, s.delimiter, s.max_line_bytes
                ) as csv_file:
                    mapper = UsersMapper(csv_file, manifest.version, index, role, s.grade_labels)
                    yield csv_file, mapper
            finally:
                index.close()

    def signature(self, role: Role) -> str:
        with Bundle(self.path) as bundle:
            return bundle.signature()

    def full(self, role: Role) -> bool:
        with self.bundle() as (_, manifest):
            return manifest.mode("users.csv") == "bulk"

    def school(self) -> SchoolInfo:
        with self.bundle() as (bundle, manifest):
            index = BundleIndex(self.state_dir, bundle, manifest, self.settings.max_line_bytes)
            try:
                orgs = list(index.all("orgs"))
            finally:
                index.close()
        schools = [o for o in orgs if o[2] == "school"] or orgs
        s = self.settings
        if schools:
            return SchoolInfo(id=s.school_id or schools[0][0], name=s.school_name or schools[0][1])
        return SchoolInfo(id=s.school_id or self.path.stem, name=s.school_name or self.path.stem)

    def group_names(self) -> dict[str, str]:
        """Class titles by sourcedId (for groups found on people)."""
        with self.bundle() as (bundle, manifest):
            index = BundleIndex(self.state_dir, bundle, manifest, self.settings.max_line_bytes)
            try:
                return {row[0]: row[1] for row in index.all("classes")}
            finally:
                index.close()

    def listed_groups(self) -> Iterator[MISGroup] | None:
        return None
