"""Wonde record fingerprints and leaving out the records the engine vouches for."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from connectkit.models import Role
from connectkit_wonde import people
from connectkit_wonde.mapping import MAPPING_REVISION, fingerprint
from connectkit_wonde.records import RawRecord

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
    """The digest of revision 2: the role and the sorted not-permitted paths, then the
    record's JSON bytes as received (a decoded record is serialised in its own key
    order). A change to these bytes must bump MAPPING_REVISION (and this pin), or every
    stored fingerprint would silently mean something else."""
    assert MAPPING_REVISION == "2"
    source = orjson.dumps(RAW)
    assert fingerprint(source, Role.STUDENT) == fingerprint(RAW, Role.STUDENT)
    assert fingerprint(RAW, Role.STUDENT) == "5388e91298583debc24918a66310ad69"
    header = orjson.dumps(["2", "staff", ["a", "b"]]) + b"\n"
    expected = hashlib.blake2b(header + source, digest_size=16).hexdigest()
    assert fingerprint(source, Role.STAFF, iter(["b", "a"])) == expected


def test_a_record_sent_with_other_spacing_fingerprints_differently_once() -> None:
    spaced = orjson.dumps(RAW, option=orjson.OPT_INDENT_2)
    assert fingerprint(spaced, Role.STUDENT) != fingerprint(orjson.dumps(RAW), Role.STUDENT)
    assert fingerprint(spaced, Role.STUDENT) == fingerprint(bytes(spaced), Role.STUDENT)


def _rows() -> list[dict[str, Any]]:
    return [{**RAW, "id": f"A{n}", "upi": f"u{n}"} for n in range(5)]


def _records(rows: list[Any]) -> list[RawRecord]:
    """The rows as a lazily read page holds them (their JSON bytes)."""
    return [RawRecord.of(orjson.dumps(row)) for row in rows]


def test_vouched_records_are_listed_not_mapped() -> None:
    asked: list[Mapping[str, str]] = []

    def vouch(prints: Mapping[str, str]) -> frozenset[str]:
        asked.append(dict(prints))
        return frozenset({"A1", "A3"})

    found, same = people.read_people(Role.STUDENT, _records(_rows()), frozenset(), vouch)
    assert [p.mis_id for p in found] == ["A0", "A2", "A4"]
    assert same == ("A1", "A3")
    assert len(asked) == 1  # one question per page
    assert asked[0]["A2"] == fingerprint(orjson.dumps(_rows()[2]), Role.STUDENT)
    assert all(p.fingerprint == asked[0][p.mis_id] for p in found)


def test_without_vouching_every_record_is_mapped_with_its_fingerprint() -> None:
    found, same = people.read_people(
        Role.STUDENT,
        _records([*_rows(), "not a record", {"id": None}, {"id": " A9 ", "upi": "u9"}]),
        frozenset(),
        lambda _prints: frozenset(),
    )
    assert [p.mis_id for p in found] == ["A0", "A1", "A2", "A3", "A4", "A9"]
    assert same == ()
    assert [bool(p.fingerprint) for p in found] == [True] * 5 + [False]  # " A9 ": no id

