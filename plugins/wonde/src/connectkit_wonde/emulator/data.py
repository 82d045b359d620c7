"""Deterministic synthetic schools, generated record by record.

Nothing is stored per person: record ``i`` of a school is computed from the school's
seed and ``i`` alone (a keyed BLAKE2 hash picks names, groups and dates), so a page of a
100 000-person school costs the same as a page of a 100-person one and the whole school
is never in memory. Deletions are arithmetic (every ``deleted_every``-th student), so the
deletions feed pages directly too. Names, emails and phone numbers are synthetic
(Ofcom drama ranges, ``.example`` domains); no real personal data.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

FIRST = (
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Zoë",
    "Harry",
    "Sophia",
    "Muhammad",
    "Grace",
    "Jack",
    "Aaliyah",
    "Theo",
    "Chloé",
    "Łukasz",
    "Siobhán",
    "Kwame",
    "Priya",
    "Mei",
    "Tomás",
    "Aoife",
    "Yusuf",
    "Elif",
)
LAST = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "O'Brien",
    "Nowak",
    "Khan",
    "Okafor",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Nguyen",
    "Hughes",
    "Ali",
    "Green",
    "Lewis",
    "Müller",
    "Clarke",
    "Hall",
    "Singh",
    "Wood",
)
YEARS = ("7", "8", "9", "10", "11", "12", "13")
FORMS = ("A", "B", "C", "D")
HOUSES = ("Kestrel", "Osprey", "Merlin", "Peregrine")
STAFF_GROUPS = ("Teaching", "Support", "Leadership")
ROLES = ("Teacher", "Teaching Assistant", "Administrator", "Head of Year", "Technician")
CODES = (
    ("/", "Present (AM)", "PRESENT"),
    ("\\", "Present (PM)", "PRESENT"),
    ("L", "Late (before registers closed)", "PRESENT"),
    ("U", "Late (after registers closed)", "UNAUTHORISED"),
    ("B", "Educated off site", "APPROVED"),
    ("C", "Other authorised circumstances", "AUTHORISED"),
    ("D", "Dual registration", "APPROVED"),
    ("E", "Excluded", "AUTHORISED"),
    ("I", "Illness", "AUTHORISED"),
    ("M", "Medical or dental appointment", "AUTHORISED"),
    ("N", "No reason yet provided", "UNAUTHORISED"),
    ("O", "Unauthorised absence", "UNAUTHORISED"),
    ("P", "Approved sporting activity", "APPROVED"),
    ("R", "Religious observance", "AUTHORISED"),
    ("V", "Educational visit or trip", "APPROVED"),
    ("#", "Planned whole-school closure", "NOT_REQUIRED"),
)
EPOCH = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
_GROUPS: dict[tuple[int, int], dict[str, Any]] = {}
ID_BASE = {"student": 1, "employee": 2, "group": 3, "leaver": 4, "pre": 5, "code": 6, "photo": 7}


def h(seed: int, kind: str, index: int) -> int:
    """A stable 64-bit number for record ``index`` of ``kind`` in school ``seed``."""
    digest = hashlib.blake2b(f"{kind}:{index}".encode(), digest_size=8, key=seed.to_bytes(8, "big"))
    return int.from_bytes(digest.digest(), "big")


def wonde_id(kind: str, seed: int, index: int) -> str:
    """An id shaped like Wonde's: ``A`` + digits, unique per kind and school."""
    return f"A{ID_BASE[kind]}{seed % 100:02d}{index:07d}"


def parse_id(value: str, kind: str, seed: int) -> int | None:
    """The index inside ``kind`` of a :func:`wonde_id`, or None if it is not one."""
    prefix = f"A{ID_BASE[kind]}{seed % 100:02d}"
    if (
        len(value) != len(prefix) + 7
        or not value.startswith(prefix)
        or not value[len(prefix) :].isdigit()
    ):
        return None
    return int(value[len(prefix) :])


def wdate(moment: datetime, zone: str = "UTC") -> dict[str, Any]:
    """A PHP DateTime as Wonde serialises it."""
    text = moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return {"date": text, "timezone_type": 3, "timezone": zone}


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "x"


@lru_cache(maxsize=64)
def png(variant: int) -> bytes:
    """A valid 8x8 single-colour PNG (one of 64 colours)."""
    colour = bytes(((variant * 37) % 256, (variant * 91) % 256, (variant * 53) % 256))
    raw = b"".join(b"\x00" + colour * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@dataclass
class School:
    """One synthetic school: sizes and seed; ``changes`` holds the few edited records."""

    id: str
    name: str
    seed: int = 1
    students: int = 120
    staff: int = 20
    leavers: int = 10
    pre_admissions: int = 5
    deleted_every: int = 40
    bad_email_every: int = 97
    """Every Nth person (by hash) has a malformed email, as real MIS data has (0: none)."""
    allows_writeback: bool = True
    access: str = "approved"
    version: int = 0
    changes: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        """The school's clock: the epoch plus one hour per :meth:`advance`."""
        return EPOCH + timedelta(hours=self.version)

    def advance(self, count: int) -> list[str]:
        """Move the clock on and change ``count`` current students; returns their ids."""
        self.version += 1
        changed = []
        for k in range(count):
            index = h(self.seed, f"advance{self.version}", k) % max(self.students, 1)
            if not self.student_deleted(index):
                self.changes[("student", index)] = self.version
                changed.append(wonde_id("student", self.seed, index))
        return changed

    # --- groups ------------------------------------------------------------------------

    def groups(self) -> list[dict[str, Any]]:
        """Every group: years, registration groups, houses, staff groups."""
        found = [self.year_group(y) for y in range(len(YEARS))]
        found += [self.form_group(y, f) for y in range(len(YEARS)) for f in range(len(FORMS))]
        found += [self._group(100 + n, name, name, "HOUSE") for n, name in enumerate(HOUSES)]
        found += [self._group(200 + n, name, name, "STAFF") for n, name in enumerate(STAFF_GROUPS)]
        return found

    def _group(self, n: int, name: str, code: str, kind: str) -> dict[str, Any]:
        key = (self.seed, n)
        if key not in _GROUPS:
            _GROUPS[key] = self._make_group(n, name, code, kind)
        return _GROUPS[key]

    def _make_group(self, n: int, name: str, code: str, kind: str) -> dict[str, Any]:
        return {
            "id": wonde_id("group", self.seed, n),
            "mis_id": str(500 + n),
            "name": name,
            "code": code,
            "description": name,
            "type": kind,
            "updated_at": wdate(EPOCH - timedelta(days=30 + n)),
        }

    def year_group(self, y: int) -> dict[str, Any]:
        return self._group(y, f"Year {YEARS[y]}", YEARS[y], "YEAR")

    def form_group(self, y: int, f: int) -> dict[str, Any]:
        name = f"{YEARS[y]}{FORMS[f]}"
        return self._group(10 + y * len(FORMS) + f, name, name, "REGISTRATION")

    # --- students ----------------------------------------------------------------------

    def student_deleted(self, i: int) -> bool:
        every = self.deleted_every
        return every > 0 and i % every == every - 1 and not self.student_restored(i)

    def student_restored(self, i: int) -> bool:
        every = self.deleted_every
        return every > 0 and i % every == every - 1 and (i // every) % 5 == 4

    def updated_at(self, kind: str, i: int) -> datetime:
        version = self.changes.get((kind, i))
        if version is not None:
            return EPOCH + timedelta(hours=version)
        return EPOCH - timedelta(seconds=h(self.seed, kind + "u", i) % (400 * 86400))

    def person(self, kind: str, i: int, includes: set[str], denied: set[str]) -> dict[str, Any]:
        """Student-shaped (``student``, ``leaver``, ``pre``) or employee record ``i``."""
        r = h(self.seed, kind, i)
        version = self.changes.get((kind, i), 0)
        forename = FIRST[r % len(FIRST)]
        surname = LAST[((r >> 8) + version) % len(LAST)]
        legal = forename if (r >> 16) % 10 else FIRST[(r >> 20) % len(FIRST)]
        staff = kind == "employee"
        mis_id = str((5000 if staff else 1000) + i + (50_000 if kind in ("leaver", "pre") else 0))
        born = EPOCH - timedelta(days=365 * (11 + i % 7) + (r >> 24) % 365) if not staff else None
        record: dict[str, Any] = {
            "id": wonde_id(kind, self.seed, i),
            "upi": hashlib.md5(
                f"{self.id}:{kind}:{mis_id}".encode(), usedforsecurity=False
            ).hexdigest(),
            "mis_id": mis_id,
            "initials": forename[0] + surname[0],
            "title": ("Mr", "Ms", "Dr", "Mrs")[r % 4] if staff else None,
            "surname": surname,
            "forename": forename,
            "middle_names": FIRST[(r >> 28) % len(FIRST)] if (r >> 32) % 4 == 0 else None,
            "legal_surname": surname,
            "legal_forename": legal,
            "gender": None if "gender" in denied else ("MALE", "FEMALE")[(r >> 36) % 2],
            "date_of_birth": None
            if born is None or "date_of_birth" in denied
            else wdate(born.replace(hour=0, minute=0), "Europe/London"),
            "restored_at": wdate(EPOCH - timedelta(days=3))
            if kind == "student" and self.student_restored(i)
            else None,
            "created_at": wdate(EPOCH - timedelta(days=800 + i % 300)),
            "updated_at": wdate(self.updated_at(kind, i)),
        }
        self._includes(record, kind, i, r, includes, denied)
        return record

    def _includes(
        self,
        record: dict[str, Any],
        kind: str,
        i: int,
        r: int,
        includes: set[str],
        denied: set[str],
    ) -> None:
        staff = kind == "employee"
        y, f = i % len(YEARS), (i // len(YEARS)) % len(FORMS)
        if "contact_details" in includes:
            record["contact_details"] = (
                None
                if "contact_details" in denied
                else {"data": self._contact(record, i, r, staff)}
            )
        if "year" in includes and not staff:
            record["year"] = {"data": self.year_group(y)} if kind != "pre" else {"data": None}
        if "groups" in includes:
            if staff:
                groups = [
                    self._group(
                        200 + r % len(STAFF_GROUPS),
                        STAFF_GROUPS[r % len(STAFF_GROUPS)],
                        STAFF_GROUPS[r % len(STAFF_GROUPS)],
                        "STAFF",
                    )
                ]
            else:
                house = (r >> 40) % len(HOUSES)
                groups = [
                    self.form_group(y, f),
                    self._group(100 + house, HOUSES[house], HOUSES[house], "HOUSE"),
                ]
            record["groups"] = {"data": groups}
        if "employment_details" in includes and staff:
            record["employment_details"] = (
                None
                if "employment_details" in denied
                else {
                    "data": {
                        "current": r % 20 != 7,
                        "teaching_staff": r % 3 != 0,
                        "role_text": ROLES[r % len(ROLES)],
                        "employment_start_date": wdate(EPOCH - timedelta(days=365 + r % 3000)),
                        "employment_end_date": None
                        if r % 20 != 7
                        else wdate(EPOCH - timedelta(days=30)),
                    }
                }
            )
        if "extended_details" in includes:
            record["extended_details"] = {
                "data": {"sen_status": "N", "free_school_meals": bool(r % 5 == 0)}
            }
        if "photo" in includes:
            record["photo"] = None if "photo" in denied else {"data": self._photo(kind, i)}

    def _contact(self, record: dict[str, Any], i: int, r: int, staff: bool) -> dict[str, Any]:
        slug = f"{ascii_slug(record['forename'])}.{ascii_slug(record['surname'])}{i}"
        domain = "staff.school.example" if staff else "pupils.school.example"
        email: str | None = f"{slug}@{domain}"
        if self.bad_email_every and r % self.bad_email_every == 3:
            email = f"{slug} at {domain}"  # a malformed address, as real MIS data has
        elif r % 31 == 5:
            email = None
        phone = f"01632 {960000 + i % 1000:06d}"[:12]
        mobile = f"07700 {900000 + (r >> 12) % 1000:06d}"
        return {
            "phones": {
                "phone": phone,
                "primary": phone,
                "home": phone,
                "work": None,
                "mobile": mobile if staff or r % 3 == 0 else None,
            },
            "emails": {
                "email": email,
                "primary": email,
                "home": None,
                "work": email if staff else None,
            },
            "addresses": {
                "home": {
                    "house_number": str(1 + r % 200),
                    "house_name": None,
                    "apartment": None,
                    "street": "High Street",
                    "district": None,
                    "town": "Exampleton",
                    "county": None,
                    "country": "United Kingdom",
                    "postcode": "ZZ1 1ZZ",
                }
            },
        }

    def photo_bytes(self, kind: str, i: int) -> bytes:
        return png((h(self.seed, kind + "p", i) + self.changes.get((kind, i), 0)) % 64)

    def _photo(self, kind: str, i: int) -> dict[str, Any]:
        content = self.photo_bytes(kind, i)
        return {
            "id": wonde_id("photo", self.seed, i + (5_000_000 if kind == "employee" else 0)),
            "content": base64.b64encode(content).decode("ascii"),
            "hash": hashlib.md5(content, usedforsecurity=False).hexdigest(),
            "updated_at": wdate(self.updated_at(kind, i)),
        }

    # --- deletions ----------------------------------------------------------------------

    def deletion_count(self) -> int:
        every = self.deleted_every
        return self.students // every if every > 0 else 0

    def deletion(self, d: int) -> dict[str, Any]:
        """Deletion entry ``d``: student ``d * every + every - 1``."""
        i = d * self.deleted_every + self.deleted_every - 1
        r = h(self.seed, "deleted", i)
        deleted = EPOCH - timedelta(days=1 + r % 60)
        return {
            "type": "student",
            "id": wonde_id("student", self.seed, i),
            "mis_id": str(1000 + i),
            "deleted_at": wdate(deleted),
            "restored_at": wdate(deleted + timedelta(days=1)) if self.student_restored(i) else None,
        }


def code_list() -> list[dict[str, Any]]:
    """The default attendance codes (global, the same ids for every school)."""
    return [
        {"id": wonde_id("code", 0, n), "code": code, "description": text, "type": kind}
        for n, (code, text, kind) in enumerate(CODES)
    ]
