"""A typed, defaulted view of one validated ``csv_mis`` config section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectkit.errors import ConfigError
from connectkit.models import Role
from connectkit_csv_mis.paths import resolve_root

ROLE_KEYS: dict[Role, str] = {Role.STUDENT: "students", Role.STAFF: "staff"}
"""The config key of each role (``students`` / ``staff``)."""

DEFAULT_COLUMNS: dict[Role, dict[str, str]] = {
    Role.STUDENT: {
        "mis_id": "MIS ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "Email",
        "phone": "Phone",
        "date_of_birth": "Date of Birth",
        "year_group": "Year Group",
        "registration_group": "Registration Group",
    },
    Role.STAFF: {
        "mis_id": "MIS ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "Email",
        "phone": "Phone",
        "staff_group": "Staff Group",
    },
}


@dataclass(frozen=True)
class Settings:
    """Everything the connector reads from its config, with defaults applied."""

    root: Path
    mode: str = "generic"
    school_id: str | None = None
    school_name: str | None = None
    files: Mapping[Role, str] = field(default_factory=dict)
    groups_file: str | None = None
    columns: Mapping[Role, Mapping[str, str]] = field(default_factory=dict)
    separator: str = "|"
    date_format: str = "%Y-%m-%d"
    bundle: str | None = None
    grade_labels: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    photos: str | None = None
    photo_max_bytes: int = 2_000_000
    outbox: str = "outbox/attendance_marks.csv"
    codes: str | None = None
    max_line_bytes: int = 1_048_576
    page_size: int = 500


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Build :class:`Settings` from a config section; raises ConfigError naming the key."""
    if "root" not in config:
        raise ConfigError("csv_mis config: 'root' (the export folder) is required")
    mode = str(config.get("mode", "generic"))
    if mode not in ("generic", "oneroster"):
        raise ConfigError(f"csv_mis config: mode {mode!r} is not 'generic' or 'oneroster'")
    columns_cfg = config.get("columns") or {}
    columns = {
        role: dict(columns_cfg.get(ROLE_KEYS[role]) or DEFAULT_COLUMNS[role]) for role in Role
    }
    files = {role: config.get(key) for role, key in ROLE_KEYS.items()}
    if mode == "generic":
        missing = [f"'{ROLE_KEYS[r]}'" for r, f in files.items() if not f]
        if missing:
            raise ConfigError(f"csv_mis config: generic mode needs {' and '.join(missing)}")
    elif not config.get("bundle"):
        raise ConfigError("csv_mis config: oneroster mode needs 'bundle'")
    return Settings(
        root=resolve_root(str(config["root"])),
        mode=mode,
        school_id=config.get("school_id"),
        school_name=config.get("school_name"),
        files={role: str(f) for role, f in files.items() if f},
        groups_file=config.get("groups"),
        columns=columns,
        separator=str(config.get("multi_value_separator", "|")),
        date_format=str(config.get("date_format", "%Y-%m-%d")),
        bundle=config.get("bundle"),
        grade_labels=dict(config.get("grade_labels") or {}),
        encoding=config.get("encoding"),
        delimiter=config.get("delimiter"),
        photos=config.get("photos"),
        photo_max_bytes=int(config.get("photo_max_bytes", 2_000_000)),
        outbox=str(config.get("outbox", "outbox/attendance_marks.csv")),
        codes=config.get("codes"),
        max_line_bytes=int(config.get("max_line_bytes", 1_048_576)),
        page_size=int(config.get("page_size", 500)),
    )
