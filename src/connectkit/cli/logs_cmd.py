"""``connectkit logs``: an integration's sync runs, or one run's per-record lines (R7)."""

from __future__ import annotations

import click

from connectkit.cli.common import emit, to_json
from connectkit.cli.sync_cmd import runtime
from connectkit.sync import service


@click.command("logs")
@click.argument("integration")
@click.option("--run", "run_id", type=int, default=None, help="Show this run's lines.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="How many runs to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def logs_command(integration: str, run_id: int | None, limit: int, as_json: bool) -> None:
    """List the latest runs (newest first), or with --run one run's plan and lines.

    \b
    Examples:
      connectkit logs "Sample Academy"
      connectkit logs "Sample Academy" --run 3 --json
    """
    rt = runtime()
    if run_id is None:
        rows = service.logs(rt, integration, limit=limit)
        if as_json:
            emit({"runs": rows}, True)
            return
        flat = [r | {"counts": ", ".join(f"{k} {v}" for k, v in r["counts"].items() if v)}
                for r in rows]
        emit(flat, False, title=f"{integration}: sync runs",
             columns=["run", "kind", "status", "started_at", "finished_at", "counts", "error"])
        return
    detail = service.run_detail(rt, integration, run_id)
    lines = service.log_lines(rt, run_id)
    if as_json:  # streamed: a run can have a line per pupil of a whole trust
        click.echo('{"run": ' + to_json(detail) + ', "lines": [')
        for index, line in enumerate(lines):
            click.echo(("," if index else "") + to_json(line))
        click.echo("]}")
        return
    emit({k: v for k, v in detail.items() if k != "plan"}, False, title=f"run {run_id}")
    batch: list[dict[str, object]] = []
    for line in lines:
        batch.append(line | {"detail": _short(line["detail"])})
        if len(batch) == 500:
            emit(batch, False, columns=["line", "mis_id", "user_id", "action", "outcome",
                                        "detail"])
            batch = []
    if batch:
        emit(batch, False, columns=["line", "mis_id", "user_id", "action", "outcome", "detail"])


def _short(detail: object) -> object:
    if isinstance(detail, dict):
        return detail.get("diff") or detail.get("reason") or detail.get("error") or ""
    return detail


def register(main: click.Group) -> None:
    main.add_command(logs_command)
