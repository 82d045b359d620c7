"""Test builders: small generic exports and OneRoster bundles written to a tmp folder."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

GENERIC_HEADER = (
    "MIS ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Date of Birth",
    "Year Group",
    "Registration Group",
    "Updated",
)
STAFF_HEADER = ("MIS ID", "First Name", "Last Name", "Email", "Phone", "Staff Group", "Updated")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def students(count: int, start: int = 1) -> list[tuple[str, ...]]:
    """``count`` synthetic students; ``Updated`` runs through January 2026 by id."""
    return [
        (
            f"S{n:04d}",
            f"Given{n}",
            f"Family{n}",
            f"given{n}@school.example",
            f"07700 900{n % 1000:03d}",
            "2012-05-17",
            f"Year {7 + n % 7}",
            f"{7 + n % 7}A",
            f"2026-01-{1 + n % 28:02d}T08:00:00Z",
        )
        for n in range(start, start + count)
    ]


def staff(count: int) -> list[tuple[str, ...]]:
    groups = ("Teaching", "Support")
    return [
        (
            f"T{n:03d}",
            f"Staff{n}",
            f"Member{n}",
            f"staff{n}@school.example",
            f"020 7946 0{n:03d}",
            groups[n % 2],
            f"2026-01-{1 + 3 * n % 28:02d}T08:00:00Z",
        )
        for n in range(1, count + 1)
    ]


def generic_export(root: Path, n_students: int = 23, n_staff: int = 9) -> dict[str, object]:
    """Write students.csv / staff.csv under ``root``; return a matching connector config."""
    write(root / "students.csv", csv_text(GENERIC_HEADER, students(n_students)))
    write(root / "staff.csv", csv_text(STAFF_HEADER, staff(n_staff)))
    return {
        "root": str(root),
        "students": "students.csv",
        "staff": "staff.csv",
        "page_size": 5,
        "columns": {
            "students": {
                "mis_id": "MIS ID",
                "first_name": "First Name",
                "last_name": "Last Name",
                "email": "Email",
                "phone": "Phone",
                "date_of_birth": "Date of Birth",
                "year_group": "Year Group",
                "registration_group": "Registration Group",
                "updated_at": "Updated",
            },
            "staff": {
                "mis_id": "MIS ID",
                "first_name": "First Name",
                "last_name": "Last Name",
                "email": "Email",
                "phone": "Phone",
                "staff_group": "Staff Group",
                "updated_at": "Updated",
            },
        },
    }


# --- OneRoster --------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    role: str
    given: str
    family: str
    grades: str = ""
    status: str = ""
    modified: str = ""
    email: str = ""
    birth: str = ""
    homeroom: str = ""


USERS_11 = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
]
USERS_12 = [
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
]
ROLES = [
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
]
ENROLLMENTS = [
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
]
CLASSES = [
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
]
ORGS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
DEMOGRAPHICS = ["sourcedId", "status", "dateLastModified", "birthDate", "sex"]


def oneroster_users(count: int, delta: bool = False) -> list[User]:
    """Students and teachers; in a delta, dated through January 2026 and one tobedeleted."""
    users = []
    for n in range(1, count + 1):
        role = "teacher" if n % 5 == 0 else "student"
        users.append(
            User(
                id=f"u{n:03d}",
                role=role,
                given=f"Given{n}",
                family=f"Family{n}",
                grades=f"{7 + n % 5:02d}" if role == "student" else "",
                status=("tobedeleted" if n == 3 else "active") if delta else "",
                modified=f"2026-01-{1 + n % 28:02d}T09:00:00.000Z" if delta else "",
                email=f"u{n}@school.example",
                birth="2011-02-03" if role == "student" else "",
                homeroom="hr-7A" if role == "student" and n % 2 else "",
            )
        )
    return users


def oneroster_bundle(
    folder: Path,
    users: Sequence[User],
    version: str = "1.2",
    mode: str = "bulk",
    manifest_version: str = "1.0",
    users_header: Sequence[str] | None = None,
    as_zip: bool = False,
) -> Path:
    """Write a bundle (folder, or ``folder.zip`` when ``as_zip``); return its path."""
    files: dict[str, str] = {}
    present = ["users", "orgs", "classes", "enrollments", "demographics"]
    if version == "1.2":
        present.append("roles")
    manifest = [("manifest.version", manifest_version), ("oneroster.version", version)]
    manifest += [(f"file.{name}", mode) for name in present]
    manifest += [("file.courses", "absent")]
    files["manifest.csv"] = csv_text(("propertyName", "value"), manifest)
    files["orgs.csv"] = csv_text(ORGS, [("org1", "", "", "Test School", "school", "T1", "")])
    files["classes.csv"] = csv_text(
        CLASSES,
        [("hr-7A", "", "", "Form 7A", "07", "c1", "7A", "homeroom", "", "org1", "", "", "", "")],
    )
    files["enrollments.csv"] = csv_text(
        ENROLLMENTS,
        [
            (f"e-{u.id}", "", "", u.homeroom, "org1", u.id, "student", "true", "", "")
            for u in users
            if u.homeroom
        ],
    )
    files["demographics.csv"] = csv_text(
        DEMOGRAPHICS, [(u.id, "", "", u.birth, "") for u in users if u.birth]
    )
    header = list(users_header or (USERS_11 if version == "1.1" else USERS_12))
    rows = []
    for u in users:
        values = {
            "sourcedId": u.id,
            "status": u.status,
            "dateLastModified": u.modified,
            "dateModified": u.modified,
            "enabledUser": "true",
            "orgSourcedIds": "org1",
            "role": u.role,
            "givenName": u.given,
            "familyName": u.family,
            "email": u.email,
            "grades": u.grades,
            "password": "hunter2-not-real",
            "primaryOrgSourcedId": "org1",
        }
        rows.append([values.get(column, "") for column in header])
    files["users.csv"] = csv_text(header, rows)
    if version == "1.2":
        files["roles.csv"] = csv_text(
            ROLES,
            [
                (f"r-{u.id}", u.status, u.modified, u.id, "primary", u.role, "", "", "org1", "")
                for u in users
            ],
        )
    if as_zip:
        path = folder.with_suffix(".zip")
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return path
    for name, text in files.items():
        write(folder / name, text)
    return folder
