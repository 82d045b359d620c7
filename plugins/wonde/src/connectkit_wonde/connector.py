"""The Wonde connector: every connector operation as a ``@hookimpl`` method.

Each operation builds a :class:`~connectkit_wonde.api.WondeAPI` from ``ctx`` (config and
optional transport) and closes it when done; fetch operations are generators, so the
client lives exactly as long as the iteration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from connectkit.context import ConnectorContext
from connectkit.hookspecs import hookimpl
from connectkit.models import (
    AccessStatus,
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
from connectkit_wonde import access, catalog, people, photos, writeback
from connectkit_wonde.api import WondeAPI
from connectkit_wonde.config import SCHEMA, WondeConfig
from connectkit_wonde.mapping import STAFF_FIELDS, STUDENT_FIELDS

VERSION = "0.1.0"


def _api(ctx: ConnectorContext) -> WondeAPI:
    return WondeAPI(WondeConfig.from_mapping(ctx.config), transport=ctx.transport)


class WondeConnector:
    """Connector plugin for the Wonde REST API v1.0 (entry point ``wonde``)."""

    @hookimpl
    def connectkit_connector_info(self) -> ConnectorInfo:
        return ConnectorInfo(
            name="wonde",
            title="Wonde (UK school MIS API)",
            version=VERSION,
            capabilities=Capabilities(
                delta=True,
                deletions_feed=True,
                photos=True,
                attendance_codes=True,
                writeback=frozenset({WriteBackKind.SESSION, WriteBackKind.LESSON}),
                writeback_comment=True,
                writeback_minutes_late=True,
                request_access=True,
                fingerprints=True,
            ),
            fields={Role.STUDENT: STUDENT_FIELDS, Role.STAFF: STAFF_FIELDS},
        )

    @hookimpl
    def connectkit_config_schema(self) -> dict[str, Any]:
        return SCHEMA

    @hookimpl
    def connectkit_check_credentials(self, ctx: ConnectorContext) -> SchoolInfo:
        with _api(ctx) as api:
            return access.check_credentials(api)

    @hookimpl
    def connectkit_request_access(
        self, ctx: ConnectorContext, contacts: Sequence[dict[str, str]]
    ) -> AccessStatus:
        with _api(ctx) as api:
            return access.request_access(api, contacts)

    @hookimpl
    def connectkit_check_access(self, ctx: ConnectorContext) -> AccessStatus:
        with _api(ctx) as api:
            return access.check_access(api)

    @hookimpl
    def connectkit_fetch_groups(self, ctx: ConnectorContext) -> Iterator[MISGroup]:
        with _api(ctx) as api:
            yield from catalog.groups(api)

    @hookimpl
    def connectkit_fetch_people(
        self, ctx: ConnectorContext, role: Role, since: datetime | None, cursor: str | None
    ) -> Iterator[PeoplePage]:
        with _api(ctx) as api:
            yield from people.people_pages(api, role, since, cursor, ctx.unchanged)

    @hookimpl
    def connectkit_fetch_deletions(
        self, ctx: ConnectorContext, since: datetime | None
    ) -> Iterator[MISDeletion]:
        with _api(ctx) as api:
            yield from catalog.deletions(api, since)

    @hookimpl
    def connectkit_fetch_attendance_codes(self, ctx: ConnectorContext) -> Iterator[AttendanceCode]:
        with _api(ctx) as api:
            yield from catalog.attendance_codes(api)

    @hookimpl
    def connectkit_fetch_photos(
        self, ctx: ConnectorContext, known_hashes: dict[str, str]
    ) -> Iterator[MISPhoto]:
        with _api(ctx) as api:
            yield from photos.photos(api, known_hashes)

    @hookimpl
    def connectkit_write_back(
        self, ctx: ConnectorContext, marks: Sequence[AttendanceMark]
    ) -> Sequence[WriteBackReceipt]:
        with _api(ctx) as api:
            return writeback.WriteBack(api, ctx).run(marks)

    @hookimpl
    def connectkit_write_back_status(
        self, ctx: ConnectorContext, receipt: WriteBackReceipt
    ) -> WriteBackReceipt:
        with _api(ctx) as api:
            return writeback.status(api, receipt)
