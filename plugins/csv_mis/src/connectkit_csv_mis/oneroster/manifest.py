"""``manifest.csv``: versions and which files are bulk, delta or absent."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connectkit.errors import BadResponseError
from connectkit_csv_mis.reader import CsvFile

log = logging.getLogger(__name__)
VERSIONS = ("1.1", "1.2")
MODES = ("bulk", "delta", "absent")


@dataclass(frozen=True)
class Manifest:
    """What a bundle's manifest declares."""

    version: str
    files: dict[str, str] = field(default_factory=dict)
    """``users.csv`` -> ``bulk`` / ``delta`` / ``absent``."""
    source: str | None = None

    def mode(self, file_name: str) -> str:
        return self.files.get(file_name, "absent")


def read_manifest(csv_file: CsvFile) -> Manifest:
    """Parse and check an open ``manifest.csv``; BadResponseError names line and value."""
    name_at = csv_file.index("propertyName", "the manifest")
    value_at = csv_file.index("value", "the manifest")
    props: dict[str, tuple[str, int]] = {}
    for row in csv_file.rows():
        props[row[name_at].strip()] = (row[value_at].strip(), csv_file.line)
    _check_manifest_version(props, csv_file.name)
    version, line = props.get("oneroster.version", ("", 1))
    if version not in VERSIONS:
        raise BadResponseError(
            f"{csv_file.name}: line {line}: oneroster.version {version!r} is not supported "
            f"(expected one of {', '.join(VERSIONS)})"
        )
    files: dict[str, str] = {}
    for key, (value, at) in props.items():
        if key.startswith("file."):
            if value not in MODES:
                raise BadResponseError(
                    f"{csv_file.name}: line {at}: {key} is {value!r}, expected bulk, delta "
                    "or absent"
                )
            files[key.removeprefix("file.") + ".csv"] = value
    if files.get("users.csv", "absent") == "absent":
        raise BadResponseError(f"{csv_file.name}: file.users is absent; no people to read")
    source = props.get("source.systemName", ("", 0))[0] or None
    return Manifest(version=version, files=files, source=source)


def _check_manifest_version(props: dict[str, tuple[str, int]], name: str) -> None:
    value, line = props.get("manifest.version", ("", 1))
    if value == "1":
        log.warning(
            "%s: line %d: manifest.version is '1' (a spreadsheet rewrote '1.0')", name, line
        )
    elif value != "1.0":
        raise BadResponseError(
            f"{name}: line {line}: manifest.version {value!r} is not supported (expected '1.0')"
        )
