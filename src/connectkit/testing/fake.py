"""An in-memory connector plugin for tests: every connector operation, every capability.

:class:`FakeConnector` is a real pluggy plugin (its ``@hookimpl`` methods are the
connector operations of :mod:`connectkit.hookspecs`) backed by dictionaries instead of
an MIS. Tests drive the "MIS" side through plain methods:

- people and groups: :meth:`~FakeConnector.add_people`, :meth:`~FakeConnector.add_groups`,
  :meth:`~FakeConnector.update_person`, :meth:`~FakeConnector.remove_person` (records a
  deletion), :meth:`~FakeConnector.restore_person` (records a restore). Every change
  stamps ``updated_at`` from the injectable clock, so changed-since fetches work.
- attendance codes and photos: :meth:`~FakeConnector.add_attendance_codes`,
  :meth:`~FakeConnector.set_photo` (hash-skipped on fetch).
- write-back: an idempotent ledger keyed by ``mark.key`` (:attr:`~FakeConnector.ledger`);
  :attr:`~FakeConnector.posted` lists every mark the "MIS" actually accepted, so a test can
  prove a retry never posts twice.
- access: ``unknown -> pending -> approved / declined``, ``approved -> revoked``, driven by
  :meth:`~FakeConnector.approve_access` and friends.
- failure injection: :meth:`~FakeConnector.fail` raises a given exception at the Nth call of
  an operation, or at the Nth page of a fetch.
- :attr:`~FakeConnector.history`: every operation call, in order, with its arguments.

Capabilities are all on by default; an operation whose capability is switched off raises
:class:`~connectkit.errors.NotSupportedError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectkit.context import ConnectorContext
from connectkit.errors import (
    BadResponseError,
    InvalidCredentialsError,
    NotFoundError,
    NotSupportedError,
)
from connectkit.hookspecs import hookimpl
from connectkit.models import (
    AccessState,
    AccessStatus,
    AttendanceCode,
    AttendanceMark,
    Capabilities,
    ConnectorInfo,
    MISDeletion,
    MISGroup,
    MISPerson,
    MISPhoto,
    PeoplePage,
    Role,
    SchoolInfo,
    WriteBackKind,
    WriteBackReceipt,
    WriteBackState,
)
from connectkit.secrets import Secret

ALL_CAPABILITIES = Capabilities(
    delta=True,
    deletions_feed=True,
    photos=True,
    attendance_codes=True,
    writeback=frozenset(WriteBackKind),
    writeback_comment=True,
    writeback_minutes_late=True,
    request_access=True,
    fingerprints=True,
)
FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "preferred_first_name",
    "preferred_last_name",
    "middle_names",
    "emails.primary",
    "phones.mobile",
    "date_of_birth",
    "mis_code",
)
BAD_TOKEN = "fake-bad-token"  # noqa: S105 - a deliberately refused test token
UNKNOWN_SCHOOL = "unknown-school"


def fingerprint(person: MISPerson) -> str:
    """The fake's fingerprint of a person: a digest of everything but the fingerprint."""
    source = person.model_dump_json(exclude={"fingerprint"}).encode()
    return hashlib.blake2b(source, digest_size=16).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Call:
    """One recorded operation call: the hook name and its arguments (``ctx`` left out)."""

    hook: str
    args: dict[str, Any]


@dataclass
class _Failure:
    hook: str
    error: BaseException
    call: int
    page: int | None
    after: bool
    seen: int = field(default=0)


class FakeConnector:
    """An in-memory MIS behind the connector hooks; see the module docstring.

    ``name`` is the connector name reported by ``connectkit_connector_info`` (two fakes
    with different names can be registered side by side). ``page_size`` is how many
    people a page of ``fetch_people`` holds. ``bad_token`` is a token that
    ``check_credentials`` (and every authenticated operation) refuses with
    :class:`InvalidCredentialsError`; a missing token is refused too. The school
    ``"unknown-school"`` raises :class:`NotFoundError`. ``clock`` stamps changes.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        page_size: int = 50,
        capabilities: Capabilities = ALL_CAPABILITIES,
        bad_token: str = BAD_TOKEN,
        school_name: str = "Fake Primary School",
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        self.name = name
        self.page_size = page_size
        self.capabilities = capabilities
        self.bad_token = bad_token
        self.school_name = school_name
        self.clock = clock
        self.people: dict[Role, dict[str, MISPerson]] = {role: {} for role in Role}
        self.groups: dict[str, MISGroup] = {}
        self.deletions: list[MISDeletion] = []
        self.attendance_codes: dict[str, AttendanceCode] = {}
        self.photos: dict[str, MISPhoto] = {}
        self.ledger: dict[str, AttendanceMark] = {}
        self.posted: list[AttendanceMark] = []
        self.receipts: dict[str, WriteBackReceipt] = {}
        self.access_state = AccessState.UNKNOWN
        self.access_contacts: list[dict[str, str]] = []
        self.history: list[Call] = []
        self._removed: dict[tuple[Role, str], MISPerson] = {}
        self._failures: list[_Failure] = []
        self._calls: dict[str, int] = {}

    # --- driving the fake "MIS" -------------------------------------------------------

    def add_people(self, role: Role, people: Iterable[MISPerson]) -> None:
        """Add (or replace) people of ``role``; ``updated_at`` defaults to the clock."""
        for person in people:
            if person.role != role:
                raise ValueError(f"person {person.mis_id}: role {person.role} is not {role}")
            stamped = person if person.updated_at else person.model_copy(
                update={"updated_at": self.clock()}
            )
            self.people[role][person.mis_id] = stamped

    def add_groups(self, groups: Iterable[MISGroup]) -> None:
        """Add (or replace) groups by id."""
        for group in groups:
            self.groups[group.id] = group

    def update_person(self, role: Role, mis_id: str, **changes: Any) -> MISPerson:
        """Change fields of a current person and stamp ``updated_at``; returns the new record."""
        person = self._current(role, mis_id)
        changes.setdefault("updated_at", self.clock())
        new = MISPerson.model_validate({**person.model_dump(), **changes})
        self.people[role][mis_id] = new
        return new

    def remove_person(self, role: Role, mis_id: str) -> MISDeletion:
        """Delete a person in the "MIS" and record it in the deletions feed."""
        person = self._current(role, mis_id)
        del self.people[role][mis_id]
        self._removed[(role, mis_id)] = person
        deletion = MISDeletion(
            mis_id=mis_id, role=role, deleted_at=self.clock(), person_id=person.person_id
        )
        self.deletions.append(deletion)
        return deletion

    def restore_person(self, role: Role, mis_id: str) -> MISDeletion:
        """Bring a removed person back (stamped as changed) and record the restore."""
        try:
            person = self._removed.pop((role, mis_id))
        except KeyError:
            raise KeyError(f"{role} {mis_id} was never removed") from None
        now = self.clock()
        self.people[role][mis_id] = person.model_copy(update={"updated_at": now})
        deleted_at = next(
            d.deleted_at for d in reversed(self.deletions) if (d.role, d.mis_id) == (role, mis_id)
        )
        restore = MISDeletion(
            mis_id=mis_id,
            role=role,
            deleted_at=deleted_at,
            restored_at=now,
            person_id=person.person_id,
        )
        self.deletions.append(restore)
        return restore

    def add_attendance_codes(self, codes: Iterable[AttendanceCode]) -> None:
        """Add (or replace) attendance codes by code."""
        for code in codes:
            self.attendance_codes[code.code] = code

    def set_photo(self, role: Role, mis_id: str, content: bytes, content_type: str) -> MISPhoto:
        """Give a current person a photo; updates their ``photo_hash`` and ``updated_at``."""
        digest = hashlib.sha256(content).hexdigest()
        photo = MISPhoto(
            mis_id=mis_id, content=content, content_type=content_type, content_hash=digest
        )
        self.update_person(role, mis_id, photo_hash=digest)
        self.photos[mis_id] = photo
        return photo

    def approve_access(self) -> None:
        """The school grants the pending access request."""
        self._move_access(AccessState.PENDING, AccessState.APPROVED)

    def decline_access(self) -> None:
        """The school declines the pending access request."""
        self._move_access(AccessState.PENDING, AccessState.DECLINED)

    def revoke_access(self) -> None:
        """The school revokes access it had granted."""
        self._move_access(AccessState.APPROVED, AccessState.REVOKED)

    def fail(
        self,
        hook: str,
        error: BaseException,
        *,
        call: int = 1,
        page: int | None = None,
        after: bool = False,
    ) -> None:
        """Make the ``call``-th future call of ``hook`` raise ``error`` (once).

        ``hook`` is a hook name with or without the ``connectkit_`` prefix. With ``page``
        (fetch operations), the failing call first yields ``page - 1`` pages (people) or
        items (other fetches), then raises. With ``after=True`` (non-fetch operations),
        the operation takes effect first and then raises: an ambiguous failure, like a
        timeout after the MIS has applied a write.
        """
        name = hook if hook.startswith("connectkit_") else f"connectkit_{hook}"
        if call < 1 or (page is not None and page < 1):
            raise ValueError("call and page count from 1")
        self._failures.append(_Failure(name, error, call, page, after))

    def clear_failures(self) -> None:
        """Disarm every failure :meth:`fail` armed. A forked import worker fires its own
        copy of a failure; this process's copy stays armed until cleared."""
        self._failures.clear()

    def calls(self, hook: str) -> list[Call]:
        """The recorded calls of one hook (name with or without the prefix)."""
        name = hook if hook.startswith("connectkit_") else f"connectkit_{hook}"
        return [call for call in self.history if call.hook == name]

    # --- internals ----------------------------------------------------------------------

    def _current(self, role: Role, mis_id: str) -> MISPerson:
        try:
            return self.people[role][mis_id]
        except KeyError:
            raise KeyError(f"no current {role} with mis_id {mis_id!r}") from None

    def _move_access(self, source: AccessState, target: AccessState) -> None:
        if self.access_state != source:
            raise ValueError(f"access is {self.access_state}, cannot move to {target}")
        self.access_state = target

    def _record(self, hook: str, **args: Any) -> _Failure | None:
        """Log the call; return the failure armed for it (if any) and disarm it."""
        self.history.append(Call(hook, args))
        self._calls[hook] = self._calls.get(hook, 0) + 1
        for failure in self._failures:
            if failure.hook == hook:
                failure.seen += 1
                if failure.seen == failure.call:
                    self._failures.remove(failure)
                    return failure
        return None

    def _raise_now(self, failure: _Failure | None) -> None:
        if failure is not None and failure.page is None and not failure.after:
            raise failure.error

    def _raise_after(self, failure: _Failure | None) -> None:
        if failure is not None and (failure.after or failure.page is not None):
            raise failure.error

    def _require(self, flag: bool, what: str) -> None:
        if not flag:
            raise NotSupportedError(f"connector {self.name!r} does not support {what}")

    def _authenticate(self, ctx: ConnectorContext) -> str:
        school = str(ctx.config.get("school") or "")
        token = ctx.config.get("token")
        value = token.reveal() if isinstance(token, Secret) else token
        if not value:
            raise InvalidCredentialsError(f"integration {ctx.integration!r}: no token configured")
        if value == self.bad_token:
            raise InvalidCredentialsError(
                f"integration {ctx.integration!r}: the MIS refused the token for school {school!r}"
            )
        if school == UNKNOWN_SCHOOL:
            raise NotFoundError(f"integration {ctx.integration!r}: no school {school!r}")
        return school

    def _stream(self, items: Iterable[Any], failure: _Failure | None) -> Iterator[Any]:
        for index, item in enumerate(items, start=1):
            if failure is not None and failure.page == index:
                raise failure.error
            yield item
        if failure is not None and failure.page is not None:
            raise failure.error

    # --- connector operations -----------------------------------------------------------

    @hookimpl
    def connectkit_connector_info(self) -> ConnectorInfo:
        return ConnectorInfo(
            name=self.name,
            title=f"Fake MIS ({self.name})",
            version="1.0",
            capabilities=self.capabilities,
            fields={role: FIELDS for role in Role},
        )

    @hookimpl
    def connectkit_config_schema(self) -> dict[str, Any]:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "school": {"type": "string", "minLength": 1, "description": "School id"},
                "token": {"type": "string", "writeOnly": True, "description": "API token"},
            },
            "required": ["school"],
            "additionalProperties": False,
        }

    @hookimpl
    def connectkit_check_credentials(self, ctx: ConnectorContext) -> SchoolInfo:
        failure = self._record("connectkit_check_credentials")
        self._raise_now(failure)
        school = self._authenticate(ctx)
        self._raise_after(failure)
        return SchoolInfo(id=school, name=self.school_name)

    @hookimpl
    def connectkit_request_access(
        self, ctx: ConnectorContext, contacts: Sequence[dict[str, str]]
    ) -> AccessStatus:
        failure = self._record("connectkit_request_access", contacts=list(contacts))
        self._raise_now(failure)
        self._require(self.capabilities.request_access, "requesting access")
        if self.access_state != AccessState.APPROVED:
            self.access_state = AccessState.PENDING
            self.access_contacts = [dict(contact) for contact in contacts]
        self._raise_after(failure)
        return AccessStatus(state=self.access_state, school_name=self.school_name)

    @hookimpl
    def connectkit_check_access(self, ctx: ConnectorContext) -> AccessStatus:
        failure = self._record("connectkit_check_access")
        self._raise_now(failure)
        self._raise_after(failure)
        return AccessStatus(state=self.access_state, school_name=self.school_name)

    @hookimpl
    def connectkit_fetch_groups(self, ctx: ConnectorContext) -> Iterator[MISGroup]:
        failure = self._record("connectkit_fetch_groups")
        self._raise_now(failure)
        self._authenticate(ctx)
        return self._stream(list(self.groups.values()), failure)

    @hookimpl
    def connectkit_fetch_people(
        self, ctx: ConnectorContext, role: Role, since: datetime | None, cursor: str | None
    ) -> Iterator[PeoplePage]:
        failure = self._record("connectkit_fetch_people", role=role, since=since, cursor=cursor)
        self._raise_now(failure)
        self._authenticate(ctx)
        if since is not None:
            self._require(self.capabilities.delta, "changed-since fetches")
        start = self._decode_cursor(role, since, cursor)
        selected = [
            person
            for person in self.people[role].values()
            if since is None or (person.updated_at is not None and person.updated_at >= since)
        ]
        return self._stream(self._pages(ctx, role, since, selected, start), failure)

    def _pages(
        self,
        ctx: ConnectorContext,
        role: Role,
        since: datetime | None,
        people: list[MISPerson],
        start: int,
    ) -> Iterator[PeoplePage]:
        offset = start
        while True:
            chunk = tuple(people[offset : offset + self.page_size])
            offset += len(chunk)
            more = offset < len(people)
            next_cursor = self._cursor(role, since, offset) if more else None
            yield self._page(ctx, chunk, next_cursor)
            if not more:
                return

    def _page(
        self, ctx: ConnectorContext, chunk: tuple[MISPerson, ...], cursor: str | None
    ) -> PeoplePage:
        """With the ``fingerprints`` capability: fingerprint every person and leave out
        those the engine vouches for, as a real connector does before mapping."""
        if not self.capabilities.fingerprints:
            return PeoplePage(people=chunk, cursor=cursor)
        marked = [p.model_copy(update={"fingerprint": fingerprint(p)}) for p in chunk]
        vouched = ctx.unchanged({p.mis_id: p.fingerprint or "" for p in marked})
        return PeoplePage(
            people=tuple(p for p in marked if p.mis_id not in vouched),
            cursor=cursor,
            unchanged=tuple(p.mis_id for p in marked if p.mis_id in vouched),
        )

    def _cursor(self, role: Role, since: datetime | None, offset: int) -> str:
        stamp = since.isoformat() if since else "full"
        return f"{role}|{stamp}|{offset}"

    def _decode_cursor(self, role: Role, since: datetime | None, cursor: str | None) -> int:
        if cursor is None:
            return 0
        parts = cursor.split("|")
        expected = self._cursor(role, since, 0).rsplit("|", 1)[0]
        if len(parts) != 3 or "|".join(parts[:2]) != expected or not parts[2].isdigit():
            raise BadResponseError(f"cursor {cursor!r} does not belong to this {role} fetch")
        return int(parts[2])

    @hookimpl
    def connectkit_fetch_deletions(
        self, ctx: ConnectorContext, since: datetime | None
    ) -> Iterator[MISDeletion]:
        failure = self._record("connectkit_fetch_deletions", since=since)
        self._raise_now(failure)
        self._authenticate(ctx)
        self._require(self.capabilities.deletions_feed, "a deletions feed")
        events = [
            d for d in self.deletions if since is None or (d.restored_at or d.deleted_at) >= since
        ]
        return self._stream(events, failure)

    @hookimpl
    def connectkit_fetch_attendance_codes(self, ctx: ConnectorContext) -> Iterator[AttendanceCode]:
        failure = self._record("connectkit_fetch_attendance_codes")
        self._raise_now(failure)
        self._authenticate(ctx)
        self._require(self.capabilities.attendance_codes, "attendance codes")
        return self._stream(list(self.attendance_codes.values()), failure)

    @hookimpl
    def connectkit_fetch_photos(
        self, ctx: ConnectorContext, known_hashes: dict[str, str]
    ) -> Iterator[MISPhoto]:
        failure = self._record("connectkit_fetch_photos", known_hashes=dict(known_hashes))
        self._raise_now(failure)
        self._authenticate(ctx)
        self._require(self.capabilities.photos, "photos")
        changed = [
            photo
            for mis_id, photo in self.photos.items()
            if known_hashes.get(mis_id) != photo.content_hash
        ]
        return self._stream(changed, failure)

    @hookimpl
    def connectkit_write_back(
        self, ctx: ConnectorContext, marks: Sequence[AttendanceMark]
    ) -> Sequence[WriteBackReceipt]:
        failure = self._record("connectkit_write_back", marks=list(marks))
        self._raise_now(failure)
        self._authenticate(ctx)
        for kind in {mark.kind for mark in marks}:
            self._require(kind in self.capabilities.writeback, f"{kind} write-back")
        students = self.people[Role.STUDENT]
        accepted = [mark for mark in marks if mark.student_mis_id in students]
        refused = [mark for mark in marks if mark.student_mis_id not in students]
        for mark in accepted:
            if mark.key not in self.ledger:
                self.ledger[mark.key] = mark
                self.posted.append(mark)
        receipts = [self._receipt(accepted, WriteBackState.ACCEPTED, None)] if accepted else []
        if refused:
            detail = "unknown student(s): " + ", ".join(m.student_mis_id for m in refused)
            receipts.append(self._receipt(refused, WriteBackState.FAILED, detail))
        self._raise_after(failure)
        return receipts

    def _receipt(
        self, marks: Sequence[AttendanceMark], state: WriteBackState, detail: str | None
    ) -> WriteBackReceipt:
        remote_id = f"wb-{len(self.receipts) + 1}"
        receipt = WriteBackReceipt(
            mark_keys=tuple(m.key for m in marks), state=state, remote_id=remote_id, detail=detail
        )
        self.receipts[remote_id] = receipt
        return receipt

    @hookimpl
    def connectkit_write_back_status(
        self, ctx: ConnectorContext, receipt: WriteBackReceipt
    ) -> WriteBackReceipt:
        failure = self._record("connectkit_write_back_status", receipt=receipt)
        self._raise_now(failure)
        self._authenticate(ctx)
        known = self.receipts.get(receipt.remote_id or "")
        if known is None:
            raise NotFoundError(f"no write-back with remote id {receipt.remote_id!r}")
        if known.state == WriteBackState.ACCEPTED:
            known = known.model_copy(update={"state": WriteBackState.DONE})
            self.receipts[known.remote_id or ""] = known
        self._raise_after(failure)
        return known
