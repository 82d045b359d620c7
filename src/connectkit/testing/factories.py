"""Deterministic, realistic test data: MIS people, groups, attendance codes and photos.

Every builder takes a ``seed``; the same arguments always give the same records, so tests
and benchmarks are repeatable. Names deliberately include non-ASCII letters (accents,
Polish, Vietnamese, Irish, Chinese) and apostrophes, because real schools have them.
Records are generated lazily (:func:`iter_people`) so benchmarks can stream big schools.
"""

from __future__ import annotations

import random
import struct
import unicodedata
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from connectkit.models import (
    AttendanceCode,
    GroupKind,
    GroupMembership,
    MISGroup,
    MISPerson,
    Role,
)

FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Amelia", "Zoë", "Siobhán", "Aïsha", "Chloé", "Maja", "Ngọc", "Mei", "Freya",
    "Oliver", "Noah", "José", "Łukasz", "Seán", "Mohammed", "Jörg", "Dominik", "Kwame", "Oisín",
    "Wei", "Ana-María", "Björn", "Émile", "Priya", "Tomás", "Yusuf", "Ewa", "Ruairí", "Zoltán",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "O'Brien", "Müller", "Nguyễn", "García", "Kowalski", "Ørsted", "Patel",
    "Okafor", "Ní Bhriain", "Dąbrowski", "Lefèvre", "Zhang", "李", "Da Silva", "MacLeod",
    "Van der Berg", "Şahin", "Ahmed", "Evans", "Taylor", "Brown", "Wilson", "Hughes",
)  # fmt: skip
STAFF_GROUPS: tuple[str, ...] = ("Teaching", "Support", "Office", "Leadership")
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "\u0131": "i"})
EPOCH = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents dropped), for emails."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum()) or "x"


def year_groups(count: int = 6, first: int = 1) -> list[MISGroup]:
    """Year groups ``Year first`` … as student groups with ids ``yr-<n>``."""
    return [
        MISGroup(id=f"yr-{n}", name=f"Year {n}", kind=GroupKind.YEAR, code=f"Y{n}")
        for n in range(first, first + count)
    ]


def staff_groups() -> list[MISGroup]:
    """The staff groups of :data:`STAFF_GROUPS`, ids ``st-<name>``."""
    return [
        MISGroup(id=f"st-{name.lower()}", name=name, kind=GroupKind.STAFF, role=Role.STAFF)
        for name in STAFF_GROUPS
    ]


def school_groups(years: int = 6) -> list[MISGroup]:
    """Year groups, one registration group per year, and the staff groups."""
    registration = [
        MISGroup(id=f"reg-{n}", name=f"{n}A", kind=GroupKind.REGISTRATION, code=f"{n}A")
        for n in range(1, years + 1)
    ]
    return year_groups(years) + registration + staff_groups()


def make_person(
    role: Role, index: int, *, seed: int = 0, prefix: str | None = None, years: int = 6
) -> MISPerson:
    """The ``index``-th person of ``role`` for ``seed``: same inputs, same record.

    Students belong to one year group (``yr-<n>``) and its registration group; staff to
    one staff group. ``mis_id`` is ``<prefix><index>`` (prefix ``S`` / ``T`` by default).
    """
    rng = random.Random(f"{seed}:{role}:{index}")
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    code = prefix if prefix is not None else ("S" if role == Role.STUDENT else "T")
    mis_id = f"{code}{index:06d}"
    email = f"{ascii_slug(first)}.{ascii_slug(last)}{index}@example.sch.uk"
    phone = f"+447700900{index % 1000:03d}"  # Ofcom's drama range: never a real number
    groups: tuple[GroupMembership, ...]
    if role == Role.STUDENT:
        year = 1 + index % years
        groups = (
            GroupMembership(group_id=f"yr-{year}", kind=GroupKind.YEAR),
            GroupMembership(group_id=f"reg-{year}", kind=GroupKind.REGISTRATION),
        )
        born = date(2020 - year, 1, 1) + timedelta(days=rng.randrange(365))
    else:
        group = STAFF_GROUPS[index % len(STAFF_GROUPS)].lower()
        groups = (GroupMembership(group_id=f"st-{group}", kind=GroupKind.STAFF),)
        born = date(1970, 1, 1) + timedelta(days=rng.randrange(30 * 365))
    return MISPerson(
        mis_id=mis_id,
        role=role,
        person_id=f"upi-{seed}-{mis_id}",
        mis_code=str(1000 + index),
        first_name=first,
        last_name=last,
        preferred_first_name=first if rng.random() < 0.9 else first[:3],
        emails={"primary": email},
        phones={"mobile": phone},
        date_of_birth=born,
        groups=groups,
        updated_at=EPOCH + timedelta(minutes=index),
        extras={"source": "factories", "house": rng.choice(["Red", "Blue", "Green"])},
    )


def iter_people(
    role: Role, count: int, *, seed: int = 0, start: int = 0, years: int = 6
) -> Iterator[MISPerson]:
    """Lazily yield ``count`` people of ``role`` (indices ``start`` …)."""
    for index in range(start, start + count):
        yield make_person(role, index, seed=seed, years=years)


def make_people(role: Role, count: int, *, seed: int = 0, start: int = 0) -> list[MISPerson]:
    """``count`` people of ``role`` as a list (small tests; stream with iter_people)."""
    return list(iter_people(role, count, seed=seed, start=start))


def attendance_codes() -> list[AttendanceCode]:
    """A handful of DfE-style session codes."""
    rows = [
        ("/", "Present (AM)", "present"),
        ("\\", "Present (PM)", "present"),
        ("L", "Late (before registers closed)", "present"),
        ("I", "Illness", "authorised absence"),
        ("M", "Medical or dental appointment", "authorised absence"),
        ("O", "Unauthorised absence", "unauthorised absence"),
        ("N", "No reason yet provided", "unauthorised absence"),
    ]
    return [
        AttendanceCode(code=code, description=text, meaning=meaning, mis_id=f"ac-{n}")
        for n, (code, text, meaning) in enumerate(rows)
    ]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bytes(seed: int = 0, size: int = 4) -> bytes:
    """A real ``size`` x ``size`` RGB PNG whose colour depends on ``seed``."""
    rng = random.Random(seed)
    pixel = bytes(rng.randrange(256) for _ in range(3))
    rows = b"".join(b"\x00" + pixel * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )
