from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, inspect


def test_store_engine_has_every_table(store_engine: Engine) -> None:
    names = set(inspect(store_engine).get_table_names())
    assert {"users", "integrations", "sync_runs", "staged_records", "outbox"} <= names


def _run_pg_store_test(ci: bool) -> subprocess.CompletedProcess[str]:
    """Run the PostgreSQL variant above in a child pytest whose server is unreachable."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CONNECTKIT_TEST_PG"] = "postgresql+psycopg://postgres@127.0.0.1:9/test"
    if ci:
        env["CI"] = "true"
    target = f"{Path(__file__)}::test_store_engine_has_every_table[postgres]"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         target],
        capture_output=True, text=True, timeout=120, env=env, cwd=Path(__file__).parents[1],
    )


def test_missing_postgres_fails_under_ci_and_skips_locally() -> None:
    under_ci = _run_pg_store_test(ci=True)
    assert under_ci.returncode == 1, under_ci.stdout
    assert "PostgreSQL is required when CI is set" in under_ci.stdout
    local = _run_pg_store_test(ci=False)
    assert local.returncode == 0, local.stdout
    assert "1 skipped" in local.stdout
