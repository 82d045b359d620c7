"""Streaming people passes (students, leavers, pre-admissions, staff) with resumable cursors.

A role's pass walks one or more Wonde list endpoints in order. The cursor stored by the
core is ``"<endpoint>|<next page URL>"``; the URL is Wonde's own ``meta.pagination.next``
(which carries no token: the token travels in the Authorization header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectkit.errors import BadResponseError
from connectkit.models import MISPerson, PeoplePage, Role
from connectkit_wonde.api import WondeAPI
from connectkit_wonde.mapping import fingerprinter, map_person
from connectkit_wonde.parse import format_updated_after, relation
from connectkit_wonde.records import RawRecord
from connectkit_wonde.scopes import not_permitted_paths

Vouch = Callable[[Mapping[str, str]], frozenset[str]]
"""``ConnectorContext.unchanged``: MIS id -> fingerprint in, the unchanged ids out."""

STUDENT_INCLUDES = "year,groups,contact_details"
STAFF_INCLUDES = "contact_details,employment_details,groups"


def sources(api: WondeAPI, role: Role) -> list[str]:
    """The Wonde endpoints that make up a pass of ``role``, in order."""
    if role is Role.STAFF:
        return ["employees"]
    found = ["students"]
    if api.cfg.include_leavers:
        found.append("students-leaver")
    if api.cfg.include_pre_admissions:
        found.append("students-pre-admission")
    return found


def _params(api: WondeAPI, role: Role, since: datetime | None) -> dict[str, str | int]:
    params: dict[str, str | int] = {
        "include": STAFF_INCLUDES if role is Role.STAFF else STUDENT_INCLUDES,
        "per_page": api.cfg.per_page,
    }
    if since is not None:
        overlap = timedelta(minutes=api.cfg.changed_since_overlap_minutes)
        params["updated_after"] = format_updated_after(since - overlap)
    return params


def _split(cursor: str, allowed: list[str]) -> tuple[str, str]:
    source, sep, url = cursor.partition("|")
    if not sep or source not in allowed or not url:
        raise BadResponseError(f"unusable Wonde people cursor for endpoints {allowed}")
    return source, url


def _current(raw: Any) -> bool:
    """False for a staff record whose employment details say it is not current."""
    details = relation(raw.get("employment_details")) if isinstance(raw, dict) else None
    return not (isinstance(details, dict) and details.get("current") is False)


def people_pages(
    api: WondeAPI,
    role: Role,
    since: datetime | None,
    cursor: str | None,
    unchanged: Vouch = lambda _prints: frozenset(),
) -> Iterator[PeoplePage]:
    """Yield PeoplePages of ``role``; resume after the page whose cursor is ``cursor``.

    Pages are read lazily (:mod:`connectkit_wonde.records`): every record is
    fingerprinted from its bytes; those ``unchanged`` (``ConnectorContext.unchanged``)
    vouches for are never decoded, only listed in the page's ``unchanged``.
    """
    order = sources(api, role)
    params = _params(api, role, since)
    if cursor is None:
        start, url = order[0], api.first_url(order[0], params)
    else:
        start, url = _split(cursor, order)
    denied = not_permitted_paths(api)
    current_only = role is Role.STAFF and api.cfg.current_staff_only
    for index in range(order.index(start), len(order)):
        source = order[index]
        if source != start:
            url = api.first_url(source, params)
        later = order[index + 1] if index + 1 < len(order) else None
        for page in api.pages(url, prefetch=True, lazy=True):
            people, same = read_people(role, page.payload["data"], denied, unchanged, current_only)
            if page.next is not None:
                nxt: str | None = f"{source}|{page.next}"
            elif later is not None:
                nxt = f"{later}|{api.first_url(later, params)}"
            else:
                nxt = None
            yield PeoplePage(people=people, cursor=nxt, unchanged=same)


def read_people(
    role: Role,
    rows: Sequence[RawRecord],
    denied: frozenset[str],
    unchanged: Vouch,
    current_only: bool = False,
) -> tuple[tuple[MISPerson, ...], tuple[str, ...]]:
    """One page's people: (those mapped; the ids of the records the engine vouched for).

    Every record with a usable id is fingerprinted from its bytes, the engine is asked
    once, and only the other records are decoded and mapped (records that are not
    objects are skipped; with ``current_only``, so are staff who are not current, which
    needs their records decoded first)."""
    # (record, its decoded value when already decoded, else None)
    pairs: list[tuple[RawRecord, Any]] = [(row, None) for row in rows]
    if current_only:
        pairs = [(row, raw) for row, raw in ((row, row.decoded()) for row in rows) if _current(raw)]
    of = fingerprinter(role, denied)
    prints = {row.ident: of(row.source) for row, _raw in pairs if row.ident is not None}
    vouched = unchanged(prints) if prints else frozenset()
    people = []
    for row, known in pairs:
        if row.ident in vouched:
            continue
        raw = row.decoded() if known is None else known
        if not isinstance(raw, dict):
            continue
        person = map_person(raw, role, denied, prints.get(row.ident) if row.ident else None)
        if person is not None:
            people.append(person)
    return tuple(people), tuple(i for i in prints if i in vouched)
