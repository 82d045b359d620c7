"""A SQLite index (in ``state_dir``) of the bundle files users are joined with.

roles (1.2), enrollments, demographics, classes and orgs are streamed into it once per
bundle signature, so reading a page of users needs a few indexed queries, never the
whole bundle in memory. Rows with ``status = tobedeleted`` are left out, except roles:
a user deleted in a delta file still needs its role to be reported as a deletion.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

from connectkit_csv_mis.oneroster.bundle import Bundle
from connectkit_csv_mis.oneroster.headers import columns
from connectkit_csv_mis.oneroster.manifest import Manifest
from connectkit_csv_mis.reader import open_csv

FILE_NAME = "csv_mis_oneroster.sqlite"
_TABLES = {
    "roles.csv": ("roles", ("userSourcedId", "role", "roleType", "orgSourcedId", "status")),
    "enrollments.csv": ("enrollments", ("userSourcedId", "classSourcedId", "role")),
    "demographics.csv": ("demographics", ("sourcedId", "birthDate")),
    "classes.csv": ("classes", ("sourcedId", "title", "classType", "classCode")),
    "orgs.csv": ("orgs", ("sourcedId", "name", "type", "identifier")),
}
_KEYS = {
    "roles": "userSourcedId",
    "enrollments": "userSourcedId",
    "demographics": "sourcedId",
    "classes": "sourcedId",
    "orgs": "sourcedId",
}


class BundleIndex:
    """Joined lookups for users of one bundle."""

    def __init__(
        self, state_dir: Path, bundle: Bundle, manifest: Manifest, max_line_bytes: int
    ) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(state_dir / FILE_NAME, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (signature TEXT)")
        row = self._db.execute("SELECT signature FROM meta").fetchone()
        if row is None or row[0] != bundle.signature():
            self._build(bundle, manifest, max_line_bytes)

    def close(self) -> None:
        self._db.close()

    def _build(self, bundle: Bundle, manifest: Manifest, max_line_bytes: int) -> None:
        with self._db:
            for table, cols in _TABLES.values():
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
                self._db.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
                self._db.execute(f"CREATE INDEX {table}_key ON {table} ({_KEYS[table]})")
            for file_name, (table, cols) in _TABLES.items():
                if manifest.mode(file_name) != "absent" and bundle.has(file_name):
                    self._load(bundle, manifest.version, file_name, table, cols, max_line_bytes)
            self._db.execute("DELETE FROM meta")
            self._db.execute("INSERT INTO meta VALUES (?)", (bundle.signature(),))

    def _load(
        self,
        bundle: Bundle,
        version: str,
        file_name: str,
        table: str,
        cols: Sequence[str],
        max_line_bytes: int,
    ) -> None:
        with open_csv(bundle.source(file_name), max_line_bytes=max_line_bytes) as csv_file:
            at = columns(csv_file, version, file_name)
            status = at.get("status") if table != "roles" else None
            picks = [at.get(c) for c in cols]
            rows = (
                tuple(row[i].strip() if i is not None else "" for i in picks)
                for row in csv_file.rows()
                if status is None or row[status].strip() != "tobedeleted"
            )
            marks = ",".join("?" * len(cols))
            while batch := list(islice(rows, 5000)):
                self._db.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)  # noqa: S608

    def lookup(self, table: str, ids: Sequence[str]) -> dict[str, list[tuple[str, ...]]]:
        """Rows of ``table`` whose key is in ``ids``, grouped by key (key column dropped)."""
        found: dict[str, list[tuple[str, ...]]] = {}
        key = _KEYS[table]
        for start in range(0, len(ids), 900):
            chunk = list(ids[start : start + 900])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT * FROM {table} WHERE {key} IN ({marks})"  # noqa: S608
            for row in self._db.execute(query, chunk):
                found.setdefault(str(row[0]), []).append(tuple(str(v) for v in row[1:]))
        return found

    def all(self, table: str) -> Iterator[tuple[str, ...]]:
        for row in self._db.execute(f"SELECT * FROM {table}"):  # noqa: S608 - fixed names
            yield tuple(str(v) for v in row)
