"""Factories give deterministic, realistic, valid records (Unicode names included)."""

from __future__ import annotations

import struct
import unicodedata
import zlib
from itertools import islice

import phonenumbers
from email_validator import validate_email

from connectkit.models import GroupKind, Role
from connectkit.testing import factories


def test_same_seed_same_people_other_seed_other_people() -> None:
    first = factories.make_people(Role.STUDENT, 30, seed=1)
    assert first == factories.make_people(Role.STUDENT, 30, seed=1)
    other = factories.make_people(Role.STUDENT, 30, seed=2)
    assert [p.mis_id for p in other] == [p.mis_id for p in first]
    assert [(p.first_name, p.last_name) for p in other] != [
        (p.first_name, p.last_name) for p in first
    ]


def test_people_are_realistic_and_valid() -> None:
    people = factories.make_people(Role.STUDENT, 200) + factories.make_people(Role.STAFF, 40)
    assert len({p.mis_id for p in people}) == 240
    names = [f"{p.first_name} {p.last_name}" for p in people]
    assert any(not name.isascii() for name in names)  # accents, Ł, Nguyễn, 李 ...
    assert all(unicodedata.is_normalized("NFC", name) for name in names)
    for person in people:
        validate_email(person.emails["primary"], check_deliverability=False)
        phone = phonenumbers.parse(person.phones["mobile"], None)
        assert phonenumbers.is_possible_number(phone), person.phones
        assert person.updated_at is not None
        assert person.updated_at.tzinfo is not None
    group_ids = {g.id for g in factories.school_groups()}
    assert all(m.group_id in group_ids for p in people for m in p.groups)
    student_kinds = {m.kind for p in people if p.role == Role.STUDENT for m in p.groups}
    assert student_kinds == {GroupKind.YEAR, GroupKind.REGISTRATION}


def test_iter_people_is_lazy_and_matches_make_people() -> None:
    stream = factories.iter_people(Role.STAFF, 10**9, seed=4)  # never materialised
    assert list(islice(stream, 3)) == factories.make_people(Role.STAFF, 3, seed=4)


def test_ascii_slug_keeps_letters_readable() -> None:
    assert factories.ascii_slug("Łukasz Ørsted-Dąbrowski") == "lukaszorsteddabrowski"
    assert factories.ascii_slug("李") == "x"


def test_png_bytes_is_a_well_formed_png() -> None:
    data = factories.png_bytes(seed=3, size=5)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        offset += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">II", chunks[0][1][:8]) == (5, 5)
    assert len(zlib.decompress(chunks[1][1])) == 5 * (1 + 5 * 3)
    assert factories.png_bytes(seed=3) != factories.png_bytes(seed=4)


def test_attendance_codes_are_unique() -> None:
    codes = [c.code for c in factories.attendance_codes()]
    assert len(codes) == len(set(codes)) >= 5
