"""A small SQLite ledger of marks sent to Wonde, in the integration's state folder.

Each mark key is recorded ``in_flight`` *before* its POST and ``accepted`` (with the
``writeback_id``) or ``failed`` (with the 422 body) after. A key still ``in_flight`` on
the next call means the earlier POST's outcome is unknown (timeout, 5xx): the caller
checks the MIS before resending it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS marks (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    writeback_id TEXT,
    sent_at REAL NOT NULL,
    detail TEXT
)
"""


@dataclass(frozen=True)
class Entry:
    key: str
    state: str
    writeback_id: str | None
    sent_at: float
    detail: str | None


class Ledger:
    """Mark states keyed by ``AttendanceMark.key``; every change is committed at once."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(folder / "wonde-writeback.sqlite", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, keys: Iterable[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        for key in keys:
            row = self._db.execute(
                "SELECT key, state, writeback_id, sent_at, detail FROM marks WHERE key = ?", (key,)
            ).fetchone()
            if row is not None:
                found[key] = Entry(*row)
        return found

    def mark(
        self,
        keys: Sequence[str],
        state: str,
        writeback_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        now = time.time()
        with self._db:
            self._db.execute("BEGIN")
            for key in keys:
                self._db.execute(
                    "INSERT INTO marks (key, state, writeback_id, sent_at, detail) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = excluded.state, "
                    "writeback_id = excluded.writeback_id, detail = excluded.detail, "
                    "sent_at = CASE WHEN excluded.state = 'in_flight' THEN excluded.sent_at "
                    "ELSE marks.sent_at END",
                    (key, state, writeback_id, now, detail),
                )
