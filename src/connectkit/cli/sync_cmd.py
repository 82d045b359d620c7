"""``connectkit sync``: start, continue, plan (dry run), confirm, approve and reject runs.

Every command is a thin shell over :mod:`connectkit.sync.service` (the engine's only
public API). ``--json`` prints the run result for scripts; ``--yes`` answers the one
confirmation a first sync asks before committing (R3.7) and the approval of a held run.
See ``docs/sync-engine.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from connectkit import integrations as ig
from connectkit.cli.common import (
    EXIT_REFUSED,
    CommandError,
    emit,
    get_app,
    require_confirmation,
)
from connectkit.cli.integrations_manage_cmd import actor
from connectkit.sync import service
from connectkit.sync.results import RunResult
from connectkit.sync.runtime import Runtime


def runtime() -> Runtime:
    """The engine runtime of this CLI invocation's App."""
    app = get_app()
    return Runtime(
        engine=app.engine,
        env=ig.Environment.from_app(app),
        actor=actor(),
        import_worker=app.config.sync.import_worker,
    )


@contextmanager
def import_progress(enabled: bool) -> Iterator[Callable[[str, int], None] | None]:
    """A rich progress line on stderr while pages import (R3.1); None when disabled."""
    if not enabled:
        yield None
        return
    console = Console(file=sys.stderr)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("importing", total=None)

        def update(role: str, seen: int) -> None:
            progress.update(task, description=f"importing {role}s: {seen} records staged")

        yield update


def show(result: RunResult, as_json: bool, note: str | None = None) -> None:
    """Print a run result: JSON, or a status line, counts and list sizes."""
    if as_json:
        emit(result.to_dict(), True)
        return
    click.echo(f"run {result.run_id} of {result.integration!r} ({result.kind}): "
               f"{result.status.replace('_', ' ')}")
    counts = result.counts if any(result.counts.values()) else result.planned
    label = "done" if any(result.counts.values()) else "planned"
    emit({k: v for k, v in counts.items() if v} or {"(nothing)": 0}, False, title=label)
    click.echo(f"lists: {result.errors} error(s), {result.duplicates} duplicate(s), "
               f"{result.ready} ready")
    for reason in result.held:
        click.echo(f"held: {reason}")
    if result.error:
        click.echo(f"interrupted: {result.error}")
    if note:
        click.echo(note)


def finish_first_sync(rt: Runtime, result: RunResult, yes: bool, as_json: bool) -> None:
    """After import: a clean first sync asks once more, then commits (R3.7)."""
    if result.status != "awaiting_review":
        show(result, as_json)
        return
    if result.errors or result.duplicates:
        show(result, as_json, "review the lists (`connectkit review ...`), then "
                              f"`connectkit sync confirm {result.integration!r}`")
        return
    prompt = f"Commit {result.ready} record(s) to the directory for {result.integration!r}?"
    if yes or (sys.stdin.isatty() and click.confirm(prompt, default=False)):
        show(service.confirm(rt, result.integration, result.run_id), as_json)
        return
    show(result, as_json)
    raise CommandError(f"{prompt} -- needs confirmation: run `connectkit sync confirm "
                       f"{result.integration!r} --yes`", EXIT_REFUSED)


def _json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


@click.group("sync")
def sync_group() -> None:
    """Run syncs: start, continue, plan (dry run), confirm, approve, reject."""


@sync_group.command("start")
@click.argument("integration")
@click.option("--kind", type=click.Choice(["manual", "scheduled", "reconcile"]),
              default="manual", show_default=True, help="Why the run starts.")
@click.option("--full", is_flag=True, help="Full reconciliation (absent = deleted).")
@click.option("--yes", is_flag=True, help="Commit a clean first sync without asking.")
@_json_option
def start_command(integration: str, kind: str, full: bool, yes: bool, as_json: bool) -> None:
    """Start a run (the first sync when the integration is Ready).

    \b
    Example:
      connectkit sync start "Sample Academy" --yes
    """
    rt = runtime()
    with import_progress(not as_json) as progress:
        result = service.start_run(rt, integration, kind=kind, full=full, progress=progress)
    finish_first_sync(rt, result, yes, as_json)


@sync_group.command("continue")
@click.argument("integration")
@click.option("--yes", is_flag=True, help="Commit a clean first sync without asking.")
@_json_option
def continue_command(integration: str, yes: bool, as_json: bool) -> None:
    """Resume an interrupted run from its checkpoint (R3.8).

    \b
    Example:
      connectkit sync continue "Sample Academy"
    """
    rt = runtime()
    with import_progress(not as_json) as progress:
        result = service.continue_run(rt, integration, progress=progress)
    finish_first_sync(rt, result, yes, as_json)


@sync_group.command("plan")
@click.argument("integration")
@click.option("--full", is_flag=True, help="Plan a full reconciliation.")
@click.option("--lines", "with_lines", is_flag=True, help="Also list every planned line.")
@_json_option
def plan_command(integration: str, full: bool, with_lines: bool, as_json: bool) -> None:
    """Dry run: import and show what a run would do; the directory is not touched.

    \b
    Example:
      connectkit sync plan "Sample Academy" --lines
    """
    rt = runtime()
    with import_progress(not as_json) as progress:
        result = service.plan(rt, integration, full=full, progress=progress)
    if not with_lines:
        show(result, as_json)
        return
    lines = [ln for ln in service.log_lines(rt, result.run_id) if ln["action"] != "unchanged"]
    if as_json:
        emit(result.to_dict() | {"lines": lines}, True)
        return
    show(result, False)
    emit([{**ln, "detail": (ln["detail"] or {}).get("diff") or ln["detail"]} for ln in lines],
         False, columns=["mis_id", "user_id", "action", "detail"], title="changes")


@sync_group.command("confirm")
@click.argument("integration")
@click.option("--run", "run_id", type=int, default=None, help="The run to confirm.")
@click.option("--yes", is_flag=True, help="Do not ask.")
@_json_option
def confirm_command(integration: str, run_id: int | None, yes: bool, as_json: bool) -> None:
    """Commit the first sync's ready list (refused while errors or duplicates remain).

    \b
    Example:
      connectkit sync confirm "Sample Academy" --yes
    """
    require_confirmation(yes, f"Commit the ready list of {integration!r} to the directory?")
    show(service.confirm(runtime(), integration, run_id), as_json)


@sync_group.command("approve")
@click.argument("integration")
@click.option("--run", "run_id", type=int, default=None, help="The held run.")
@click.option("--yes", is_flag=True, help="Do not ask.")
@_json_option
def approve_command(integration: str, run_id: int | None, yes: bool, as_json: bool) -> None:
    """Let a run held by the mass-change guard commit its plan.

    \b
    Example:
      connectkit sync approve "Sample Academy" --yes
    """
    require_confirmation(yes, f"Apply the held run of {integration!r} as planned?")
    show(service.approve(runtime(), integration, run_id), as_json)


@sync_group.command("reject")
@click.argument("integration")
@click.option("--run", "run_id", type=int, default=None, help="The held run.")
@_json_option
def reject_command(integration: str, run_id: int | None, as_json: bool) -> None:
    """Refuse a held run: nothing is written.

    \b
    Example:
      connectkit sync reject "Sample Academy"
    """
    show(service.reject(runtime(), integration, run_id), as_json)


def register(main: click.Group) -> None:
    main.add_command(sync_group)
