"""Streaming people passes (students, leavers, pre-admissions, staff) with resumable cursors.

A role's pass walks one or more Wonde list endpoints in order. The cursor stored by the
core is ``"<endpoint>|<next page URL>"``; the URL is Wonde's own ``meta.pagination.next``
(which carries no token: the token travels in the Authorization header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from connectkit.errors import BadResponseError
from connectkit.models import MISPerson, PeoplePage, Role
from connectkit_wonde.api import WondeAPI
from connectkit_wonde.mapping import fingerprint, map_person
from connectkit_wonde.parse import format_updated_after, relation
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


def _keep(api: WondeAPI, role: Role, raw: Any) -> bool:
    if role is not Role.STAFF or not api.cfg.current_staff_only:
        return True
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

    Every record is fingerprinted; those ``unchanged`` (``ConnectorContext.unchanged``)
    vouches for are not mapped but listed in the page's ``unchanged``.
    """
    order = sources(api, role)
    params = _params(api, role, since)
    if cursor is None:
        start, url = order[0], api.first_url(order[0], params)
    else:
        start, url = _split(cursor, order)
    denied = not_permitted_paths(api)
    for index in range(order.index(start), len(order)):
        source = order[index]
        if source != start:
            url = api.first_url(source, params)
        later = order[index + 1] if index + 1 < len(order) else None
        for page in api.pages(url, prefetch=True):
            people, same = _people(api, role, page.payload["data"], denied, unchanged)
            if page.next is not None:
                nxt: str | None = f"{source}|{page.next}"
            elif later is not None:
                nxt = f"{later}|{api.first_url(later, params)}"
            else:
                nxt = None
            yield PeoplePage(people=people, cursor=nxt, unchanged=same)


def _people(
    api: WondeAPI, role: Role, rows: list[Any], denied: frozenset[str], unchanged: Vouch
) -> tuple[tuple[MISPerson, ...], tuple[str, ...]]:
    """(the page's people, mapped; the ids of its records the engine vouched for)."""
    kept = [raw for raw in rows if isinstance(raw, dict) and _keep(api, role, raw)]
    prints = {
        ident: fingerprint(raw, role, denied)
        for raw in kept
        if isinstance(ident := raw.get("id"), str) and ident.strip() == ident and ident
    }
    vouched = unchanged(prints) if prints else frozenset()
    people = []
    for raw in kept:
        ident = raw.get("id")
        if ident in vouched:
            continue
        print_ = prints.get(ident) if isinstance(ident, str) else None
        person = map_person(raw, role, denied, print_)
        if person is not None:
            people.append(person)
    return tuple(people), tuple(i for i in prints if i in vouched)
