"""``make demo``: a real first sync of the synthetic sample school into embedded SQLite.

``python -m connectkit.demo run`` starts from a clean store: it migrates it, seeds the
directory with the sample's existing users (some of whom the MIS duplicates), applies the
integration from ``examples/sample-school/connectkit.toml`` (credentials checked by the
CSV connector), runs the first sync and prints the errors / duplicates / ready lists with
the commands that resolve them.

``python -m connectkit.demo finish`` then resolves them the way an admin would (edit the
errored records, skip the one whose user type is ambiguous, merge the duplicates keeping
the directory's values) and confirms the sync.

Run both from the repository root (the sample config's connector paths are relative to it).
"""

from __future__ import annotations

import csv
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, insert

from connectkit import integrations as lifecycle
from connectkit.app import App
from connectkit.directory import ensure_user_types
from connectkit.store.migrate import upgrade
from connectkit.store.tables import users
from connectkit.sync import review, service
from connectkit.sync.keys import user_keys
from connectkit.sync.results import RunResult
from connectkit.sync.runtime import Runtime, utcnow
from connectkit.sync.validate import Validator

SAMPLE = Path("examples/sample-school")
CONFIG = SAMPLE / "connectkit.toml"
SEED = SAMPLE / "directory_seed.csv"
INTEGRATION = "Sample Academy"
ACTOR = "demo"
console = Console()


def _app() -> App:
    if not CONFIG.is_file():
        raise click.ClickException(f"{CONFIG} not found: run from the repository root")
    return App.from_config(CONFIG)


def _runtime(app: App) -> Runtime:
    return Runtime(
        engine=app.engine,
        env=lifecycle.Environment.from_app(app),
        actor=ACTOR,
        import_worker=app.config.sync.import_worker,
    )


def _fresh_store(app: App) -> None:
    """Delete the demo's SQLite file and connector state, then migrate a new store."""
    app.engine.dispose()
    database = app.engine.url.database
    if app.engine.dialect.name != "sqlite" or not database:
        raise click.ClickException("the demo only resets an embedded SQLite store")
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)
    shutil.rmtree(app.state_dir, ignore_errors=True)
    upgrade(str(app.engine.url))


def _seed_rows(conn: Connection) -> Iterator[dict[str, object]]:
    """Directory users that existed before the integration (phones stored as E.164)."""
    validator = Validator(phone_region="GB")
    with SEED.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    type_ids = ensure_user_types(conn, sorted({row["user_type"] for row in rows}))
    now = utcnow()
    for row in rows:
        raw = {key: (row.get(key) or None) for key in ("first_name", "last_name", "email", "phone")}
        fields = validator.validate(raw).fields
        yield {
            **{key: fields.get(key) for key in ("first_name", "last_name", "email", "phone")},
            **user_keys(fields),
            "user_type_id": type_ids[row["user_type"]],
            "active": True,
            "created_at": now,
            "updated_at": now,
        }


def _seed_directory(app: App) -> int:
    with app.engine.begin() as conn:
        rows = list(_seed_rows(conn))
        conn.execute(insert(users), rows)
    return len(rows)


def _apply_integration(app: App) -> None:
    env = lifecycle.Environment.from_app(app)
    (spec,) = [i for i in app.config.integrations if i.name == INTEGRATION]
    with app.engine.begin() as conn:
        applied = lifecycle.apply_one(conn, env, spec, actor=ACTOR)
    console.print(f"integration [bold]{applied.name}[/]: {applied.action} (credentials checked)")


def _show_counts(result: RunResult) -> None:
    table = Table(title=f"run {result.run_id} ({result.kind}): {result.status}")
    for column in ("errors", "duplicates", "ready"):
        table.add_column(column, justify="right")
    table.add_row(str(result.errors), str(result.duplicates), str(result.ready))
    console.print(table)


def _show_list(app: App, name: str, limit: int = 20) -> None:
    with app.engine.connect() as conn:
        row = lifecycle.get(conn, INTEGRATION)
        page = review.list_records(conn, row.id, name, limit=limit)
    if not page.records:
        return
    table = Table(title=f"{name} list (first {len(page.records)})")
    for column in ("MIS id", "name", "why"):
        table.add_column(column)
    for record in page.records:
        who = f"{record.fields.get('first_name') or ''} {record.fields.get('last_name') or ''}"
        if name == "error":
            why = "; ".join(str(issue.get("message")) for issue in record.issues)
        else:
            why = f"matches directory user {record.match_user_id} by {record.match_key}"
        table.add_row(record.mis_id, who.strip(), why)
    console.print(table)


def run() -> RunResult:
    """Reset the demo store, seed it, apply the integration and run the first sync."""
    started = time.perf_counter()
    app = _app()
    _fresh_store(app)
    console.print(f"store: {app.engine.url} (migrated)")
    console.print(f"directory: {_seed_directory(app)} existing users seeded from {SEED}")
    _apply_integration(app)
    with console.status("importing and validating the sample school…"):
        result = service.start_run(_runtime(app), INTEGRATION, kind="first")
    _show_counts(result)
    _show_list(app, "error")
    _show_list(app, "duplicate")
    click.echo(
        "\nNext, as an admin (see docs/review.md):\n"
        f'  connectkit --config {CONFIG} review errors "{INTEGRATION}"\n'
        f'  connectkit --config {CONFIG} review edit "{INTEGRATION}" MIS_ID --set last_name=…\n'
        f'  connectkit --config {CONFIG} review merge "{INTEGRATION}" MIS_ID --preview\n'
        f'  connectkit --config {CONFIG} sync confirm "{INTEGRATION}"\n'
        "or let `make demo-finish` resolve them all and commit."
    )
    console.print(f"demo run took {time.perf_counter() - started:.1f} s")
    app.close()
    return result


def _fix(record: review.StagedView) -> dict[str, str | None]:
    """What an admin types into the edit form for each kind of planted problem."""
    changes: dict[str, str | None] = {}
    for issue in record.issues:
        field = str(issue.get("field"))
        if issue.get("rule") == "required":
            changes[field] = "Unknown"
        elif field in ("email", "phone"):
            changes[field] = None
    return changes


def _resolve_errors(app: App) -> tuple[int, int]:
    edited = skipped = 0
    with app.engine.begin() as conn:
        row = lifecycle.get(conn, INTEGRATION)
        records = review.list_records(conn, row.id, "error", limit=1000).records
        for record in records:
            changes = _fix(record)
            if changes:
                review.edit(conn, INTEGRATION, record.mis_id, changes, actor=ACTOR)
                edited += 1
            else:  # e.g. a user type that is ambiguous: not for the directory to guess
                review.skip(conn, INTEGRATION, record.mis_id, actor=ACTOR)
                skipped += 1
        for record in review.list_records(conn, row.id, "error", limit=1000).records:
            review.skip(conn, INTEGRATION, record.mis_id, actor=ACTOR)
            skipped += 1
    return edited, skipped


def _merge_duplicates(app: App) -> int:
    with app.engine.begin() as conn:
        row = lifecycle.get(conn, INTEGRATION)
        records = review.list_records(conn, row.id, "duplicate", limit=1000).records
        for record in records:
            review.merge(conn, INTEGRATION, record.mis_id, actor=ACTOR)
    return len(records)


def finish() -> RunResult:
    """Resolve the demo's errors and duplicates, then confirm (commit) the first sync."""
    started = time.perf_counter()
    app = _app()
    edited, skipped = _resolve_errors(app)
    console.print(f"errors: {edited} records edited, {skipped} skipped")
    console.print(f"duplicates: {_merge_duplicates(app)} merged into existing users")
    result = service.confirm(_runtime(app), INTEGRATION)
    table = Table(title=f"run {result.run_id} committed: {result.status}")
    table.add_column("outcome")
    table.add_column("records", justify="right")
    for outcome, count in sorted(result.counts.items()):
        table.add_row(outcome, str(count))
    console.print(table)
    click.echo(f'see the log: connectkit --config {CONFIG} logs "{INTEGRATION}"')
    console.print(f"demo finish took {time.perf_counter() - started:.1f} s")
    app.close()
    return result


@click.group()
def main() -> None:
    """The sample-school demo (run from the repository root)."""


@main.command("run")
def run_command() -> None:
    """Reset the demo store and run the first sync of the sample school."""
    run()


@main.command("finish")
def finish_command() -> None:
    """Resolve the demo's review lists and commit the first sync."""
    finish()


if __name__ == "__main__":
    sys.exit(main())
