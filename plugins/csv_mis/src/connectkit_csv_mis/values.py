"""Parsing of cell values shared by the generic and OneRoster readers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any


def parse_timestamp(text: str) -> datetime | None:
    """ISO 8601 timestamp (``Z`` or offset; naive means UTC); blank gives None.

    Raises ValueError for anything else.
    """
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_date(text: str, fmt: str = "%Y-%m-%d") -> date | None:
    """A date in ``fmt``; blank gives None; raises ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    if fmt == "%Y-%m-%d" and len(text) == 10:
        return date.fromisoformat(text)
    return datetime.strptime(text, fmt).date()


def split_values(text: str, separator: str) -> list[str]:
    """Non-blank, stripped parts of a multi-valued cell."""
    if separator not in text:
        text = text.strip()
        return [text] if text else []
    return [part.strip() for part in text.split(separator) if part.strip()]


def row_hash(row: Sequence[str]) -> str:
    """A short content hash of a raw row (any column change changes it)."""
    return hashlib.blake2b("\x1f".join(row).encode(), digest_size=16).hexdigest()


def header_paths(header: Sequence[str]) -> list[tuple[str, ...]] | None:
    """Dotted header names as paths (``metadata.jp.x`` -> 3 segments); None if none dotted."""
    if not any("." in name for name in header):
        return None
    return [tuple(name.split(".")) for name in header]


def raw_extras(
    header: Sequence[str], paths: list[tuple[str, ...]] | None, row: Sequence[str]
) -> dict[str, Any]:
    """The raw row as extras: flat by header name, dotted names nested."""
    if paths is None:
        return dict(zip(header, row, strict=True))
    extras: dict[str, Any] = {}
    for path, value in zip(paths, row, strict=True):
        node = extras
        for segment in path[:-1]:
            child = node.setdefault(segment, {})
            if not isinstance(child, dict):
                child = node[".".join(path[:-1])] = {}
            node = child
        node[path[-1]] = value
    return extras
