"""`make demo` end to end: a real first sync of the sample school, reviewed and committed.

Runs the demo module in a subprocess from a copy of the sample school, so the developer's
own demo store is untouched.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _demo(cwd: Path, step: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "connectkit.demo", step],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(cwd)},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_demo_runs_first_sync_then_finishes_review(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples" / "sample-school", tmp_path / "examples" / "sample-school")

    out = _demo(tmp_path, "run")
    assert "integration Sample Academy: created" in out
    assert "matches directory user" in out
    assert "by name+email" in out
    assert "by name+phone" in out
    assert "last_name: missing" in out

    store = tmp_path / "var" / "connectkit.sqlite"
    with sqlite3.connect(store) as db:
        lists = dict(db.execute("SELECT list, count(*) FROM staged_records GROUP BY list"))
        status = db.execute("SELECT status FROM integrations").fetchone()[0]
    assert lists["error"] == 11
    assert lists["duplicate"] == 7
    assert lists["ready"] > 1000
    assert status == "draft"

    out = _demo(tmp_path, "finish")
    assert "7 merged" in out
    with sqlite3.connect(store) as db:
        status = db.execute("SELECT status FROM integrations").fetchone()[0]
        linked = db.execute("SELECT count(*) FROM users WHERE mis_id IS NOT NULL").fetchone()[0]
        seeded_linked = db.execute(
            "SELECT count(*) FROM users WHERE id <= 7 AND mis_id IS NOT NULL"
        ).fetchone()[0]
        total = db.execute("SELECT count(*) FROM users").fetchone()[0]
    assert status == "active"
    assert seeded_linked == 7  # the duplicates were merged into the existing users
    seeded = len((REPO / "examples/sample-school/directory_seed.csv").read_text().splitlines()) - 1
    assert linked == lists["ready"] + 7 + 10  # ready + merged + fixed errors (1 skipped)
    assert total == linked + seeded - 7  # seeded users the MIS does not know stay unlinked
