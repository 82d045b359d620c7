"""Normalised match keys stored on ``users`` rows (``name_key``, ``email_key``, ``phone_key``).

The keys are what duplicate detection (R3.4) compares, through the indexed columns of
``users``; they are computed with :mod:`connectkit.sync.normalise` so every writer of a
users row and every reader of the index agree on one normal form.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectkit.sync import normalise


def user_keys(fields: Mapping[str, str | None]) -> dict[str, str | None]:
    """The key columns for a users row with these directory ``fields``.

    Returns ``{"name_key", "email_key", "phone_key"}``. ``phone`` must already be E.164
    (as validation leaves it). Missing fields give None keys, except ``name_key`` which
    is always a string (empty names still join as ``"\\x1f"``).
    """
    return {
        "name_key": normalise.name_key(fields.get("first_name"), fields.get("last_name")),
        "email_key": normalise.email_key(fields.get("email")),
        "phone_key": normalise.phone_key(fields.get("phone")),
    }
