"""Wonde record fingerprints and leaving out the records the engine vouches for."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from connectkit.models import Role
from connectkit_wonde import people
from connectkit_wonde.mapping import MAPPING_REVISION, fingerprint

RAW: dict[str, Any] = {
    "id": "A1",
    "upi": "u1",
    "forename": "Zoë",
    "surname": "Ng",
    "contact_details": {"data": {"emails": {"primary": "zoe@x.org"}}},
    "groups": {"data": [{"id": "G1", "type": "YEAR"}]},
}


def test_fingerprint_is_stable_and_sees_every_change() -> None:
    base = fingerprint(RAW, Role.STUDENT)
    assert fingerprint(dict(RAW), Role.STUDENT) == base  # equal input, equal fingerprint
    assert fingerprint(RAW, Role.STUDENT, ["b", "a"]) == fingerprint(RAW, Role.STUDENT, "ab")
    changed = {**RAW, "contact_details": {"data": {"emails": {"primary": "z@x.org"}}}}
    variants = [
        fingerprint(changed, Role.STUDENT),
        fingerprint({**RAW, "middle_names": None}, Role.STUDENT),  # a new key, even null
        fingerprint(RAW, Role.STAFF),
        fingerprint(RAW, Role.STUDENT, ["contact_details.emails"]),
        fingerprint(dict(reversed(list(RAW.items()))), Role.STUDENT),  # see below
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_fingerprint_bytes_are_pinned_to_the_mapping_revision() -> None:
    """The digest of revision 2: the raw record in its own key order (so the same record
    with its keys reordered is "changed" once: safe, and cheaper than sorting every
    record's keys), the role, the sorted not-permitted paths. A change to these bytes must
    bump MAPPING_REVISION (and this pin), or every stored fingerprint would silently mean
    something else."""
    assert MAPPING_REVISION == "2"
    assert fingerprint(RAW, Role.STUDENT) == "a1445b9408d7f46141bb898c38873af2"
    assert fingerprint(RAW, Role.STAFF, ["b", "a"]) == "a927811bf5029d0d6a1618a8dafd7330"
    source = orjson.dumps(["2", "staff", ["a", "b"], RAW])
    expected = hashlib.blake2b(source, digest_size=16).hexdigest()
    assert fingerprint(RAW, Role.STAFF, iter(["b", "a"])) == expected


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
