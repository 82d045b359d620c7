"""The one clock integrations use, and UTC normalisation of stored times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def now() -> datetime:
    """The current time (UTC); tests may monkeypatch this one clock."""
    return datetime.now(UTC)


def _aware(value: Any) -> Any:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
