"""Plain reference readings of Wonde dates: the general path of ``connectkit_wonde.parse``
stated without fast paths or caches, for tests that require the real functions to agree
with it exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
            "%Y-%m-%dT%H:%M:%S")  # fmt: skip


def reference_datetime(value: object) -> datetime | None:
    """A Wonde date object or string as an aware UTC datetime (None if absent)."""
    if value is None or value == "":
        return None
    zone: Any = UTC
    if isinstance(value, dict):
        if value.get("date") is None:
            return None
        name = value.get("timezone")
        if isinstance(name, str) and name.upper() not in ("UTC", "Z", "+00:00"):
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC
        value = value["date"]
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
    raise ValueError(f"not a date: {text!r}") from None


def reference_date(value: object) -> date | None:
    """The calendar date of a Wonde date object or string (None if absent)."""
    if value is None or value == "":
        return None
    raw = value.get("date") if isinstance(value, dict) else value
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) < 10:
        raise ValueError(f"not a date: {raw!r}")
    return date.fromisoformat(raw[:10])
