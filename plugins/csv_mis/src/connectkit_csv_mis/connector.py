"""The ``csv_mis`` connector plugin: every operation a set of files can serve.

Declared capabilities: changed-since (row timestamps, or the snapshot's change times),
a deletions feed (OneRoster ``tobedeleted``, or ids gone since the previous snapshot),
photos from a folder, attendance codes (a codes file or the DfE list) and session
write-back to an outbox CSV. Requesting access is not offered: files need none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from connectkit.context import ConnectorContext
from connectkit.errors import ConfigError
from connectkit.hookspecs import hookimpl
from connectkit.models import (
    AttendanceCode,
    AttendanceMark,
    Capabilities,
    ConnectorInfo,
    MISDeletion,
    MISGroup,
    MISPhoto,
    PeoplePage,
    Role,
    SchoolInfo,
    WriteBackKind,
    WriteBackReceipt,
)
from connectkit_csv_mis import __version__
from connectkit_csv_mis.access import check_source
from connectkit_csv_mis.codes import codes_from_file, dfe_codes
from connectkit_csv_mis.groups import groups_of
from connectkit_csv_mis.outbox import append_marks, receipt_status
from connectkit_csv_mis.pages import Pass, people_pages
from connectkit_csv_mis.paths import existing_file, resolve_inside
from connectkit_csv_mis.photo_feed import photos_of
from connectkit_csv_mis.reader import Source, open_csv
from connectkit_csv_mis.schema import config_schema
from connectkit_csv_mis.settings import Settings, load_settings
from connectkit_csv_mis.snapshot import Snapshot
from connectkit_csv_mis.sources import PeopleSource, make_source

log = logging.getLogger(__name__)

FIELDS = (
    "first_name",
    "last_name",
    "preferred_first_name",
    "preferred_last_name",
    "middle_names",
    "emails.primary",
    "phones.primary",
    "phones.mobile",
    "date_of_birth",
    "mis_code",
    "person_id",
)
CAPABILITIES = Capabilities(
    delta=True,
    deletions_feed=True,
    photos=True,
    attendance_codes=True,
    writeback=frozenset({WriteBackKind.SESSION}),
    request_access=False,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CsvConnector:
    """Connector over MIS CSV exports (generic column map) and OneRoster bundles."""

    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self.clock = clock

    def _open(self, ctx: ConnectorContext) -> tuple[Settings, PeopleSource]:
        settings = load_settings(ctx.config)
        return settings, make_source(settings, ctx.state_dir)

    @hookimpl
    def connectkit_connector_info(self) -> ConnectorInfo:
        return ConnectorInfo(
            name="csv_mis",
            title="CSV export / OneRoster CSV",
            version=__version__,
            capabilities=CAPABILITIES,
            fields={Role.STUDENT: FIELDS, Role.STAFF: FIELDS},
        )

    @hookimpl
    def connectkit_config_schema(self) -> dict[str, Any]:
        return config_schema()

    @hookimpl
    def connectkit_check_credentials(self, ctx: ConnectorContext) -> SchoolInfo:
        return check_source(self._open(ctx)[1])

    @hookimpl
    def connectkit_fetch_groups(self, ctx: ConnectorContext) -> Iterator[MISGroup]:
        return groups_of(self._open(ctx)[1])

    @hookimpl
    def connectkit_fetch_people(
        self, ctx: ConnectorContext, role: Role, since: datetime | None, cursor: str | None
    ) -> Iterator[PeoplePage]:
        settings, source = self._open(ctx)
        spec = Pass(
            role, since, cursor, source.signature(role), source.full(role), settings.page_size
        )
        return self._pages(ctx, source, spec)

    def _pages(
        self, ctx: ConnectorContext, source: PeopleSource, spec: Pass
    ) -> Iterator[PeoplePage]:
        with Snapshot(ctx.state_dir) as snapshot:
            yield from people_pages(partial(source.open, spec.role), spec, snapshot, self.clock)

    @hookimpl
    def connectkit_fetch_deletions(
        self, ctx: ConnectorContext, since: datetime | None
    ) -> Iterator[MISDeletion]:
        return self._deletions(ctx, since)

    def _deletions(self, ctx: ConnectorContext, since: datetime | None) -> Iterator[MISDeletion]:
        source = self._open(ctx)[1]
        with Snapshot(ctx.state_dir) as snapshot:
            for role in Role:
                signature = source.signature(role)
                if snapshot.last_completed_signature(role.value) != signature:
                    spec = Pass(role, None, None, signature, source.full(role), 1000)
                    for _ in people_pages(partial(source.open, role), spec, snapshot, self.clock):
                        pass
                for mis_id, deleted_at, restored_at in snapshot.deletions(role.value, since):
                    assert deleted_at is not None
                    yield MISDeletion(
                        mis_id=mis_id, role=role, deleted_at=deleted_at, restored_at=restored_at
                    )

    @hookimpl
    def connectkit_fetch_attendance_codes(self, ctx: ConnectorContext) -> Iterator[AttendanceCode]:
        settings = load_settings(ctx.config)
        if not settings.codes:
            return dfe_codes()
        path = existing_file(settings.root, settings.codes, "codes")
        return self._codes(Source.from_path(path), settings)

    def _codes(self, source: Source, settings: Settings) -> Iterator[AttendanceCode]:
        with open_csv(
            source, settings.encoding, settings.delimiter, settings.max_line_bytes
        ) as csv_file:
            yield from codes_from_file(csv_file)

    @hookimpl
    def connectkit_fetch_photos(
        self, ctx: ConnectorContext, known_hashes: dict[str, str]
    ) -> Iterator[MISPhoto]:
        settings, source = self._open(ctx)
        if not settings.photos:
            return iter(())
        folder = resolve_inside(settings.root, settings.photos, "photos")
        return photos_of(settings, source, folder, known_hashes)

    @hookimpl
    def connectkit_write_back(
        self, ctx: ConnectorContext, marks: Sequence[AttendanceMark]
    ) -> Sequence[WriteBackReceipt]:
        settings = load_settings(ctx.config)
        if not marks:
            return []
        return [append_marks(resolve_inside(settings.root, settings.outbox, "outbox"), marks)]

    @hookimpl
    def connectkit_write_back_status(
        self, ctx: ConnectorContext, receipt: WriteBackReceipt
    ) -> WriteBackReceipt:
        settings = load_settings(ctx.config)
        path = resolve_inside(settings.root, settings.outbox, "outbox")
        if not path.exists():
            raise ConfigError(f"csv_mis: outbox {settings.outbox!r} does not exist")
        return receipt_status(path, receipt)
