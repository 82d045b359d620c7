"""Lenient readers for Wonde's JSON shapes (reference §5, §6).

Wonde dates arrive as PHP DateTime objects (``{"date": "...", "timezone": "UTC"}``, with or
without microseconds), as plain strings, or as null. Relations arrive as an id string,
``{"data": obj}``, ``{"data": [...]}``, ``{"data": null}`` or null. ``per_page`` may be a
string or an int. Unknown keys are always tolerated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
)


_fromisoformat = datetime.fromisoformat
_UTC_LENGTHS = frozenset((19, 26))
"""Lengths of Wonde's UTC date strings ``YYYY-MM-DD HH:MM:SS[.ffffff]`` taking the fast path.

The fast path parses ``raw + "+00:00"``. ``fromisoformat`` takes the time zone from the first
``+``/``-``/``Z`` of the time part, so this parses only when ``raw`` itself has no zone, and
then gives the time ``raw`` names in UTC (``timezone.utc``, the object ``UTC`` is): exactly
what the general path gives (parse, then ``replace(tzinfo=UTC)``, then ``astimezone(UTC)``).
Anything else (an offset, blanks, other shapes) fails and takes the general path; so does any
``Z`` (``fromisoformat`` takes any character as the date-time separator, but the general path
reads every ``Z`` as ``+00:00``: ``"2024-07-24Z13:05:36"`` is unreadable there).
``tests/test_parse.py`` checks the two paths agree on mutations of both shapes.
"""


_T = TypeVar("_T")
_SEEN_MAX = 50_000
_UTC_SEEN: dict[str, datetime] = {}
"""Fast-path results by Wonde UTC date string (datetimes are immutable: sharing is safe)."""
_DATES_SEEN: dict[str, date] = {}
"""``parse_date`` results by date string (many people share a date of birth)."""


def _remember(seen: dict[str, _T], key: str, value: _T) -> _T:
    """``seen[key] = value`` (emptying ``seen`` first when it is full); returns ``value``."""
    if len(seen) >= _SEEN_MAX:
        seen.clear()
    seen[key] = value
    return value


def _zone(name: object) -> Any:
    if not isinstance(name, str) or name.upper() in ("UTC", "Z", "+00:00"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from a Wonde date object or string; None if absent.

    Raises ValueError for a value that is present but unreadable.
    """
    if type(value) is dict:  # never None nor "": straight to the dict case below
        raw = value.get("date")
        if type(raw) is str and value.get("timezone") == "UTC":
            found = _UTC_SEEN.get(raw)
            if found is not None:
                return found
            if len(raw) in _UTC_LENGTHS and "Z" not in raw:
                try:  # the common case, "2023-07-24 13:05:36.000000" in UTC: see _UTC_LENGTHS
                    found = _fromisoformat(raw + "+00:00")
                except ValueError:
                    pass
                else:
                    return _remember(_UTC_SEEN, raw, found)
    return read_datetime(value)


def read_datetime(value: Any) -> datetime | None:
    """:func:`parse_datetime` without its UTC fast path and cache: the general reading
    they must agree with (``tests/test_parse.py`` checks they do)."""
    if value is None or value == "":
        return None
    zone: Any = UTC
    if isinstance(value, dict):
        raw = value.get("date")
        if raw is None:
            return None
        zone = _zone(value.get("timezone"))
        value = raw
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _strptime(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _strptime(text: str) -> datetime:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def parse_date(value: Any) -> date | None:
    """The calendar date of a Wonde date object or string, without time-zone conversion
    (a date of birth is a date, not an instant). None if absent; ValueError if unreadable."""
    if value is None or value == "":
        return None
    raw = value.get("date") if isinstance(value, dict) else value
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) < 10:
        raise ValueError(f"not a date: {raw!r}")
    found = _DATES_SEEN.get(raw)
    if found is None:
        found = _remember(_DATES_SEEN, raw, read_date(raw))
    return found


def read_date(raw: str) -> date:
    """The calendar date a Wonde date string (at least ten characters) starts with,
    uncached; ValueError if it does not start with one."""
    return date.fromisoformat(raw[:10])


def relation(value: Any) -> Any:
    """The payload of a relation: the object or list inside ``{"data": ...}``, an id
    string as is, or None when absent."""
    if isinstance(value, dict) and "data" in value:
        return value["data"]
    return value


def relation_list(value: Any) -> list[Any]:
    """A to-many relation as a list (empty when absent or null)."""
    inner = relation(value)
    if inner is None:
        return []
    return inner if isinstance(inner, list) else [inner]


def relation_id(value: Any) -> str | None:
    """The id of a to-one relation given as an id string or an object; None if absent."""
    inner = relation(value)
    if isinstance(inner, str):
        return inner or None
    if isinstance(inner, dict):
        ident = inner.get("id")
        return str(ident) if ident is not None else None
    return None


def as_int(value: Any, default: int | None = None) -> int | None:
    """An int from an int or a numeric string (``per_page`` is both); else ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return default


def next_page_url(payload: Any) -> str | None:
    """Where the next page is: ``meta.pagination.next`` unless null or ``more`` is false.

    A missing pagination block means this is the only page (reference §5.2).
    """
    if not isinstance(payload, dict):
        return None
    meta = payload.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(pagination, dict):
        return None
    nxt = pagination.get("next")
    if pagination.get("more") is False or not isinstance(nxt, str) or not nxt:
        return None
    return nxt


def format_updated_after(moment: datetime) -> str:
    """``updated_after`` as Wonde's README shows it: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
