"""What the service returns: a run's outcome, and the counts read from its log lines."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from connectkit.overview import staged_counts
from connectkit.store.tables import run_log
from connectkit.sync import actions as A


@dataclass(frozen=True)
class RunResult:
    """Where a run stands after a service call.

    ``counts`` are executed lines (outcome ok, plus ``failed``), always equal to the run's
    per-record log lines; ``planned`` are the plan's actions (before commit, or for a dry
    run); ``errors`` / ``duplicates`` / ``ready`` the integration's lists now (skipped
    records excluded); ``held`` the mass-change guard's reasons when on hold.
    """

    run_id: int
    integration: str
    kind: str
    status: str
    phase: str
    counts: dict[str, int]
    planned: dict[str, int]
    errors: int
    duplicates: int
    ready: int
    held: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def executed_counts(conn: sa.Connection, run_id: int) -> dict[str, int]:
    """Counts of a run straight from its log lines: ok lines per action, failed lines."""
    counts = dict.fromkeys(A.COUNTS, 0)
    query = (
        sa.select(run_log.c.action, run_log.c.outcome, sa.func.count())
        .where(run_log.c.run_id == run_id, run_log.c.outcome != A.PLANNED)
        .group_by(run_log.c.action, run_log.c.outcome)
    )
    for action, outcome, n in conn.execute(query):
        key = "failed" if outcome == A.FAILED else A.COUNT_OF[action]
        counts[key] += int(n)
    return counts


def list_sizes(conn: sa.Connection, integration_id: int) -> dict[str, int]:
    """How many staged records wait in each list (skipped ones left out)."""
    sizes = staged_counts(conn, [integration_id])[integration_id]
    return {name: sizes[name] for name in ("error", "duplicate", "ready")}
