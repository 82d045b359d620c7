"""Wonde record fingerprints and leaving out the records the engine vouches for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectkit.models import Role
from connectkit_wonde import people
from connectkit_wonde.mapping import fingerprint

RAW: dict[str, Any] = {
    "id": "A1",
    "upi": "u1",
    "forename": "Zoë",
    "surname": "Ng",
    "contact_details": {"data": {"emails": {"primary": "zoe@x.org"}}},
    "groups": {"data": [{"id": "G1", "type": "YEAR"}]},
}


def test_fingerprint_ignores_key_order_and_sees_every_change() -> None:
    reordered = dict(reversed(list(RAW.items())))
    assert fingerprint(reordered, Role.STUDENT) == fingerprint(RAW, Role.STUDENT)
    base = fingerprint(RAW, Role.STUDENT)
    changed = {**RAW, "contact_details": {"data": {"emails": {"primary": "z@x.org"}}}}
    variants = [
        fingerprint(changed, Role.STUDENT),
        fingerprint({**RAW, "middle_names": None}, Role.STUDENT),  # a new key, even null
        fingerprint(RAW, Role.STAFF),
        fingerprint(RAW, Role.STUDENT, ["contact_details.emails"]),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def _rows() -> list[dict[str, Any]]:
    return [{**RAW, "id": f"A{n}", "upi": f"u{n}"} for n in range(5)]


def test_vouched_records_are_listed_not_mapped() -> None:
    asked: list[Mapping[str, str]] = []

    def vouch(prints: Mapping[str, str]) -> frozenset[str]:
        asked.append(dict(prints))
        return frozenset({"A1", "A3"})

    found, same = people._people(None, Role.STUDENT, _rows(), frozenset(), vouch)  # type: ignore[arg-type]
    assert [p.mis_id for p in found] == ["A0", "A2", "A4"]
    assert same == ("A1", "A3")
    assert len(asked) == 1  # one question per page
    assert asked[0]["A2"] == fingerprint(_rows()[2], Role.STUDENT)
    assert all(p.fingerprint == asked[0][p.mis_id] for p in found)


def test_without_vouching_every_record_is_mapped_with_its_fingerprint() -> None:
    found, same = people._people(
        None,  # type: ignore[arg-type]
        Role.STUDENT,
        [*_rows(), "not a record", {"id": None}],
        frozenset(),
        lambda _prints: frozenset(),
    )
    assert [p.mis_id for p in found] == ["A0", "A1", "A2", "A3", "A4"]
    assert same == ()
    assert all(p.fingerprint for p in found)
