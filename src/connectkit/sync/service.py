"""The sync engine's public API: the CLI and the HTTP API call only these functions.

- :func:`start_run` — begin a run (the first sync when the integration is Ready).
- :func:`continue_run` — take over the integration's interrupted run from its checkpoint.
- :func:`plan` — a dry run: import, stage and plan, write nothing to the directory.
- :func:`confirm` — commit a first sync's ready list (R3.6/R3.7); Draft -> Active.
- :func:`approve` / :func:`reject` — decide a run held by the mass-change guard.
- :func:`logs` / :func:`log_lines` — the run log (R7).

Every function takes a :class:`~connectkit.sync.runtime.Runtime` and an integration name
(or id) and returns a :class:`~connectkit.sync.results.RunResult`. One run per
integration at a time: a live run raises LeaseHeldError; an open run of another kind
raises StateError naming what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.errors import LeaseHeldError, StateError
from connectkit.store.tables import run_log, sync_runs
from connectkit.sync import driver, runs
from connectkit.sync.importer import Progress
from connectkit.sync.results import RunResult, list_sizes
from connectkit.sync.runtime import Runtime

KINDS = ("manual", "scheduled", "first", "reconcile")
RECONCILE_EVERY = timedelta(days=7)
"""A run is a full reconciliation when the last one is older than this (R4.7)."""
DELTA_OVERLAP = timedelta(minutes=5)
"""Changed-since runs look this far before the last run's start, so a record changed
while that run was reading (or stamped by an MIS clock slightly behind ours) is not
missed; re-reading an unchanged record costs nothing (it plans as ``unchanged``)."""


def start_run(
    rt: Runtime,
    integration: str | int,
    kind: str = "manual",
    full: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Start a run and drive it as far as it goes without an admin.

    A Ready integration always gets its first sync (it goes Draft). A Deactivated one
    refuses ``scheduled`` runs (R4.6). ``full`` (or kind ``reconcile``) forces a full
    reconciliation; otherwise a connector with ``delta`` gets a changed-since run.
    """
    if kind not in KINDS:
        raise StateError(f"unknown run kind {kind!r} (one of: {', '.join(KINDS)})")
    run_id = _begin(rt, integration, kind, full, dry_run=False)
    return driver.drive(rt, run_id, progress)


def plan(
    rt: Runtime, integration: str | int, full: bool = False, progress: Progress | None = None
) -> RunResult:
    """Dry run: import, stage and compute the plan (see :func:`log_lines`); the
    directory (users) is not touched and the integration's status does not change."""
    run_id = _begin(rt, integration, "manual", full, dry_run=True)
    return driver.drive(rt, run_id, progress)


def continue_run(
    rt: Runtime, integration: str | int, progress: Progress | None = None
) -> RunResult:
    """Resume the integration's interrupted run (R3.8, R9.2) from its checkpoint.

    Raises LeaseHeldError while another worker's lease on it is live, StateError when
    there is nothing to continue. A run waiting for review / approval is returned as is.
    """
    with rt.engine.begin() as conn:
        row = lifecycle.get(conn, integration)
        run = runs.open_run(conn, row.id)
        if run is None:
            raise StateError(f"integration {row.name!r} has no unfinished sync run to continue")
        if run.status != runs.RUNNING:
            return driver.result(rt, run.id)
        runs.acquire(conn, run.id, worker=rt.worker, now=rt.clock(), lease_seconds=rt.lease_seconds)
    return driver.drive(rt, run.id, progress)


def confirm(rt: Runtime, integration: str | int, run_id: int | None = None) -> RunResult:
    """Commit the first sync's ready list (R3.7) and make the integration Active.

    Refused while errors or duplicates remain (R3.6); the plan is recomputed first so
    the admin's edits, merges and skips are what gets committed.
    """
    with rt.engine.begin() as conn:
        row = lifecycle.get(conn, integration)
        run = _waiting(conn, row, runs.AWAITING_REVIEW, run_id, "confirm")
        sizes = list_sizes(conn, row.id)
        if sizes["error"]:
            raise StateError(
                f"integration {row.name!r}: {sizes['error']} record(s) are in the errors list; "
                "fix or skip them before confirming (R3.6)"
            )
        if sizes["duplicate"]:
            raise StateError(
                f"integration {row.name!r}: {sizes['duplicate']} record(s) are in the "
                "duplicates list; merge or skip them before confirming (R3.6)"
            )
        _take(rt, conn, run, phase="plan", flag="confirmed")
    return driver.drive(rt, run.id)


def approve(rt: Runtime, integration: str | int, run_id: int | None = None) -> RunResult:
    """Let a run held by the mass-change guard commit its plan as computed."""
    with rt.engine.begin() as conn:
        row = lifecycle.get(conn, integration)
        run = _waiting(conn, row, runs.ON_HOLD, run_id, "approve")
        _take(rt, conn, run, phase="commit", flag="approved")
        lifecycle.set_health(
            conn, row.id, "ok", actor=rt.actor, cause=f"run {run.id} approved by {rt.actor}"
        )
    return driver.drive(rt, run.id)


def reject(rt: Runtime, integration: str | int, run_id: int | None = None) -> RunResult:
    """Refuse a held run: nothing is written; the integration's health returns to ok."""
    with rt.engine.begin() as conn:
        row = lifecycle.get(conn, integration)
        run = _waiting(conn, row, runs.ON_HOLD, run_id, "reject")
        conn.execute(
            sa.update(sync_runs)
            .where(sync_runs.c.id == run.id)
            .values(
                status=runs.REJECTED,
                phase="done",
                finished_at=rt.clock(),
                lease_owner=None,
                lease_expires_at=None,
            )
        )
        lifecycle.set_health(
            conn, row.id, "ok", actor=rt.actor, cause=f"run {run.id} rejected by {rt.actor}"
        )
    driver.report(rt, run.id)
    return driver.result(rt, run.id)


def logs(rt: Runtime, integration: str | int, limit: int = 50) -> list[dict[str, Any]]:
    """The integration's latest runs, newest first: kind, status, times, counts."""
    with rt.engine.connect() as conn:
        row = lifecycle.get(conn, integration)
        query = (
            sa.select(sync_runs)
            .where(sync_runs.c.integration_id == row.id)
            .order_by(sync_runs.c.id.desc())
            .limit(limit)
        )
        return [_run_summary(runs.RunRow.from_row(r)) for r in conn.execute(query).mappings()]


def run_detail(rt: Runtime, integration: str | int, run_id: int) -> dict[str, Any]:
    """One run's summary with its stored plan summary."""
    with rt.engine.connect() as conn:
        row = lifecycle.get(conn, integration)
        run = runs.load(conn, run_id)
    if run.integration_id != row.id:
        raise StateError(f"sync run {run_id} does not belong to integration {row.name!r}")
    return _run_summary(run) | {"plan": run.plan_summary or {}}


def log_lines(rt: Runtime, run_id: int, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    """Every per-record line of a run, in order, streamed (keyset pages of ``chunk``)."""
    last = 0
    while True:
        with rt.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(run_log)
                    .where(run_log.c.run_id == run_id, run_log.c.id > last)
                    .order_by(run_log.c.id)
                    .limit(chunk)
                )
                .mappings()
                .all()
            )
        if not rows:
            return
        last = rows[-1]["id"]
        for r in rows:
            yield {
                "line": r["id"],
                "mis_id": r["mis_id"],
                "user_id": r["user_id"],
                "action": r["action"],
                "outcome": r["outcome"],
                "detail": r["detail"],
            }


# --- helpers ---------------------------------------------------------------------------


def _run_summary(run: runs.RunRow) -> dict[str, Any]:
    return {
        "run": run.id,
        "kind": run.kind,
        "status": run.status,
        "phase": run.phase,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": run.counts,
        "error": run.error,
    }


def _begin(rt: Runtime, integration: str | int, kind: str, full: bool, *, dry_run: bool) -> int:
    now = rt.clock()
    with rt.engine.begin() as conn:
        row = lifecycle.get(conn, integration)
        runs.lock_integration(conn, row.id)
        _refuse_open(rt, conn, row, now)
        kind = _kind(row, kind, dry_run)
        full_run, since = _mode(rt, row, kind, full, now)
        checkpoint: dict[str, Any] = {
            "full": full_run,
            "since": since,
            "roles_done": [],
            "seen": 0,
            "pages": 0,
            "dry_run": dry_run,
        }
        run_id = runs.create(
            conn,
            row.id,
            kind,
            checkpoint,
            worker=rt.worker,
            now=now,
            lease_seconds=rt.lease_seconds,
        )
        if kind == "first" and not dry_run:
            lifecycle.transition(
                conn,
                row.id,
                lifecycle.Status.DRAFT,
                actor=rt.actor,
                cause=f"first sync started (run {run_id})",
            )
    return run_id


def _refuse_open(
    rt: Runtime, conn: sa.Connection, row: lifecycle.IntegrationRow, now: datetime
) -> None:
    """One run per integration: say what to do about the open one, or supersede an
    interrupted ongoing run (a new run redoes its work)."""
    run = runs.open_run(conn, row.id)
    if run is None:
        return
    if run.status == runs.RUNNING and run.lease_live(now):
        raise LeaseHeldError(
            f"integration {row.name!r} is already syncing (run {run.id}, worker {run.lease_owner})"
        )
    if run.status == runs.ON_HOLD:
        raise StateError(f"run {run.id} of {row.name!r} is on hold: approve or reject it first")
    if run.kind == "first" or run.status == runs.AWAITING_REVIEW:
        raise StateError(
            f"the first sync of {row.name!r} (run {run.id}) is not finished: "
            "use `sync continue` or review and `sync confirm`"
        )
    conn.execute(
        sa.update(sync_runs)
        .where(sync_runs.c.id == run.id)
        .values(status=runs.ABANDONED, phase="done", finished_at=now)
    )


def _kind(row: lifecycle.IntegrationRow, kind: str, dry_run: bool) -> str:
    status = row.status
    if status == lifecycle.Status.PENDING:
        raise StateError(f"integration {row.name!r} is pending: access is not granted yet")
    if status in (lifecycle.Status.READY, lifecycle.Status.DRAFT):
        return "first" if not dry_run else kind
    if status == lifecycle.Status.DEACTIVATED and kind == "scheduled":
        raise StateError(f"integration {row.name!r} is deactivated: scheduled runs are off")
    return kind


def _mode(
    rt: Runtime, row: lifecycle.IntegrationRow, kind: str, full: bool, now: datetime
) -> tuple[bool, str | None]:
    """(full reconciliation?, changed-since watermark) for a new run (R4.7)."""
    delta = rt.hooks.connector(row.connector).info.capabilities.delta
    last_full = runs.aware(row.last_full_sync_at)
    last_delta = runs.aware(row.last_delta_sync_at)
    stale = last_full is None or now - last_full >= RECONCILE_EVERY
    if full or kind in ("first", "reconcile") or not delta or stale:
        return True, None
    since = max(t for t in (last_full, last_delta) if t is not None) - DELTA_OVERLAP
    return False, since.isoformat()


def _waiting(
    conn: sa.Connection, row: lifecycle.IntegrationRow, status: str, run_id: int | None, verb: str
) -> runs.RunRow:
    run = runs.open_run(conn, row.id)
    if run is None or run.status != status or (run_id is not None and run.id != run_id):
        what = f"run {run_id}" if run_id is not None else "run"
        raise StateError(
            f"integration {row.name!r} has no {what} to {verb} "
            f"(it needs a run that is {status.replace('_', ' ')})"
        )
    return run


def _take(rt: Runtime, conn: sa.Connection, run: runs.RunRow, *, phase: str, flag: str) -> None:
    runs.acquire(conn, run.id, worker=rt.worker, now=rt.clock(), lease_seconds=rt.lease_seconds)
    runs.save(
        conn,
        run.id,
        worker=rt.worker,
        now=rt.clock(),
        lease_seconds=rt.lease_seconds,
        status=runs.RUNNING,
        phase=phase,
        checkpoint={**run.checkpoint, flag: True},
    )
