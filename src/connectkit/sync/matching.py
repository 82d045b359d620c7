"""Duplicate detection (R3.4) through the indexed key columns of ``users``.

A staged record is a duplicate of a directory user that is *not* linked to this
integration when their normalised names are equal and their emails or their phones are
equal. Lookups go through the ``name_key`` index of ``users``, one query per page of
records (:func:`find_duplicates`), never pairwise; the emails and phones of the few users
found are compared here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from connectkit.sync import bulk
from connectkit.sync.keys import user_keys

NAME_EMAIL = "name+email"
NAME_PHONE = "name+phone"
_CHUNK = 500


@dataclass(frozen=True)
class Match:
    """Why a record is a duplicate: the directory user it matched and the key used."""

    user_id: int
    key: str


def find_duplicate(
    conn: sa.Connection, integration_id: int, fields: Mapping[str, str | None]
) -> Match | None:
    """The directory user (not linked to ``integration_id``) that ``fields`` duplicates.

    ``fields`` are cleaned directory fields (email normalised, phone E.164). Email
    matches win over phone matches; among several users the lowest id wins.
    """
    found = find_duplicates(conn, integration_id, [user_keys(fields)])
    return found.get(0)


def find_duplicates(
    conn: sa.Connection, integration_id: int, keys: Sequence[Mapping[str, str | None]]
) -> dict[int, Match]:
    """Batch form: ``keys[i]`` are :func:`user_keys` of record ``i``; returns ``{i: Match}``.

    One indexed query per chunk of distinct name keys.
    """
    names = sorted({k["name_key"] for k in keys if _has_contact(k) and k["name_key"]})
    by_email: dict[tuple[str, str], int] = {}
    by_phone: dict[tuple[str, str], int] = {}
    for chunk in _chunks(names):
        sql = _LOOKUP.format(names=bulk.placeholders(conn, len(chunk)), p=_mark(conn))
        for uid, name_key, email_key, phone_key in conn.exec_driver_sql(
            sql, (*chunk, integration_id)
        ).all():
            _remember(by_email, (name_key, email_key), uid)
            _remember(by_phone, (name_key, phone_key), uid)
    result: dict[int, Match] = {}
    for index, k in enumerate(keys):
        match = _match(k, by_email, by_phone)
        if match is not None:
            result[index] = match
    return result


def _has_contact(k: Mapping[str, str | None]) -> bool:
    return bool(k.get("email_key") or k.get("phone_key"))


_LOOKUP = (
    "SELECT id, name_key, email_key, phone_key FROM users WHERE name_key IN ({names}) "
    "AND (integration_id IS NULL OR integration_id <> {p}) ORDER BY id"
)
"""Directory users with these name keys not linked to the integration (the name_key
index); sent straight to the driver, as it runs once per staged page."""


def _mark(conn: sa.Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _remember(index: dict[tuple[str, str], int], key: tuple[str, str | None], uid: int) -> None:
    if key[1] and (key[0], key[1]) not in index:
        index[(key[0], key[1])] = uid


def _match(
    k: Mapping[str, str | None],
    by_email: Mapping[tuple[str, str], int],
    by_phone: Mapping[tuple[str, str], int],
) -> Match | None:
    name, email, phone = k.get("name_key") or "", k.get("email_key"), k.get("phone_key")
    if email and (name, email) in by_email:
        return Match(by_email[(name, email)], NAME_EMAIL)
    if phone and (name, phone) in by_phone:
        return Match(by_phone[(name, phone)], NAME_PHONE)
    return None


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
