"""connectkit's hook specifications: the whole contract between the core and its plugins.

There are two kinds of hook.

**Connector operations** (``connectkit_connector_info`` … ``connectkit_write_back_status``).
A connector plugin is one object whose ``@hookimpl`` methods are these operations. An
integration is served by exactly one connector, so the core never broadcasts an operation:
:class:`connectkit.plugins.facade.Connector` calls it on that one plugin only, through
``pm.subset_hook_caller``. The operations are therefore ``firstresult`` (one answer, not a
list). Fetch operations return iterators and must stream (a page or a record at a time),
never build a whole school in memory. An operation a connector does not implement, or
does not declare in its :class:`~connectkit.models.Capabilities`, is never called.

**Broadcast hooks** (``connectkit_adjust_record``, ``connectkit_run_finished``,
``connectkit_notification_channels``) may be implemented by any plugin, connector or not;
every implementation is called.

Every connector operation receives a :class:`~connectkit.context.ConnectorContext` named
``ctx``. Errors are raised from :mod:`connectkit.errors`: ``RetryLaterError`` for transient
trouble, ``RunFailedError`` subclasses for permanent trouble, ``RecordError`` for one bad
record the run can skip.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from datetime import datetime
from typing import Any

import pluggy

from connectkit.context import ConnectorContext
from connectkit.models import (
    AccessStatus,
    AttendanceCode,
    AttendanceMark,
    ConnectorInfo,
    MISDeletion,
    MISGroup,
    MISPhoto,
    PeoplePage,
    Role,
    SchoolInfo,
    WriteBackReceipt,
)
from connectkit.notify import NotificationChannel
from connectkit.reports import RunReport

PROJECT = "connectkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# --- connector operations: describe -------------------------------------------------


@hookspec
def connectkit_connector_info() -> ConnectorInfo:
    """Describe this connector: name, title, version, capabilities and mappable fields.

    Called when plugins load, for every plugin that implements it; implementing it is what
    makes a plugin a connector. ``name`` is how config files refer to the connector. Must
    be cheap and must not touch the network. Never returns None.
    """


@hookspec(firstresult=True)
def connectkit_config_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of this connector's config section.

    Called when a config file is validated. Secret properties carry ``"writeOnly": true``;
    their values arrive as :class:`~connectkit.secrets.Secret`. Never returns None.
    """


# --- connector operations: access ----------------------------------------------------


@hookspec(firstresult=True)
def connectkit_check_credentials(ctx: ConnectorContext) -> SchoolInfo:
    """Check ``ctx.config``'s credentials against the MIS before anything is saved (R1.1).

    Returns what was learned about the school. Raises ``InvalidCredentialsError``,
    ``AccessNotGrantedError`` or ``NotFoundError`` with a clear, secret-free message.
    """


@hookspec(firstresult=True)
def connectkit_request_access(
    ctx: ConnectorContext, contacts: Sequence[dict[str, str]]
) -> AccessStatus:
    """Ask the MIS for access to the school in ``ctx.config`` (R1.2).

    ``contacts`` are optional school contacts (``name``, ``email``, ``phone`` …) passed on
    to the MIS. Returns the new status, normally ``pending``. Only called when the
    connector declares ``capabilities.request_access``.
    """


@hookspec(firstresult=True)
def connectkit_check_access(ctx: ConnectorContext) -> AccessStatus:
    """Report where the access request for ``ctx.config``'s school stands.

    Returns ``approved`` once the integration may be configured (Ready), else
    ``pending`` / ``declined`` / ``revoked`` / ``unknown``. Called on a schedule and on demand.
    """


# --- connector operations: read ------------------------------------------------------


@hookspec(firstresult=True)
def connectkit_fetch_groups(ctx: ConnectorContext) -> Iterator[MISGroup]:
    """Yield every group (year, registration, house, staff, class) of the school.

    Used to offer and validate group mappings (R2.1). Ids are unique. Never returns None.
    """


@hookspec(firstresult=True)
def connectkit_fetch_people(
    ctx: ConnectorContext, role: Role, since: datetime | None, cursor: str | None
) -> Iterator[PeoplePage]:
    """Yield the school's people of ``role`` one page at a time.

    ``since=None`` means every current person (a full pass); otherwise only people changed
    at or after ``since`` (UTC) and only if ``capabilities.delta``. ``cursor`` is the
    ``PeoplePage.cursor`` of the last page the core stored; the fetch resumes at the page
    after it (None: from the start). Pages end when the last page has ``cursor=None``.
    ``mis_id`` is unique across the whole pass. Never returns None.
    """


@hookspec(firstresult=True)
def connectkit_fetch_deletions(
    ctx: ConnectorContext, since: datetime | None
) -> Iterator[MISDeletion]:
    """Yield records deleted (or restored) in the MIS at or after ``since``.

    Only called when ``capabilities.deletions_feed``. ``since=None`` means all known.
    """


@hookspec(firstresult=True)
def connectkit_fetch_attendance_codes(ctx: ConnectorContext) -> Iterator[AttendanceCode]:
    """Yield the attendance codes the school uses (R5.1); only with ``attendance_codes``."""


@hookspec(firstresult=True)
def connectkit_fetch_photos(
    ctx: ConnectorContext, known_hashes: dict[str, str]
) -> Iterator[MISPhoto]:
    """Yield photos whose content changed (R6.2); only with ``capabilities.photos``.

    ``known_hashes`` maps ``mis_id`` to the SHA-256 of the photo the directory holds; a
    photo whose hash equals it is not yielded. The core checks every yielded photo is a
    real JPEG/PNG within the size limit and rejects bad ones for that person only; a
    connector should stop reading a source once it is past that limit.
    """


# --- connector operations: write back ------------------------------------------------


@hookspec(firstresult=True)
def connectkit_write_back(
    ctx: ConnectorContext, marks: Sequence[AttendanceMark]
) -> Sequence[WriteBackReceipt]:
    """Send attendance marks to the MIS (R5.2), exactly once per ``mark.key`` (R5.4).

    Only called with a kind in ``capabilities.writeback``. Returns one receipt per batch
    sent, covering every mark key. A retry of the same keys must not post a mark twice:
    after an ambiguous failure (timeout, 5xx) the connector checks before resending.
    """


@hookspec(firstresult=True)
def connectkit_write_back_status(
    ctx: ConnectorContext, receipt: WriteBackReceipt
) -> WriteBackReceipt:
    """Ask the MIS where an earlier write-back stands; returns the updated receipt."""


# --- broadcast hooks ----------------------------------------------------------------


@hookspec
def connectkit_adjust_record(
    integration: str, role: Role, mis_id: str, fields: MutableMapping[str, str | None]
) -> None:
    """Adjust a mapped record in place before it is validated.

    ``fields`` maps directory field names (``first_name``, ``email`` …) to values; an
    implementation may change or clear values. Called for every imported record, by every
    plugin that implements it, in pluggy's order. Returns nothing.
    """


@hookspec
def connectkit_run_finished(report: RunReport) -> None:
    """React to a finished sync run (``report`` holds counts and open issues)."""


@hookspec
def connectkit_notification_channels() -> Sequence[NotificationChannel]:
    """Contribute notification channels (email, SMS, …) the config may enable by name."""
