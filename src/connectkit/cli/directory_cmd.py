"""``connectkit directory``: user types, sites and sign-in areas (list / add)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from connectkit.cli.common import emit, get_app

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@click.group("directory")
def directory_group() -> None:
    """The directory's reference data: user types, sites and sign-in areas."""


@directory_group.group("user-types")
def user_types_group() -> None:
    """User types (e.g. Student, Staff) that MIS groups map to."""


@user_types_group.command("list")
@JSON_OPTION
def user_types_list(as_json: bool) -> None:
    """List user types.

    \b
    Example:
      connectkit directory user-types list --json
    """
    from connectkit import directory

    with get_app().engine.connect() as conn:
        rows = [asdict(t) for t in directory.list_user_types(conn)]
    emit(rows, as_json, columns=["id", "name"], title="User types")


@user_types_group.command("add")
@click.argument("name")
@JSON_OPTION
def user_types_add(name: str, as_json: bool) -> None:
    """Add user type NAME (exit 3 if it exists).

    \b
    Example:
      connectkit directory user-types add Student
    """
    from connectkit import directory

    with get_app().engine.begin() as conn:
        created = directory.add_user_type(conn, name)
    _added("user type", asdict(created), as_json)


@directory_group.group("sites")
def sites_group() -> None:
    """Sites (a school's buildings or campuses)."""


@sites_group.command("list")
@JSON_OPTION
def sites_list(as_json: bool) -> None:
    """List sites.

    \b
    Example:
      connectkit directory sites list
    """
    from connectkit import directory

    with get_app().engine.connect() as conn:
        rows = [asdict(s) for s in directory.list_sites(conn)]
    emit(rows, as_json, columns=["id", "name"], title="Sites")


@sites_group.command("add")
@click.argument("name")
@JSON_OPTION
def sites_add(name: str, as_json: bool) -> None:
    """Add site NAME (exit 3 if it exists).

    \b
    Example:
      connectkit directory sites add "Main Site"
    """
    from connectkit import directory

    with get_app().engine.begin() as conn:
        created = directory.add_site(conn, name)
    _added("site", asdict(created), as_json)


@directory_group.group("areas")
def areas_group() -> None:
    """Sign-in areas, each belonging to one site."""


@areas_group.command("list")
@click.option("--site", help="Only the areas of this site.")
@JSON_OPTION
def areas_list(site: str | None, as_json: bool) -> None:
    """List sign-in areas.

    \b
    Example:
      connectkit directory areas list --site "Main Site"
    """
    from connectkit import directory

    with get_app().engine.connect() as conn:
        rows = [asdict(a) for a in directory.list_areas(conn, site)]
    emit(rows, as_json, columns=["id", "name", "site"], title="Areas")


@areas_group.command("add")
@click.argument("name")
@click.option("--site", required=True, help="The (existing) site the area belongs to.")
@JSON_OPTION
def areas_add(name: str, site: str, as_json: bool) -> None:
    """Add sign-in area NAME to an existing site (exit 3 if the site is unknown).

    \b
    Example:
      connectkit directory areas add "Student Entrance" --site "Main Site"
    """
    from connectkit import directory

    with get_app().engine.begin() as conn:
        created = directory.add_area(conn, name, site)
    _added("area", asdict(created), as_json)


def _added(what: str, row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(row, True)
    else:
        click.echo(f"added {what} {row['name']!r} (id {row['id']})")


def register(main: click.Group) -> None:
    main.add_command(directory_group)
