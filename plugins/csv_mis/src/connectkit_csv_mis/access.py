"""Check credentials for files: the paths exist, are readable, and have the expected headers.

A CSV export has no password; "credentials" are the configured paths. Missing files give
NotFoundError, unreadable ones AccessNotGrantedError, files whose header lacks a mapped
column (or a bundle with a bad manifest) InvalidCredentialsError, each naming the file.
"""

from __future__ import annotations

from connectkit.errors import (
    AccessNotGrantedError,
    BadResponseError,
    InvalidCredentialsError,
    NotFoundError,
)
from connectkit.models import Role, SchoolInfo
from connectkit_csv_mis.sources import PeopleSource


def check_source(source: PeopleSource) -> SchoolInfo:
    """Open every people file's header; return the school. Raises as described above."""
    try:
        for role in Role:
            with source.open(role):
                pass
        return source.school()
    except PermissionError as exc:
        raise AccessNotGrantedError(
            f"csv_mis: cannot read {exc.filename}: permission denied"
        ) from None
    except IsADirectoryError as exc:
        raise NotFoundError(f"csv_mis: {exc.filename} is a folder, not a CSV file") from None
    except BadResponseError as exc:
        raise InvalidCredentialsError(
            f"csv_mis: the export does not have the expected shape: {exc}"
        ) from None
