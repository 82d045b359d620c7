"""Generate the synthetic sample school used by the demo, the docs and the tests.

Deterministic (a fixed seed): running it twice writes byte-identical files. Nobody in it
is real: names are drawn at random from lists of common given and family names, emails
use the reserved ``.example`` domain, phones Ofcom's drama ranges (0113 496 0xxx for
students' home phones, 020 7946 0xxx for staff; ranges phonenumbers accepts as valid, unlike
the 07700 900xxx mobile range). Output (committed, so the demo never needs to run this)::

    examples/sample-school/            generic MIS export
        students.csv  staff.csv  photos/<MIS id>.png  directory_seed.csv
    examples/sample-school-oneroster/  the same school as a OneRoster 1.2 bulk bundle

Planted problems (for the errors / duplicates lists): students with no last name,
malformed emails, one student in two year groups, bad phones, a fake photo, and
directory users that duplicate MIS people by name + email or name + phone.

Usage: python examples/generate_sample_school.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from connectkit_csv_mis.oneroster.spec import HEADERS

SEED = 20260901
DOMAIN = "sample-academy.example"
GIVEN = [
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Noah",
    "Mia",
    "Jack",
    "Ivy",
    "Leo",
    "Freya",
    "Arthur",
    "Lily",
    "Muhammad",
    "Florence",
    "Oscar",
    "Willow",
    "Charlie",
    "Rosie",
    "Jacob",
    "Sophia",
    "Thomas",
    "Evie",
    "Henry",
    "Grace",
    "Alfie",
    "Ella",
    "Theo",
    "Poppy",
    "Archie",
    "Emily",
    "Joshua",
    "Sienna",
    "Finley",
    "Harper",
    "Isaac",
    "Daisy",
    "Lucas",
    "Alice",
    "Ethan",
    "Millie",
    "Reuben",
    "Zara",
    "Samuel",
    "Aisha",
    "Max",
    "Layla",
    "Adam",
    "Maya",
    "Ibrahim",
    "Chloe",
    "Rory",
    "Erin",
    "Kai",
    "Nia",
    "Priya",
    "Arjun",
    "Hana",
    "Yusuf",
    "Leah",
    "Dylan",
    "Megan",
    "Owen",
    "Sara",
    "Tomasz",
    "Julia",
    "Kofi",
    "Ama",
    "Chen",
    "Mei",
]
FAMILY = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Begum",
    "Khan",
    "Ahmed",
    "Ali",
    "Hussain",
    "Nowak",
    "Kowalski",
    "Mensah",
    "Okafor",
    "Nguyen",
    "Zhang",
    "Silva",
]
YEARS = {7: 6, 8: 6, 9: 6, 10: 6, 11: 6, 12: 4, 13: 4}
"""Year -> number of registration groups (30 students each in 7-11, 25 in 12-13)."""
STAFF_GROUPS = (("Teaching", 84), ("Support", 26), ("Leadership", 8), ("Office", 12))
HOUSES = ("Brunel", "Curie", "Lovelace", "Turing")
STUDENT_HEADER = (
    "Student ID",
    "Admission No",
    "Forename",
    "Preferred Forename",
    "Surname",
    "Date of Birth",
    "Email",
    "Home Phone",
    "Year Group",
    "Reg Group",
    "House",
)
STAFF_HEADER = (
    "Staff ID",
    "Title",
    "Forename",
    "Surname",
    "Email",
    "Mobile",
    "Staff Group",
    "Job Title",
)


@dataclass(frozen=True)
class Person:
    mis_id: str
    first: str
    last: str
    email: str
    phone: str
    group: str
    reg: str = ""
    house: str = ""
    born: date | None = None
    preferred: str = ""
    code: str = ""
    title: str = ""
    job: str = ""


def students(rng: random.Random) -> list[Person]:
    people: list[Person] = []
    for year, forms in YEARS.items():
        size = 30 if year <= 11 else 25
        first_birthday = date(2025 - year - 5, 9, 1)
        for form in "ABCDEF"[:forms]:
            for _ in range(size):
                n = len(people) + 1
                first, last = rng.choice(GIVEN), rng.choice(FAMILY)
                phone = f"0113 496 0{n:03d}" if n <= 999 and rng.random() < 0.7 else ""
                people.append(
                    Person(
                        mis_id=f"S{n:05d}",
                        first=first,
                        last=last,
                        email=f"{first.lower()}.{last.lower()}{n}@students.{DOMAIN}",
                        phone=phone,
                        group=f"Year {year}",
                        reg=f"{year}{form}",
                        house=HOUSES[n % 4],
                        born=first_birthday + timedelta(days=rng.randrange(365)),
                        preferred=rng.choice(("", "", "", "", first[:3])),
                        code=f"A{2000 + n}",
                    )
                )
    return plant_student_problems(people)


def plant_student_problems(people: list[Person]) -> list[Person]:
    """Missing last names, malformed emails, a student in two year groups, bad phones."""
    for i in (14, 402, 871):
        people[i] = replace(people[i], last="")
    people[55] = replace(people[55], email=f"{people[55].first.lower()}@")
    people[333] = replace(people[333], email=f"{people[333].first.lower()}.students.{DOMAIN}")
    people[690] = replace(people[690], email=f"{people[690].first.lower()}@@{DOMAIN}")
    people[800] = replace(people[800], group="Year 11|Year 12")  # Student and Sixth Form
    people[120] = replace(people[120], phone="0113 496 01")
    people[777] = replace(people[777], phone="ring the office")
    return people


def staff(rng: random.Random) -> list[Person]:
    people: list[Person] = []
    for group, count in STAFF_GROUPS:
        for _ in range(count):
            n = len(people) + 1
            first, last = rng.choice(GIVEN), rng.choice(FAMILY)
            people.append(
                Person(
                    mis_id=f"T{n:04d}",
                    first=first,
                    last=last,
                    email=f"{first[0].lower()}.{last.lower()}{n}@{DOMAIN}",
                    phone=f"020 7946 0{n:03d}",
                    group=group,
                    title=rng.choice(("Mr", "Ms", "Mrs", "Dr", "Mx")),
                    job={
                        "Teaching": "Teacher",
                        "Support": "Teaching Assistant",
                        "Leadership": "Senior Leader",
                        "Office": "Administrator",
                    }[group],
                )
            )
    people[40] = replace(people[40], last="")
    people[100] = replace(people[100], email="reception.sample-academy.example")
    return people


def png(seed: int, size: int = 32) -> bytes:
    """A small real PNG: a two-colour diagonal pattern derived from ``seed``."""
    a = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    b = bytes(255 - c for c in a)
    raw = b"".join(
        b"\x00" + b"".join(a if (x + y) // 4 % 2 else b for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_generic(out: Path, kids: list[Person], adults: list[Person]) -> None:
    write_csv(
        out / "students.csv",
        STUDENT_HEADER,
        (
            (
                p.mis_id,
                p.code,
                p.first,
                p.preferred,
                p.last,
                p.born.isoformat() if p.born else "",
                p.email,
                p.phone,
                p.group,
                p.reg,
                p.house,
            )
            for p in kids
        ),
    )
    write_csv(
        out / "staff.csv",
        STAFF_HEADER,
        ((p.mis_id, p.title, p.first, p.last, p.email, p.phone, p.group, p.job) for p in adults),
    )
    photos = out / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for old in photos.iterdir():
        old.unlink()
    for n, person in enumerate(kids[::7] + adults[::5]):
        (photos / f"{person.mis_id}.png").write_bytes(png(n + 1))
    (photos / f"{kids[3].mis_id}.jpg").write_bytes(b"this is not really a JPEG\n")


def write_seed(out: Path, kids: list[Person], adults: list[Person]) -> None:
    """Directory users: duplicates by name + email and by name + phone, and unrelated ones."""
    rows = []
    for p in (kids[10], kids[200], adults[3], adults[60]):
        rows.append((p.first, p.last, p.email.upper(), "", "Student" if p in kids else "Staff"))
    with_phone = [p for p in kids if p.phone.startswith("0113 496 0") and len(p.phone) == 13]
    for p in (with_phone[5], with_phone[300], adults[20]):
        international = "+44 " + p.phone[1:].replace(" ", "")
        rows.append(
            (f" {p.first}", p.last.upper(), "", international, "Student" if p in kids else "Staff")
        )
    rows += [
        ("Visiting", "Contractor", f"contractor@{DOMAIN}", "", "Visitor"),
        ("Agency", "Supply", "supply@agency.example", "020 7946 0999", "Visitor"),
    ]
    write_csv(
        out / "directory_seed.csv", ("first_name", "last_name", "email", "phone", "user_type"), rows
    )


ORG = "org-sample-academy"
ONEROSTER_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItems",
    "orgs",
    "resources",
    "results",
    "users",
    "roles",
    "userProfiles",
    "userResources",
    "scoreScales",
    "lineItemLearningObjectiveIds",
    "lineItemScoreScales",
    "resultLearningObjectiveIds",
    "resultScoreScales",
)
PRESENT = {"classes", "demographics", "enrollments", "orgs", "users", "roles"}
STAFF_ROLES = {
    "Teaching": "teacher",
    "Support": "aide",
    "Leadership": "principal",
    "Office": "administrator",
}
USERS_12 = list(HEADERS["1.2"]["users.csv"])


def grades_of(group: str) -> str:
    return ",".join(f"{int(part.split()[-1]):02d}" for part in group.split("|"))


def write_oneroster(out: Path, kids: list[Person], adults: list[Person]) -> None:
    """The same school as a OneRoster 1.2 bulk bundle (status / dateLastModified blank)."""
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [
        (f"file.{name}", "bulk" if name in PRESENT else "absent") for name in ONEROSTER_FILES
    ]
    manifest += [
        ("source.systemName", "connectkit sample generator"),
        ("source.systemCode", "ck-sample"),
    ]
    write_csv(out / "manifest.csv", ("propertyName", "value"), manifest)
    write_csv(
        out / "orgs.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parentSourcedId",
        ],
        [(ORG, "", "", "Sample Academy", "school", "SA001", "")],
    )
    regs = sorted({p.reg for p in kids}, key=lambda r: (len(r), r))
    write_csv(
        out / "classes.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
        ],
        [
            (
                f"class-reg-{reg}",
                "",
                "",
                f"Registration {reg}",
                f"{int(reg[:-1]):02d}",
                "course-registration",
                reg,
                "homeroom",
                "",
                ORG,
                "",
                "",
                "",
                "",
            )
            for reg in regs
        ],
    )
    users = [
        (
            p.mis_id,
            "",
            "",
            "true",
            p.email.split("@")[0],
            f"{{MIS:{p.mis_id}}}",
            p.first,
            p.last,
            "",
            p.code,
            p.email,
            "",
            p.phone,
            "",
            grades_of(p.group),
            "",
            "",
            "",
            p.preferred,
            "",
            "",
            ORG,
            "",
        )
        for p in kids
    ]
    users += [
        (
            p.mis_id,
            "",
            "",
            "true",
            p.email.split("@")[0],
            f"{{MIS:{p.mis_id}}}",
            p.first,
            p.last,
            "",
            "",
            p.email,
            "",
            p.phone,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            ORG,
            "",
        )
        for p in adults
    ]
    write_csv(out / "users.csv", USERS_12, users)
    roles = [
        (
            f"role-{p.mis_id}",
            "",
            "",
            p.mis_id,
            "primary",
            "student" if p in kids else STAFF_ROLES[p.group],
            "",
            "",
            ORG,
            "",
        )
        for p in kids + adults
    ]
    write_csv(
        out / "roles.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "userSourcedId",
            "roleType",
            "role",
            "beginDate",
            "endDate",
            "orgSourcedId",
            "userProfileSourcedId",
        ],
        roles,
    )
    write_csv(
        out / "enrollments.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ],
        [
            (
                f"enr-{p.mis_id}",
                "",
                "",
                f"class-reg-{p.reg}",
                ORG,
                p.mis_id,
                "student",
                "true",
                "2025-09-01",
                "2026-07-22",
            )
            for p in kids
        ],
    )
    demo_header = [
        "sourcedId",
        "status",
        "dateLastModified",
        "birthDate",
        "sex",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
        "countryOfBirthCode",
        "stateOfBirthAbbreviation",
        "cityOfBirth",
        "publicSchoolResidenceStatus",
    ]
    write_csv(
        out / "demographics.csv",
        demo_header,
        [(p.mis_id, "", "", p.born.isoformat()) + ("",) * 12 for p in kids if p.born],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--out", type=Path, default=here, help="folder for both schools")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    kids, adults = students(rng), staff(rng)
    write_generic(args.out / "sample-school", kids, adults)
    write_seed(args.out / "sample-school", kids, adults)
    write_oneroster(args.out / "sample-school-oneroster", kids, adults)
    print(f"{len(kids)} students, {len(adults)} staff written under {args.out}")


if __name__ == "__main__":
    main()
