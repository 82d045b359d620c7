"""The OneRoster CSV headers connectkit knows, per version, and what it needs of them."""

from __future__ import annotations

_COMMON = "sourcedId,status,dateLastModified,"


def _cols(text: str) -> tuple[str, ...]:
    return tuple((_COMMON + text).split(","))


_SHARED = {
    "orgs.csv": _cols("name,type,identifier,parentSourcedId"),
    "classes.csv": _cols(
        "title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,"
        "termSourcedIds,subjects,subjectCodes,periods"
    ),
    "enrollments.csv": _cols(
        "classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate"
    ),
    "demographics.csv": _cols(
        "birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,"
        "nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,"
        "hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
        "publicSchoolResidenceStatus"
    ),
}

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.1": {
        **_SHARED,
        "users.csv": _cols(
            "enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,"
            "identifier,email,sms,phone,agentSourcedIds,grades,password"
        ),
    },
    "1.2": {
        **_SHARED,
        "users.csv": _cols(
            "enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,"
            "sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,"
            "resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,"
            "primaryOrgSourcedId,pronouns"
        ),
        "roles.csv": _cols(
            "userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId"
        ),
    },
}
"""Exact spec headers per version and file (the files connectkit reads)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name"),
    "classes.csv": ("sourcedId", "title"),
    "users.csv": ("sourcedId", "givenName", "familyName"),
    "roles.csv": ("userSourcedId", "role"),
    "enrollments.csv": ("classSourcedId", "userSourcedId"),
    "demographics.csv": ("sourcedId", "birthDate"),
}
"""Columns connectkit cannot work without; any other missing column is only a warning."""

ALIASES: dict[str, str] = {"dateModified": "dateLastModified"}
"""Known dialect drift: a column some exporters name differently (ManageBac)."""

STUDENT_ROLES = frozenset({"student"})
STAFF_ROLES = frozenset(
    {
        "teacher",
        "administrator",
        "aide",
        "proctor",
        "counselor",
        "principal",
        "siteAdministrator",
        "districtAdministrator",
        "systemAdministrator",
    }
)
"""Roles read as staff; guardians, parents and relatives are not imported."""
