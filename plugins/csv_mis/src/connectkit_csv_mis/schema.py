"""The JSON Schema (draft 2020-12) of the ``csv_mis`` connector's config section.

Every path is relative to ``root`` (the export folder) and must stay inside it. The
connector has no secrets: access is the file system's, so nothing is ``writeOnly``.
"""

from __future__ import annotations

from typing import Any

COLUMN_KEYS = (
    "mis_id",
    "person_id",
    "mis_code",
    "first_name",
    "last_name",
    "preferred_first_name",
    "preferred_last_name",
    "middle_names",
    "email",
    "phone",
    "date_of_birth",
    "year_group",
    "registration_group",
    "house",
    "staff_group",
    "photo",
    "updated_at",
)
"""What a generic column map may name: the MIS record field -> the export's header."""

_PATH = {"type": "string", "minLength": 1, "maxLength": 1024}

_COLUMNS = {
    "type": "object",
    "description": "MIS record field -> header name in the export (parsed by name, not position).",
    "properties": {key: {"type": "string", "minLength": 1} for key in COLUMN_KEYS},
    "required": ["mis_id"],
    "additionalProperties": False,
}


def config_schema() -> dict[str, Any]:
    """Return a fresh copy of the config schema (callers may mutate it)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "csv_mis connector",
        "type": "object",
        "properties": {
            "mode": {"enum": ["generic", "oneroster"], "default": "generic"},
            "root": {**_PATH, "description": "Export folder; every other path is inside it."},
            "school_id": {"type": "string", "minLength": 1},
            "school_name": {"type": "string", "minLength": 1},
            "students": {**_PATH, "description": "generic: the students file."},
            "staff": {**_PATH, "description": "generic: the staff file."},
            "groups": {**_PATH, "description": "generic, optional: id,name,kind[,code,role]."},
            "columns": {
                "type": "object",
                "properties": {"students": _COLUMNS, "staff": _COLUMNS},
                "additionalProperties": False,
            },
            "multi_value_separator": {"type": "string", "minLength": 1, "default": "|"},
            "date_format": {"type": "string", "minLength": 2, "default": "%Y-%m-%d"},
            "bundle": {**_PATH, "description": "oneroster: a folder or .zip with manifest.csv."},
            "grade_labels": {
                "type": "object",
                "description": "oneroster: grade code -> year group id, e.g. {'07': 'Year 7'}.",
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "encoding": {"enum": ["utf-8", "utf-8-sig", "utf-16", "cp1252"]},
            "delimiter": {"enum": [",", ";", "\t"]},
            "photos": {**_PATH, "description": "Folder of photos named <mis_id>.jpg/.png."},
            "photo_max_bytes": {"type": "integer", "minimum": 1024, "default": 2_000_000},
            "outbox": {**_PATH, "default": "outbox/attendance_marks.csv"},
            "codes": {**_PATH, "description": "code,description[,meaning]; default DfE codes."},
            "max_line_bytes": {"type": "integer", "minimum": 256, "default": 1_048_576},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 500},
        },
        "required": ["root"],
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"properties": {"mode": {"const": "oneroster"}}, "required": ["mode"]},
                "then": {"required": ["bundle"]},
                "else": {"required": ["students", "staff"]},
            }
        ],
    }
