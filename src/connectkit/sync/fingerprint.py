"""Source digests: the fast path that lets an unchanged record skip staging.

A record's *source digest* covers everything staging derives a directory user from:
the mapped fields (after record adjusters and the admin's overrides), the user types
and mapped groups, the person id and MIS code, and -- through the run's *salt* -- the
integration's mapping, its phone region and site, the engine's validation rules
version and the versions of the validation libraries. Commit stores the digest on the
user (``users.source_hash``). On a later run a record whose digest equals its linked,
active user's ``source_hash`` would stage, validate and plan to exactly what the user
already holds, so the stager only notes it as seen (``seen_unchanged``) and the plan
writes its ``unchanged`` line; validation, matching and the staging write are skipped.

Anything that could change the outcome without changing the digest clears
``users.source_hash`` instead (an admin's edit in review, a mapping change, removing
the integration), so the next run checks those records in full.

Connectors with the ``fingerprints`` capability go one step further: each record
carries a fingerprint of its raw source, and the digest is made of that fingerprint
instead of the mapped values (unless a record adjuster is installed or the record has
an override, whose effects the fingerprint cannot see). The engine can then vouch for
a record before the connector maps it (``ConnectorContext.unchanged``), and the
connector skips mapping it altogether.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson

from connectkit.sync.mapper import Mapped

RULES_VERSION = "1"
"""Bump whenever validation, normalisation or staging rules change what a record
stages to: every digest changes with it, so every record is checked in full once."""

_LIBRARIES = ("email-validator", "phonenumbers")


@cache
def _library_versions() -> tuple[str, ...]:
    """The installed versions of the validation libraries, read once per process (the
    code a process runs is the version it imported)."""
    found = []
    for name in _LIBRARIES:
        try:
            found.append(f"{name}=={version(name)}")
        except PackageNotFoundError:  # pragma: no cover - both are dependencies
            found.append(f"{name}==?")
    return tuple(found)


def run_salt(mapping: Mapping[str, Any], phone_region: str, site: str | None) -> bytes:
    """The 32-byte key every digest of one run is made with (see the module doc)."""
    context = {
        "rules": RULES_VERSION,
        "libraries": _library_versions(),
        "mapping": mapping,
        "phone_region": phone_region,
        "site": site,
    }
    return hashlib.blake2b(orjson.dumps(context, option=orjson.OPT_SORT_KEYS)).digest()[:32]


def fingerprint_digest(salt: bytes, fingerprint: str) -> str:
    """The source digest of a record known by its connector fingerprint alone."""
    payload = b"fingerprint:" + fingerprint.encode()
    return hashlib.blake2b(payload, digest_size=16, key=salt).hexdigest()


def source_digest(salt: bytes, record: Mapped, *, by_fingerprint: bool = False) -> str:
    """The hex digest (32 characters) of ``record`` under ``salt``: of its connector
    fingerprint when ``by_fingerprint`` and it has one, else of its mapped values."""
    if by_fingerprint and record.fingerprint:
        return fingerprint_digest(salt, record.fingerprint)
    payload = orjson.dumps(
        (
            str(record.role),
            record.person_id,
            record.mis_code,
            sorted(record.fields.items()),
            record.user_types,
            record.groups,
        )
    )
    return hashlib.blake2b(payload, digest_size=16, key=salt).hexdigest()
