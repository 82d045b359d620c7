"""Groups of an export: the groups file if configured, else those found on people."""

from __future__ import annotations

from collections.abc import Iterator

from connectkit.models import GroupKind, MISGroup, Role
from connectkit_csv_mis.pages import scan
from connectkit_csv_mis.sources import PeopleSource


def groups_of(source: PeopleSource) -> Iterator[MISGroup]:
    """Yield every group once (first kind seen wins), sorted by id.

    Only distinct group ids are held in memory, never the people.
    """
    listed = source.listed_groups()
    if listed is not None:
        yield from listed
        return
    found: dict[str, tuple[GroupKind, Role]] = {}
    for role in Role:
        for mapped in scan(source.open(role)):
            if mapped.person is not None:
                for group in mapped.person.groups:
                    found.setdefault(group.group_id, (group.kind, role))
    names = source.group_names()
    for group_id in sorted(found):
        kind, role = found[group_id]
        yield MISGroup(id=group_id, name=names.get(group_id, group_id), kind=kind, role=role)
