"""Groups, deletions and attendance codes: small streamed lists."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from connectkit.errors import AccessNotGrantedError, NotFoundError
from connectkit.models import AttendanceCode, MISDeletion, MISGroup
from connectkit_wonde.api import WondeAPI
from connectkit_wonde.mapping import map_attendance_code, map_deletion, map_group
from connectkit_wonde.parse import format_updated_after

log = logging.getLogger("connectkit_wonde")


def groups(api: WondeAPI) -> Iterator[MISGroup]:
    """Every group of the school, unique by id (year, registration, house, staff …)."""
    seen: set[str] = set()
    url = api.first_url("groups", {"per_page": api.cfg.per_page})
    for page in api.pages(url):
        for raw in page.payload["data"]:
            group = map_group(raw) if isinstance(raw, dict) else None
            if group is not None and group.id not in seen:
                seen.add(group.id)
                yield group


def deletions(api: WondeAPI, since: datetime | None) -> Iterator[MISDeletion]:
    """Student and employee deletions / restorations at or after ``since`` (with overlap)."""
    params: dict[str, str | int] = {"per_page": api.cfg.per_page}
    if since is not None:
        overlap = timedelta(minutes=api.cfg.changed_since_overlap_minutes)
        params["updated_after"] = format_updated_after(since - overlap)
    for page in api.pages(api.first_url("deletions", params)):
        for raw in page.payload["data"]:
            deletion = map_deletion(raw) if isinstance(raw, dict) else None
            if deletion is not None:
                yield deletion


def attendance_codes(api: WondeAPI) -> Iterator[AttendanceCode]:
    """The school's own codes; the global default list when the school has none."""
    found = False
    try:
        for page in api.pages(api.first_url("attendance-codes", {"per_page": 200})):
            for code in _codes(page.payload["data"]):
                found = True
                yield code
    except (NotFoundError, AccessNotGrantedError) as exc:
        log.info("school attendance codes unavailable (%s); using the global list", exc)
    if found:
        return
    url = str(api.client.base_url.join("attendance-codes"))
    for page in api.global_pages(url):
        yield from _codes(page.payload["data"])


def _codes(rows: list[object]) -> Iterator[AttendanceCode]:
    for raw in rows:
        code = map_attendance_code(raw) if isinstance(raw, dict) else None
        if code is not None:
            yield code
