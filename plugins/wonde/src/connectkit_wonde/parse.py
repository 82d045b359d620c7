"""Lenient readers for Wonde's JSON shapes (reference §5, §6).

Wonde dates arrive as PHP DateTime objects (``{"date": "...", "timezone": "UTC"}``, with or
without microseconds), as plain strings, or as null. Relations arrive as an id string,
``{"data": obj}``, ``{"data": [...]}``, ``{"data": null}`` or null. ``per_page`` may be a
string or an int. Unknown keys are always tolerated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
)


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
    if value is None or value == "":
        return None
    zone: Any = UTC
    if isinstance(value, dict):
        raw = value.get("date")
        if raw is None:
            return None
        if value.get("timezone") == "UTC" and type(raw) is str and len(raw) == 26:
            try:  # the common case, "2023-07-24 13:05:36.000000" in UTC
                return datetime.fromisoformat(raw).replace(tzinfo=UTC)
            except ValueError:
                pass
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
