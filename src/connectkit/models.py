"""Records exchanged between the core and connector plugins.

All are pydantic v2 models, frozen and with extra keys forbidden: a connector that sends
an unknown key or a wrong type fails loudly at the boundary instead of deep in the engine.
Times are timezone-aware UTC. Identifiers are strings, whatever the MIS uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (UTC)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Record(BaseModel):
    """Base: frozen, extra keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Role(StrEnum):
    """Which population a person belongs to; each has its own mapping (R2.3)."""

    STUDENT = "student"
    STAFF = "staff"


class GroupKind(StrEnum):
    """What an MIS group is; year and staff groups are what map to user types (R2.1)."""

    YEAR = "year"
    REGISTRATION = "registration"
    HOUSE = "house"
    STAFF = "staff"
    CLASS = "class"
    OTHER = "other"


class WriteBackKind(StrEnum):
    """The kinds of attendance a connector can write back."""

    SESSION = "session"
    LESSON = "lesson"


class Capabilities(Record):
    """What a connector can do; the core never calls an operation it does not declare."""

    delta: bool = False
    """``fetch_people`` honours ``since`` (changed-since runs, R4.7)."""
    deletions_feed: bool = False
    """``fetch_deletions`` reports records deleted in the MIS."""
    photos: bool = False
    attendance_codes: bool = False
    writeback: frozenset[WriteBackKind] = frozenset()
    writeback_comment: bool = False
    writeback_minutes_late: bool = False
    request_access: bool = False
    """``request_access`` / ``check_access`` work without credentials (R1.2)."""
    fingerprints: bool = False
    """``fetch_people`` fingerprints each record's source (``MISPerson.fingerprint``) and
    leaves out, listing them in ``PeoplePage.unchanged``, the records
    ``ConnectorContext.unchanged`` vouches for (the fast path of full re-reads)."""


class ConnectorInfo(Record):
    """How a connector describes itself (``connectkit_connector_info``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    version: str
    capabilities: Capabilities
    fields: Mapping[Role, tuple[str, ...]] = Field(default_factory=dict)
    """Field paths offered for mapping, per role (e.g. ``contact_details.emails.primary``)."""


class GroupMembership(Record):
    """A person's membership of one MIS group."""

    group_id: str
    kind: GroupKind


class MISPerson(Record):
    """A student or staff member as the connector returns it.

    ``mis_id`` is the connector's id of the record (Wonde ``id``); ``person_id`` is stable
    across re-enrolments (Wonde ``upi``); ``mis_code`` is the id inside the school's MIS.
    ``extras`` keeps the raw source fields (JSON-able), so field mapping can reach any
    path the connector advertises, e.g. ``contact_details.emails.primary``.
    """

    mis_id: str = Field(min_length=1)
    role: Role
    person_id: str | None = None
    mis_code: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    preferred_first_name: str | None = None
    preferred_last_name: str | None = None
    middle_names: str | None = None
    emails: Mapping[str, str] = Field(default_factory=dict)
    """Labelled addresses, e.g. ``{"primary": ..., "work": ...}``; values are unchecked."""
    phones: Mapping[str, str] = Field(default_factory=dict)
    date_of_birth: date | None = None
    groups: tuple[GroupMembership, ...] = ()
    photo_hash: str | None = None
    updated_at: AwareDatetime | None = None
    extras: Mapping[str, Any] = Field(default_factory=dict)
    fingerprint: str | None = Field(default=None, max_length=128)
    """With the ``fingerprints`` capability: a digest of everything this record was
    mapped from (the raw source and the connector's mapping version), equal on every
    fetch of the same source and different when anything that could change the mapped
    record changes."""


class PeoplePage(Record):
    """One page of people; ``cursor`` resumes the fetch at the page *after* this one.

    ``cursor`` is opaque to the core (a next-URL, a row offset …) and must not contain a
    secret; None means this was the last page. ``unchanged`` (``fingerprints``
    capability only) are the MIS ids of this page's records that
    ``ConnectorContext.unchanged`` vouched for and that were therefore not mapped.
    """

    people: tuple[MISPerson, ...]
    cursor: str | None = None
    unchanged: tuple[str, ...] = ()


class MISGroup(Record):
    """An MIS group (year, registration, house, staff group, class)."""

    id: str = Field(min_length=1)
    name: str
    kind: GroupKind
    code: str | None = None
    role: Role = Role.STUDENT


class MISDeletion(Record):
    """A record the MIS deleted (or restored, when ``restored_at`` is set)."""

    mis_id: str = Field(min_length=1)
    role: Role
    deleted_at: AwareDatetime
    restored_at: AwareDatetime | None = None
    person_id: str | None = None


class AttendanceCode(Record):
    """An attendance code (e.g. DfE ``/`` present AM, ``L`` late) as the MIS defines it."""

    code: str = Field(min_length=1, max_length=8)
    description: str
    meaning: str | None = None
    """Free-text category from the MIS (present, authorised absence, …), if it has one."""
    mis_id: str | None = None


class MISPhoto(Record):
    """A person's photo; ``content_hash`` is the hex SHA-256 of ``content``."""

    mis_id: str
    content: bytes
    content_type: str
    content_hash: str


class Scan(Record):
    """A sign-in or sign-out recorded by the directory side."""

    id: str
    user_mis_id: str
    occurred_at: AwareDatetime
    direction: str = Field(pattern="^(in|out)$")
    site: str | None = None
    method: str | None = None
    attendance_code: str | None = None


class AttendanceMark(Record):
    """One mark to write back; ``key`` makes the write idempotent (student, date, session)."""

    key: str
    student_mis_id: str
    date: date
    session: str = Field(pattern="^(AM|PM)$")
    code: str
    comment: str | None = None
    minutes_late: int | None = Field(default=None, ge=0)
    kind: WriteBackKind = WriteBackKind.SESSION
    lesson_id: str | None = None


class WriteBackState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DONE = "done"
    FAILED = "failed"


class WriteBackReceipt(Record):
    """What the MIS said about a batch of marks; ``remote_id`` lets us ask again later."""

    mark_keys: tuple[str, ...]
    state: WriteBackState
    remote_id: str | None = None
    detail: str | None = None


class AccessState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class AccessStatus(Record):
    """Where an access request stands (R1.2); ``approved`` means the integration is Ready."""

    state: AccessState
    school_name: str | None = None
    detail: str | None = None


class SchoolInfo(Record):
    """What a successful credential check learned about the school."""

    id: str
    name: str
    region: str | None = None
