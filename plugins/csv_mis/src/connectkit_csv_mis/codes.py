"""Attendance codes: from a codes file (``code,description[,meaning]``) or the DfE list.

The DfE list is the national school attendance register codes for England in force from
August 2024 (Working together to improve school attendance, 2024 edition).
"""

from __future__ import annotations

from collections.abc import Iterator

from connectkit.errors import BadResponseError
from connectkit.models import AttendanceCode
from connectkit_csv_mis.reader import CsvFile

PRESENT, APPROVED, AUTHORISED, UNAUTHORISED, NOT_REQUIRED = (
    "present",
    "attending approved educational activity",
    "authorised absence",
    "unauthorised absence",
    "not required to attend / administrative",
)

DFE_CODES: tuple[tuple[str, str, str], ...] = (
    ("/", "Present (AM)", PRESENT),
    ("\\", "Present (PM)", PRESENT),
    ("L", "Late arrival before the register closed", PRESENT),
    ("K", "Attending education provision arranged by the local authority", APPROVED),
    ("V", "Attending an educational visit or trip", APPROVED),
    ("P", "Participating in a supervised sporting activity", APPROVED),
    ("W", "Attending work experience", APPROVED),
    ("B", "Attending any other approved educational activity", APPROVED),
    ("D", "Dual registered: attending another school", APPROVED),
    ("C1", "Leave for a regulated performance or regulated employment abroad", AUTHORISED),
    ("M", "Leave for a medical or dental appointment", AUTHORISED),
    ("J1", "Leave for an interview", AUTHORISED),
    ("S", "Study leave", AUTHORISED),
    ("X", "Non-compulsory school age, not required to attend", NOT_REQUIRED),
    ("Y1", "Unable to attend: transport normally provided not available", NOT_REQUIRED),
    ("Y2", "Unable to attend: widespread disruption to travel", NOT_REQUIRED),
    ("Y3", "Unable to attend: part of the school premises closed", NOT_REQUIRED),
    ("Y4", "Unable to attend: whole school site unexpectedly closed", NOT_REQUIRED),
    ("Y5", "Unable to attend: in criminal justice detention", NOT_REQUIRED),
    ("Y6", "Unable to attend: public health guidance or law", NOT_REQUIRED),
    ("Y7", "Unable to attend: any other unavoidable cause", NOT_REQUIRED),
    ("C2", "Leave for a part-time timetable", AUTHORISED),
    ("T", "Parent travelling for occupational purposes", AUTHORISED),
    ("R", "Religious observance", AUTHORISED),
    ("I", "Illness (not medical or dental appointment)", AUTHORISED),
    ("E", "Suspended or permanently excluded, no alternative provision", AUTHORISED),
    ("C", "Leave of absence for exceptional circumstances", AUTHORISED),
    ("G", "Holiday not granted by the school", UNAUTHORISED),
    ("N", "Reason for absence not yet established", UNAUTHORISED),
    ("O", "Absent in other or unknown circumstances", UNAUTHORISED),
    ("U", "Arrived in school after the register closed", UNAUTHORISED),
    ("Z", "Prospective pupil not on the admission register", NOT_REQUIRED),
    ("#", "Planned whole-school closure", NOT_REQUIRED),
    ("Q", "Unable to attend because of a lack of access arrangements", NOT_REQUIRED),
)


def dfe_codes() -> Iterator[AttendanceCode]:
    """The standard DfE session codes, in register order."""
    for code, description, meaning in DFE_CODES:
        yield AttendanceCode(code=code, description=description, meaning=meaning)


def codes_from_file(csv_file: CsvFile) -> Iterator[AttendanceCode]:
    """Codes from an open codes file with columns ``code``, ``description``[, ``meaning``]."""
    code_at = csv_file.index("code", "attendance codes")
    text_at = csv_file.index("description", "attendance codes")
    meaning_at = csv_file.header.index("meaning") if "meaning" in csv_file.header else None
    for row in csv_file.rows():
        code = row[code_at].strip()
        if not code or len(code) > 8:
            raise BadResponseError(
                f"{csv_file.where(code_at)}: attendance code must be 1-8 characters"
            )
        meaning = row[meaning_at].strip() if meaning_at is not None else ""
        yield AttendanceCode(code=code, description=row[text_at].strip(), meaning=meaning or None)
