"""``connectkit review``: the errors / duplicates / ready lists and the admin's decisions
(R3.3, R3.5, R3.6). Listings page by staged id (``--after``, ``--limit``; ``--all``
streams every page) and print JSON with ``--json``. See ``docs/review.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from connectkit import integrations as ig
from connectkit.cli.common import emit, get_app, to_json
from connectkit.cli.integrations_manage_cmd import actor, parse_pairs
from connectkit.sync import review

COLUMNS = {
    "error": ["mis_id", "role", "first_name", "last_name", "email", "phone", "problems"],
    "duplicate": ["mis_id", "role", "first_name", "last_name", "email", "phone", "matches"],
    "ready": ["mis_id", "role", "first_name", "last_name", "email", "phone", "user_type"],
    "skipped": ["mis_id", "role", "first_name", "last_name", "email", "phone"],
}


def _describe(issue: dict[str, Any]) -> str:
    """``field: why``, without repeating the field when the message already names it."""
    field, message = str(issue.get("field")), str(issue.get("message"))
    return message if message.startswith(f"{field}:") else f"{field}: {message}"


def _flat(record: review.StagedView) -> dict[str, Any]:
    problems = "; ".join(_describe(i) for i in record.issues)
    matches = f"user {record.match_user_id} ({record.match_key})" if record.match_user_id else ""
    return {"mis_id": record.mis_id, "role": record.role, **record.fields,
            "problems": problems, "matches": matches}


def _pages(integration_id: int, name: str, after: int | None, limit: int,
           every: bool) -> Iterator[review.Page]:
    engine = get_app().engine
    while True:
        with engine.connect() as conn:
            page = review.list_records(conn, integration_id, name, after=after, limit=limit)
        yield page
        if not every or page.next_after is None:
            return
        after = page.next_after


def _list(list_name: str, integration: str, after: int | None, limit: int, every: bool,
          as_json: bool) -> None:
    with get_app().engine.connect() as conn:
        row = ig.get(conn, integration)
        sizes = review.counts(conn, row.id)
    last: int | None = None
    if as_json and every:
        click.echo('{"records": [')
        first = True
        for page in _pages(row.id, list_name, after, limit, True):
            for record in page.records:
                click.echo(("" if first else ",") + to_json(record.as_json()))
                first = False
        click.echo(f'], "next_after": null, "counts": {to_json(sizes)}}}')
        return
    for page in _pages(row.id, list_name, after, limit, every):
        last = page.next_after
        if as_json:
            emit({"records": [r.as_json() for r in page.records], "next_after": last,
                  "counts": sizes}, True)
        else:
            emit([_flat(r) for r in page.records], False, columns=COLUMNS[list_name],
                 title=f"{row.name}: {list_name} ({sizes[list_name]})")
    if not as_json and last is not None:
        click.echo(f"more: --after {last}")


def _list_command(list_name: str, help_text: str) -> click.Command:
    @click.command(list_name + ("s" if list_name in ("error", "duplicate") else ""),
                   help=help_text)
    @click.argument("integration")
    @click.option("--after", type=int, default=None, help="Show records after this id.")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @click.option("--all", "every", is_flag=True, help="Every page (streamed).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    def command(integration: str, after: int | None, limit: int, every: bool,
                as_json: bool) -> None:
        _list(list_name, integration, after, limit, every, as_json)

    return command


@click.group("review")
def review_group() -> None:
    """Review staged records: errors, duplicates, ready; edit, merge, skip."""


for _name, _help in (
    ("error", "List records with errors (which field, which rule, which value).\n\n"
              "\b\nExample:\n  connectkit review errors 'Sample Academy' --json"),
    ("duplicate", "List duplicates and the directory user each matched (and by which key)."
                  "\n\n\b\nExample:\n  connectkit review duplicates 'Sample Academy'"),
    ("ready", "List records ready to sync (--all for the whole list).\n\n"
              "\b\nExample:\n  connectkit review ready 'Sample Academy' --all"),
    ("skipped", "List skipped records (not synced until un-skipped).\n\n"
                "\b\nExample:\n  connectkit review skipped 'Sample Academy'"),
):
    review_group.add_command(_list_command(_name, _help))


@review_group.command("edit")
@click.argument("integration")
@click.argument("mis_id")
@click.option("--set", "set_pairs", multiple=True, required=True, metavar="FIELD=VALUE",
              help="New value (empty clears the field); repeat for more fields.")
@click.option("--json", "as_json", is_flag=True)
def edit_command(integration: str, mis_id: str, set_pairs: tuple[str, ...],
                 as_json: bool) -> None:
    """Edit an errored record; it is re-validated at once (R3.3).

    \b
    Example:
      connectkit review edit 'Sample Academy' 4711 --set email=ann@school.example
    """
    changes = parse_pairs(set_pairs, "--set", typed=False)
    with get_app().engine.begin() as conn:
        record = review.edit(conn, integration, mis_id, changes, actor=actor())
    if as_json:
        emit(record.as_json(), True)
        return
    click.echo(f"record {mis_id}: now in {record.listed}")
    for issue in record.issues:
        click.echo(f"  {_describe(issue)}")


@review_group.command("merge")
@click.argument("integration")
@click.argument("mis_id")
@click.option("--prefer", "prefer_pairs", multiple=True, metavar="FIELD=mis|directory",
              help="Which value wins for a field (default: the MIS value where it has one).")
@click.option("--preview", is_flag=True, help="Only show the result; change nothing.")
@click.option("--json", "as_json", is_flag=True)
def merge_command(integration: str, mis_id: str, prefer_pairs: tuple[str, ...], preview: bool,
                  as_json: bool) -> None:
    """Merge a duplicate into the directory user it matched (R3.5).

    The user is linked to the MIS record when the run commits (the first sync's
    confirm, or the next run).

    \b
    Example:
      connectkit review merge 'Sample Academy' 4711 --prefer phone=directory --preview
    """
    prefer = parse_pairs(prefer_pairs, "--prefer", typed=False)
    with get_app().engine.begin() as conn:
        if preview:
            result = review.merge_preview(conn, integration, mis_id, prefer)
        else:
            result = review.merge(conn, integration, mis_id, prefer, actor=actor())
    if as_json:
        emit(result.as_json() | {"applied": not preview}, True)
        return
    rows = [{"field": k, "winner": result.winners[k], "value": v,
             "was": result.changes[k][0] if k in result.changes else v}
            for k, v in result.fields.items()]
    verb = "would merge" if preview else "merged"
    emit(rows, False, columns=["field", "winner", "value", "was"],
         title=f"record {mis_id} {verb} into user {result.user_id} ({result.match_key})")


@review_group.command("skip")
@click.argument("integration")
@click.argument("mis_id")
def skip_command(integration: str, mis_id: str) -> None:
    """Skip a record: not synced, now or later, until un-skipped (R3.5).

    \b
    Example:
      connectkit review skip 'Sample Academy' 4711
    """
    with get_app().engine.begin() as conn:
        review.skip(conn, integration, mis_id, actor=actor())
    click.echo(f"record {mis_id} skipped")


@review_group.command("unskip")
@click.argument("integration")
@click.argument("mis_id")
def unskip_command(integration: str, mis_id: str) -> None:
    """Forget a skip: the record is back in its list (or on the next run).

    \b
    Example:
      connectkit review unskip 'Sample Academy' 4711
    """
    with get_app().engine.begin() as conn:
        found = review.unskip(conn, integration, mis_id, actor=actor())
    click.echo(f"record {mis_id} un-skipped" if found else f"record {mis_id} was not skipped")


def register(main: click.Group) -> None:
    main.add_command(review_group)
