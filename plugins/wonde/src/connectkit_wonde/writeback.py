"""Attendance write-back, exactly once per mark key (reference §10, SPEC R5.4).

1. Write-back needs ``school.extended.allows_writeback``; otherwise NotSupportedError.
2. Letter codes become Wonde attendance-code ids (``attendance_code_id``).
3. Keys the ledger holds as ``accepted`` are not sent again: their receipt is returned.
4. Keys left ``in_flight`` by an ambiguous failure are looked up in the MIS
   (``GET attendance/session?updated_after=…``); found ones are accepted, the rest resent.
   If that lookup is impossible, the marks are reported FAILED for reconciliation
   rather than risk a second post.
5. The rest go in batches: recorded ``in_flight``, POSTed once (never retried here); a
   2xx stores ``writeback_id``, a 422 is a permanent failure kept with its body, and a
   timeout / 5xx / 429 leaves them ``in_flight`` and raises RetryLaterError.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectkit.context import ConnectorContext
from connectkit.errors import ConnectorError, NotSupportedError, RetryLaterError, RunFailedError
from connectkit.http import decode_json, safe_url
from connectkit.http.errors import error_for_status, transport_error
from connectkit.models import AttendanceMark, WriteBackKind, WriteBackReceipt, WriteBackState
from connectkit_wonde.api import WondeAPI
from connectkit_wonde.catalog import attendance_codes
from connectkit_wonde.ledger import Entry, Ledger
from connectkit_wonde.parse import format_updated_after, parse_date, relation_id

log = logging.getLogger("connectkit_wonde")
CHECK_OVERLAP = timedelta(minutes=5)
_PATHS = {WriteBackKind.SESSION: "attendance/session", WriteBackKind.LESSON: "attendance/lesson"}


def _code_ids(api: WondeAPI) -> dict[str, str]:
    ids: dict[str, str] = {}
    for code in attendance_codes(api):
        if code.mis_id:
            ids.setdefault(code.code, code.mis_id)
            ids.setdefault(code.mis_id, code.mis_id)
    return ids


def _record(mark: AttendanceMark, code_id: str, employee: str | None) -> dict[str, Any]:
    if mark.kind is WriteBackKind.LESSON:
        return {
            "lesson_id": mark.lesson_id,
            "student_id": mark.student_mis_id,
            "attendance_code_id": code_id,
        }
    body: dict[str, Any] = {
        "date": mark.date.isoformat(),
        "session": mark.session,
        "student_id": mark.student_mis_id,
        "attendance_code_id": code_id,
    }
    if mark.comment:
        body["comment"] = mark.comment
    if mark.minutes_late is not None:
        body["minutes_late"] = mark.minutes_late
    if employee:
        body["employee_id"] = employee
    return body


def _batches(marks: Sequence[AttendanceMark], size: int) -> Iterator[list[AttendanceMark]]:
    for start in range(0, len(marks), size):
        yield list(marks[start : start + size])


class WriteBack:
    """One write-back call for one integration."""

    def __init__(self, api: WondeAPI, ctx: ConnectorContext) -> None:
        self.api = api
        self.ledger = Ledger(ctx.state_dir)

    def run(self, marks: Sequence[AttendanceMark]) -> list[WriteBackReceipt]:
        try:
            return self._run(marks)
        finally:
            self.ledger.close()

    def _run(self, marks: Sequence[AttendanceMark]) -> list[WriteBackReceipt]:
        extended = self.api.school().get("extended")
        if not (isinstance(extended, dict) and extended.get("allows_writeback") is True):
            raise NotSupportedError(
                f"Wonde school {self.api.cfg.school_id} does not allow write-back "
                "(extended.allows_writeback is not true)"
            )
        receipts: list[WriteBackReceipt] = []
        known = self.ledger.get(mark.key for mark in marks)
        fresh = [m for m in marks if m.key not in known or known[m.key].state == "failed"]
        receipts.extend(self._already(marks, known))
        unsure = [m for m in marks if m.key in known and known[m.key].state == "in_flight"]
        if unsure:
            resend, settled = self._settle(unsure, known)
            receipts.extend(settled)
            fresh.extend(resend)
        if not fresh:
            return receipts
        codes = _code_ids(self.api)
        for kind in (WriteBackKind.SESSION, WriteBackKind.LESSON):
            same = [m for m in fresh if m.kind is kind]
            receipts.extend(self._unknown_codes(same, codes))
            usable = [m for m in same if m.code in codes]
            for batch in _batches(usable, self.api.cfg.writeback_batch_size):
                receipts.append(self._post(kind, batch, codes))
        return receipts

    def _already(
        self, marks: Sequence[AttendanceMark], known: dict[str, Entry]
    ) -> list[WriteBackReceipt]:
        by_id: dict[str | None, list[str]] = {}
        for mark in marks:
            entry = known.get(mark.key)
            if entry is not None and entry.state == "accepted":
                by_id.setdefault(entry.writeback_id, []).append(mark.key)
        return [
            WriteBackReceipt(
                mark_keys=tuple(keys),
                state=WriteBackState.ACCEPTED,
                remote_id=wid,
                detail="already sent; not posted again",
            )
            for wid, keys in by_id.items()
        ]

    def _unknown_codes(
        self, marks: list[AttendanceMark], codes: dict[str, str]
    ) -> list[WriteBackReceipt]:
        bad = [m for m in marks if m.code not in codes]
        return [
            WriteBackReceipt(
                mark_keys=(m.key,),
                state=WriteBackState.FAILED,
                detail=f"mark {m.key}: field code {m.code!r} is not a Wonde attendance code",
            )
            for m in bad
        ]

    def _settle(
        self, marks: list[AttendanceMark], known: dict[str, Entry]
    ) -> tuple[list[AttendanceMark], list[WriteBackReceipt]]:
        since = (
            datetime.fromtimestamp(min(known[m.key].sent_at for m in marks), UTC) - CHECK_OVERLAP
        )
        try:
            present = self._present(since)
        except (RunFailedError, RetryLaterError) as exc:
            keys = tuple(m.key for m in marks)
            log.warning("cannot check %d ambiguous mark(s) against Wonde (%s)", len(keys), exc)
            if isinstance(exc, RetryLaterError):
                raise
            return [], [
                WriteBackReceipt(
                    mark_keys=keys,
                    state=WriteBackState.FAILED,
                    detail=f"outcome of an earlier send is unknown and cannot be checked ({exc}); "
                    "reconcile in the MIS before resending",
                )
            ]
        found = [m for m in marks if (m.student_mis_id, m.date.isoformat(), m.session) in present]
        if found:
            self.ledger.mark(
                [m.key for m in found], "accepted", None, "found in MIS after an ambiguous send"
            )
        resend = [m for m in marks if m not in found]
        receipts = (
            [
                WriteBackReceipt(
                    mark_keys=tuple(m.key for m in found),
                    state=WriteBackState.ACCEPTED,
                    detail="found in the MIS after an ambiguous send; not posted again",
                )
            ]
            if found
            else []
        )
        return resend, receipts

    def _present(self, since: datetime) -> set[tuple[str, str, str]]:
        params: dict[str, str | int] = {
            "updated_after": format_updated_after(since),
            "per_page": 200,
        }
        seen: set[tuple[str, str, str]] = set()
        for page in self.api.pages(self.api.first_url("attendance/session", params)):
            for row in page.payload["data"]:
                if not isinstance(row, dict):
                    continue
                student = relation_id(row.get("student")) or row.get("student_id")
                day = parse_date(row.get("date"))
                if student and day:
                    seen.add((str(student), day.isoformat(), str(row.get("session", "")).upper()))
        return seen

    def _post(
        self, kind: WriteBackKind, batch: list[AttendanceMark], codes: dict[str, str]
    ) -> WriteBackReceipt:
        keys = [m.key for m in batch]
        employee = self.api.cfg.writeback_employee_id
        body = {"attendance": [_record(m, codes[m.code], employee) for m in batch]}
        url = f"{self.api.school_base()}/{_PATHS[kind]}"
        self.ledger.mark(keys, "in_flight")
        try:
            response = self.api.post(url, body)
        except httpx.TransportError as exc:
            raise transport_error(exc, httpx.Request("POST", url)) from None
        if response.status_code == 422:
            detail = f"rejected by Wonde (HTTP 422): {response.text[:2000]}"
            self.ledger.mark(keys, "failed", None, detail)
            return WriteBackReceipt(
                mark_keys=tuple(keys), state=WriteBackState.FAILED, detail=detail
            )
        error = error_for_status(response)
        if error is not None:
            raise _ambiguous(error, url)
        payload = decode_json(response)
        wid = payload.get("writeback_id") if isinstance(payload, dict) else None
        self.ledger.mark(keys, "accepted", str(wid) if wid else None)
        return WriteBackReceipt(
            mark_keys=tuple(keys),
            state=WriteBackState.ACCEPTED,
            remote_id=str(wid) if wid else None,
        )


def _ambiguous(error: ConnectorError, url: str) -> ConnectorError:
    if isinstance(error, RetryLaterError):
        log.warning(
            "write-back to %s failed ambiguously (%s); it will be checked before resending",
            safe_url(url),
            error,
        )
    return error


_DONE = {"completed", "complete", "success", "succeeded", "done", "processed", "finished"}
_FAILED = {"failed", "failure", "error", "errored", "rejected"}


def status(api: WondeAPI, receipt: WriteBackReceipt) -> WriteBackReceipt:
    """Read ``/writebacks/{id}`` and map its (undocumented) ``status`` string."""
    if not receipt.remote_id:
        return receipt
    payload = api.get(f"writebacks/{receipt.remote_id}")
    data = payload.get("data", payload) if isinstance(payload, dict) else {}
    raw = str(data.get("status", "") if isinstance(data, dict) else "").lower()
    state = (
        WriteBackState.DONE
        if raw in _DONE
        else WriteBackState.FAILED
        if raw in _FAILED
        else WriteBackState.ACCEPTED
    )
    return receipt.model_copy(update={"state": state, "detail": raw or receipt.detail})
