"""The previous export, as row hashes per MIS id, kept in a SQLite file in ``state_dir``.

A plain export has no change dates and no deletions list, so both are derived here:

- every pass over a file *observes* its rows: a new row gets ``changed_at`` = its own
  timestamp if the export has one, else the observation time; a row whose hash differs
  from the stored one, or that came back after a deletion, gets the observation time (an
  export's own dates are not trusted to move); unchanged rows keep theirs, so a
  changed-since fetch never re-sends them;
- when a pass over a *full* export completes, ids stored earlier but not seen in it are
  marked deleted at that time. The first pass ever reports no deletions.

Only hashes and ids are stored (no names), one row per person: memory stays flat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

FILE_NAME = "csv_mis_snapshot.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    role TEXT NOT NULL, mis_id TEXT NOT NULL, hash TEXT NOT NULL, changed_at TEXT NOT NULL,
    seen_pass INTEGER NOT NULL, seen_line INTEGER NOT NULL,
    deleted_at TEXT, restored_at TEXT, PRIMARY KEY (role, mis_id));
CREATE TABLE IF NOT EXISTS passes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, signature TEXT NOT NULL,
    started_at TEXT NOT NULL, completed_at TEXT);
"""

_UPSERT = """
INSERT INTO rows (role, mis_id, hash, changed_at, seen_pass, seen_line, deleted_at, restored_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (role, mis_id) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at,
  seen_pass = MAX(rows.seen_pass, excluded.seen_pass), seen_line = excluded.seen_line,
  deleted_at = excluded.deleted_at, restored_at = excluded.restored_at
"""


def stamp(moment: datetime) -> str:
    """A sortable UTC text form of an aware datetime (fixed width, microseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def unstamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Observed(NamedTuple):
    """One row as a pass saw it: id, content hash, line, and its own timestamp if any."""

    mis_id: str
    hash: str
    line: int
    row_time: datetime | None = None


class Verdict(NamedTuple):
    """What the snapshot says about an observed row (``changed_at`` as :func:`stamp` text)."""

    changed_at: str
    duplicate_of_line: int | None = None


class Snapshot:
    """Row hashes of earlier passes for one integration (one SQLite file)."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(state_dir / FILE_NAME, timeout=30)
        # derived state (a lost tail is re-observed next pass): WAL without fsync per commit
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def begin_pass(self, role: str, signature: str, now: datetime) -> int:
        """Start a new pass over ``role``'s file; returns its id (kept in cursors)."""
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO passes (role, signature, started_at) VALUES (?, ?, ?)",
                (role, signature, stamp(now)),
            )
        return int(cursor.lastrowid or 0)

    def pass_signature(self, pass_id: int) -> str | None:
        """The file signature a pass started on (None: unknown pass)."""
        row = self._db.execute("SELECT signature FROM passes WHERE id = ?", (pass_id,)).fetchone()
        return str(row[0]) if row else None

    def last_completed_signature(self, role: str) -> str | None:
        row = self._db.execute(
            "SELECT signature FROM passes WHERE role = ? AND completed_at IS NOT NULL "
            "ORDER BY id DESC LIMIT 1",
            (role,),
        ).fetchone()
        return str(row[0]) if row else None

    def observe(
        self, role: str, pass_id: int, batch: Sequence[Observed], now: datetime
    ) -> list[Verdict]:
        """Record a batch of rows of pass ``pass_id``; one verdict per row, in order."""
        previous = self._lookup(role, [item.mis_id for item in batch])
        verdicts: list[Verdict] = []
        writes: list[tuple[object, ...]] = []
        in_batch: dict[str, int] = {}
        now_text = stamp(now)
        for item in batch:
            old = previous.get(item.mis_id)
            first_line = in_batch.get(item.mis_id)
            if first_line is None and old and old[2] == pass_id and old[3] != item.line:
                first_line = int(str(old[3]))
            if first_line is not None:
                verdicts.append(Verdict(str(old[1]) if old else now_text, first_line))
                continue
            in_batch[item.mis_id] = item.line
            verdict, write = _judge(role, pass_id, item, old, now_text)
            verdicts.append(verdict)
            writes.append(write)
        with self._db:
            self._db.executemany(_UPSERT, writes)
        return verdicts

    def complete_pass(self, role: str, pass_id: int, now: datetime, full: bool) -> int:
        """Close a pass; for a full export mark unseen ids deleted. Returns how many."""
        with self._db:
            deleted = 0
            if full:
                deleted = self._db.execute(
                    "UPDATE rows SET deleted_at = ?, restored_at = NULL "
                    "WHERE role = ? AND seen_pass < ? AND (deleted_at IS NULL OR "
                    "restored_at >= deleted_at)",
                    (stamp(now), role, pass_id),
                ).rowcount
            self._db.execute(
                "UPDATE passes SET completed_at = ? WHERE id = ?", (stamp(now), pass_id)
            )
        return deleted

    def mark_deleted(self, role: str, items: Sequence[tuple[str, datetime]]) -> None:
        """Record deletions the source states itself (OneRoster ``tobedeleted``)."""
        with self._db:
            self._db.executemany(
                "INSERT INTO rows (role, mis_id, hash, changed_at, seen_pass, seen_line, "
                "deleted_at) VALUES (?, ?, '', ?, 0, 0, ?) ON CONFLICT (role, mis_id) DO "
                "UPDATE SET deleted_at = excluded.deleted_at, restored_at = NULL",
                [(role, mis_id, stamp(at), stamp(at)) for mis_id, at in items],
            )

    def deletions(
        self, role: str, since: datetime | None
    ) -> Iterator[tuple[str, datetime | None, datetime | None]]:
        """Yield ``(mis_id, deleted_at, restored_at)`` for deletions / restores at or after
        ``since`` (all known when None), in id order."""
        floor = stamp(since) if since else ""
        query = self._db.execute(
            "SELECT mis_id, deleted_at, restored_at FROM rows WHERE role = ? AND "
            "(deleted_at >= ? OR restored_at >= ?) ORDER BY mis_id",
            (role, floor, floor),
        )
        for mis_id, deleted_at, restored_at in query:
            yield (
                str(mis_id),
                unstamp(deleted_at) if deleted_at else None,
                unstamp(restored_at) if restored_at else None,
            )

    def _lookup(self, role: str, ids: list[str]) -> dict[str, tuple[object, ...]]:
        found: dict[str, tuple[object, ...]] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            columns = "mis_id, changed_at, seen_pass, seen_line, hash, deleted_at, restored_at"
            query = f"SELECT {columns} FROM rows WHERE role = ? AND mis_id IN ({marks})"  # noqa: S608
            for row in self._db.execute(query, (role, *chunk)):
                found[str(row[0])] = tuple(row)
        return found


def _judge(
    role: str, pass_id: int, item: Observed, old: tuple[object, ...] | None, now: str
) -> tuple[Verdict, tuple[object, ...]]:
    """Decide ``changed_at`` for one row and build its upsert parameters."""
    deleted_at = str(old[5]) if old and old[5] else None
    restored_at = str(old[6]) if old and old[6] else None
    gone = deleted_at is not None and (restored_at is None or restored_at < deleted_at)
    if old is None:
        changed = stamp(item.row_time) if item.row_time else now
    elif old[4] != item.hash or gone:
        changed = now
        if gone:
            restored_at = changed
    else:
        changed = str(old[1])
    write = (
        role,
        item.mis_id,
        item.hash,
        changed,
        pass_id,
        item.line,
        deleted_at,
        restored_at,
    )
    return Verdict(changed), write
