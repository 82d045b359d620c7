"""The emulated Wonde v1.0 endpoints (paths relative to ``/v1.0``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from connectkit_wonde.emulator.data import EPOCH, School, code_list, parse_id, wdate
from connectkit_wonde.emulator.http import Request, Response, error, json_response
from connectkit_wonde.emulator.state import EmulatorState, Mark

STUDENT_INCLUDES = [
    "classes",
    "education_details",
    "contact_details",
    "extended_details",
    "contacts",
    "year",
    "house",
    "registration",
    "groups",
    "photo",
    "identifiers",
]
EMPLOYEE_INCLUDES = [
    "contact_details",
    "employment_details",
    "extended_details",
    "photo",
    "groups",
    "classes",
    "identifiers",
]
PERMISSIONS = (
    "students.read",
    "students.contact_details",
    "students.date_of_birth",
    "students.gender",
    "students.photo",
    "employees.read",
    "employees.employment_details",
    "attendance.write",
)


class Invalid(ValueError):
    """A request the real API would answer 422."""


def _since(request: Request) -> datetime | None:
    raw = request.query.get("updated_after")
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid(f"updated_after {raw!r} is not a date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _per_page(state: EmulatorState, request: Request) -> int:
    raw = request.query.get("per_page", "50")
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid(f"per_page {raw!r} must be a positive integer")
    return min(int(raw), state.faults.max_per_page)


def _page(
    state: EmulatorState,
    request: Request,
    total: int,
    make: Callable[[int], Any],
    includes: list[str],
    per_page_as_text: bool = False,
) -> Response:
    """A page over raw indices ``[0, total)``; ``make(i)`` returns an item or None (hidden)."""
    per_page = _per_page(state, request)
    page = int(request.query.get("page", "1") or 1)
    start, stop = (page - 1) * per_page, min(page * per_page, total)
    data = [item for i in range(max(start, 0), stop) if (item := make(i)) is not None]
    meta: dict[str, Any] = {"includes": includes}
    if total > per_page:
        more = stop < total
        meta["pagination"] = {
            "next": request.url_with(page=str(page + 1)) if more else None,
            "previous": request.url_with(page=str(page - 1)) if page > 1 else None,
            "more": more,
            "per_page": str(per_page) if per_page_as_text else per_page,
            "current_page": page,
        }
    response = json_response({"data": data, "meta": meta})
    every = state.faults.truncate_every
    if every and state.next_list_page() % every == 0:
        response.body = response.body[: len(response.body) // 2]
    return response


def _school_json(state: EmulatorState, school: School, request: Request) -> dict[str, Any]:
    domain = request.host
    if state.faults.wrong_region:
        domain = "localhost:" + domain.rpartition(":")[2]
    return {
        "id": school.id,
        "name": school.name,
        "establishment_number": "4000",
        "urn": 100000 + school.seed,
        "phase_of_education": "SECONDARY",
        "la_code": "999",
        "timezone": "Europe/London",
        "mis": "SIMS",
        "address": {
            "address_line_1": "1 School Lane",
            "address_line_2": None,
            "address_town": "Exampleton",
            "address_postcode": "ZZ1 1ZZ",
            "address_country": {"code": "GBR", "name": "England"},
        },
        "extended": {
            "allows_writeback": school.allows_writeback,
            "has_timetables": True,
            "has_lesson_attendance": True,
            "audit_approved_at": wdate(EPOCH - timedelta(days=90)),
        },
        "region": {
            "code": "GBR",
            "domain": domain,
            "school_url": f"{request.scheme}://{domain}/v1.0/schools/{school.id}",
            "identifiers": {
                "la_code": "999",
                "establishment_number": "4000",
                "urn": 100000 + school.seed,
            },
        },
    }


def route(state: EmulatorState, request: Request, path: str) -> Response:
    parts = [p for p in path.split("/") if p]
    if parts == ["attendance-codes"]:
        return _page(state, request, len(code_list()), lambda i: code_list()[i], [])
    if len(parts) == 2 and parts[0] == "writebacks":
        return _writeback_status(state, parts[1])
    if parts[:2] == ["meta", "schools"] and len(parts) >= 3:
        return _meta(state, request, parts[2], parts[3:])
    if not parts or parts[0] != "schools":
        return error(404, "not found")
    if len(parts) == 1 or parts[1] in (
        "pending",
        "declined",
        "revoked",
        "approved",
        "audited",
        "all",
    ):
        return _school_list(state, request, parts[1] if len(parts) > 1 else "approved")
    school = state.schools.get(parts[1])
    if school is None:
        return error(404, f"school {parts[1]} not found")
    rest = parts[2:]
    if rest == ["request-access"] and request.method == "POST":
        return _request_access(school, request)
    if rest == ["revoke-access"] and request.method == "DELETE":
        school.access = "revoked"
        return json_response({"success": True, "state": "revoked", "message": "Access revoked"})
    if school.access != "approved":
        return error(403, f"school {school.id} has not approved this application")
    if rest and state.faults.wrong_region and not request.host.startswith("localhost"):
        return error(404, "school not found on this regional domain")
    if not rest:
        return json_response(
            {"data": _school_json(state, school, request), "meta": {"includes": ["cbds"]}}
        )
    return _school_resource(state, school, request, rest)


def _school_list(state: EmulatorState, request: Request, which: str) -> Response:
    schools = [s for s in state.schools.values() if which == "all" or s.access == which]
    return _page(
        state, request, len(schools), lambda i: _school_json(state, schools[i], request), ["cbds"]
    )


def _request_access(school: School, request: Request) -> Response:
    body = request.json() or {}
    contacts = body.get("contacts", []) if isinstance(body, dict) else None
    if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
        raise Invalid("contacts must be a list of objects")
    if school.access != "approved":
        school.access = "pending"
    return json_response({"success": True, "state": school.access, "message": "Access requested"})


def _meta(state: EmulatorState, request: Request, school_id: str, rest: list[str]) -> Response:
    school = state.schools.get(school_id)
    if school is None:
        return error(404, "school not found")
    if school.access != "approved":
        return error(403, "not approved")
    if rest == ["permissions"]:
        denied = set(state.faults.null_scopes)
        items = [
            {
                "identity": ident,
                "name": ident.replace(".", " ").replace("_", " "),
                "description": ident,
                "parent": None,
                "group": ident.split(".")[0],
                "active_from": wdate(EPOCH),
                "optional": False,
                "approved": ident.split(".")[1] not in denied,
                "audited": True,
                "declined": False,
            }
            for ident in PERMISSIONS
        ]
        return json_response({"data": items})
    return json_response(
        {
            "data": {
                "online": True,
                "approved": True,
                "audited": True,
                "custom_attendance_codes": False,
            }
        }
    )


def _includes(request: Request) -> set[str]:
    return {part.strip() for part in request.query.get("include", "").split(",") if part.strip()}


def _school_resource(
    state: EmulatorState, school: School, request: Request, rest: list[str]
) -> Response:
    name = "/".join(rest)
    since = _since(request)
    includes = _includes(request)
    denied = set(state.faults.null_scopes)

    def people(kind: str, hidden: Callable[[int], bool] = lambda i: False) -> Callable[[int], Any]:
        def make(i: int) -> Any:
            if hidden(i) or (since is not None and school.updated_at(kind, i) < since):
                return None
            return school.person(kind, i, includes, denied)

        return make

    if name == "students":
        return _page(
            state,
            request,
            school.students,
            people("student", school.student_deleted),
            STUDENT_INCLUDES,
        )
    if name == "students-leaver":
        return _page(
            state,
            request,
            school.leavers,
            people("leaver"),
            STUDENT_INCLUDES,
            per_page_as_text=True,
        )
    if name == "students-pre-admission":
        return _page(state, request, school.pre_admissions, people("pre"), STUDENT_INCLUDES)
    if name == "employees":
        return _page(state, request, school.staff, people("employee"), EMPLOYEE_INCLUDES)
    if name == "groups":
        groups = school.groups()
        return _page(state, request, len(groups), lambda i: groups[i], ["students", "employees"])
    if name == "deletions":
        return _page(state, request, school.deletion_count(), _deletion_filter(school, since), [])
    if name == "attendance-codes":
        return _page(state, request, len(code_list()), lambda i: code_list()[i], [])
    if name in ("attendance/session", "attendance/lesson"):
        if request.method == "POST":
            return _write_back(state, school, request, name.rpartition("/")[2])
        return _session_marks(state, request, since)
    if name == "counts":
        return json_response(
            {
                "data": {
                    "students": {"data": {"count": school.students}},
                    "employees": {"data": {"count": school.staff}},
                }
            }
        )
    return error(404, f"unknown resource {name}")


def _deletion_filter(school: School, since: datetime | None) -> Callable[[int], Any]:
    def make(d: int) -> Any:
        item = school.deletion(d)
        if since is not None:
            moment = item["restored_at"] or item["deleted_at"]
            when = datetime.strptime(moment["date"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
            if when < since:
                return None
        return item

    return make


def _session_marks(state: EmulatorState, request: Request, since: datetime | None) -> Response:
    ledger = state.ledger
    rows = [
        {
            "id": f"A9{mark.seq:09d}",
            "student": mark.student_id,
            "attendance_code": mark.code_id,
            "date": mark.date,
            "session": mark.session,
            "comment": mark.comment,
            "minutes_late": mark.minutes_late,
            "updated_at": wdate(ledger.recorded_at[key]),
        }
        for key, mark in sorted(ledger.marks.items(), key=lambda kv: kv[1].seq)
        if since is None or ledger.recorded_at[key] >= since
    ]
    return _page(state, request, len(rows), lambda i: rows[i], ["student", "attendance_code"])


def _validate(school: School, record: Any, kind: str, codes: set[str]) -> tuple[str, str, str]:
    if not isinstance(record, dict):
        raise Invalid("each attendance record must be an object")
    student = str(record.get("student_id", ""))
    index = parse_id(student, "student", school.seed)
    if index is None or index >= school.students or school.student_deleted(index):
        raise Invalid(f"student_id {student!r} is not a student of this school")
    if record.get("attendance_code_id") not in codes:
        raise Invalid(f"attendance_code_id {record.get('attendance_code_id')!r} is unknown")
    if kind == "lesson":
        if not record.get("lesson_id"):
            raise Invalid("lesson_id is required")
        return student, str(record["lesson_id"]), "LESSON"
    day, session = str(record.get("date", "")), str(record.get("session", ""))
    try:
        date.fromisoformat(day)
    except ValueError:
        raise Invalid(f"date {day!r} must be YYYY-MM-DD") from None
    if session not in ("AM", "PM"):
        raise Invalid(f"session {session!r} must be AM or PM")
    return student, day, session


def _write_back(state: EmulatorState, school: School, request: Request, kind: str) -> Response:
    if not school.allows_writeback:
        return error(403, "this school does not allow write-back")
    try:
        body = request.json()
    except orjson.JSONDecodeError:
        raise Invalid("body is not JSON") from None
    records = body.get("attendance") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records:
        raise Invalid("attendance must be a non-empty list")
    codes = {c["id"] for c in code_list()}
    keys = [_validate(school, record, kind, codes) for record in records]
    with state.lock:
        ledger = state.ledger
        ledger.posts += 1
        wid = f"A8{ledger.posts:09d}"
        now = datetime.now(UTC)
        for key, record in zip(keys, records, strict=True):
            if key in ledger.marks:
                ledger.duplicates += 1
            ledger.marks[key] = Mark(
                student_id=key[0],
                date=key[1],
                session=key[2],
                code_id=str(record["attendance_code_id"]),
                writeback_id=wid,
                seq=len(ledger.recorded_at) + 1,
                comment=record.get("comment"),
                minutes_late=record.get("minutes_late"),
            )
            ledger.recorded_at[key] = now
        ledger.writebacks[wid] = keys
    if state.take_writeback_failure():
        return error(502, "Bad Gateway")
    response = json_response({"writeback_id": wid})
    return replace(response, delay=state.faults.writeback_delay_ms / 1000)


def _writeback_status(state: EmulatorState, wid: str) -> Response:
    keys = state.ledger.writebacks.get(wid)
    if keys is None:
        return error(404, f"writeback {wid} not found")
    return json_response(
        {"data": {"id": wid, "status": "completed", "type": "attendance", "count": len(keys)}}
    )
