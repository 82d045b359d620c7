"""The ``required`` rule's cleaning of ``first_name`` / ``last_name``."""

from __future__ import annotations

import unicodedata

from connectkit.sync.normalise import text_key

__all__ = ["REQUIRED_FIELDS", "clean_name"]

REQUIRED_FIELDS = ("first_name", "last_name")
_LABELS = {"first_name": "first name", "last_name": "last name"}

# Invisible characters that are never meaningful inside a name and are dropped from the
# cleaned value: zero-width space, word joiner, BOM / zero-width no-break space, soft hyphen.
# (ZWJ / ZWNJ are kept: they matter in some scripts. Keys drop every Cf character anyway.)
_STRAY_INVISIBLES = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


def clean_name(value: str | None) -> str | None:
    """A name with whitespace collapsed, ends stripped, NFC, stray invisibles removed;
    ``None`` when nothing comparable is left (its ``text_key`` is empty)."""
    if value is None:
        return None
    if value.isascii():
        # ASCII: text_key is the lower-cased split/join of this, empty exactly when it is.
        return " ".join(value.split()) or None
    cleaned = " ".join(unicodedata.normalize("NFC", value).translate(_STRAY_INVISIBLES).split())
    return cleaned if text_key(cleaned) else None
