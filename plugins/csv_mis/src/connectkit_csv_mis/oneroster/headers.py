"""Check a OneRoster file's header against the spec: by name, drift warned, not fatal.

Missing required columns are an error; known drift (``dateModified``), missing optional
columns and unknown columns are warnings; ``metadata.*`` extension columns are expected.
"""

from __future__ import annotations

import logging

from connectkit.errors import BadResponseError
from connectkit_csv_mis.oneroster.spec import ALIASES, HEADERS, REQUIRED
from connectkit_csv_mis.reader import CsvFile

log = logging.getLogger(__name__)


def columns(csv_file: CsvFile, version: str, file_name: str) -> dict[str, int]:
    """Spec column name -> position in ``csv_file`` (aliases resolved), drift logged."""
    at = {name: i for i, name in enumerate(csv_file.header)}
    for alias, proper in ALIASES.items():
        if alias in at and proper not in at:
            log.warning("%s: dialect drift: column %r used for %r", csv_file.name, alias, proper)
            at[proper] = at.pop(alias)
    missing = [c for c in REQUIRED.get(file_name, ()) if c not in at]
    if missing:
        raise BadResponseError(
            f"{csv_file.name}: line 1: required OneRoster {version} column(s) missing: "
            f"{', '.join(missing)}"
        )
    expected = HEADERS[version].get(file_name, ())
    absent = [c for c in expected if c not in at]
    if absent:
        log.warning(
            "%s: dialect drift: spec column(s) absent: %s", csv_file.name, ", ".join(absent)
        )
    unknown = [c for c in at if c not in expected and not c.startswith("metadata.")]
    if unknown and expected:
        log.warning(
            "%s: dialect drift: unknown column(s) kept in extras: %s",
            csv_file.name,
            ", ".join(unknown),
        )
    return at
