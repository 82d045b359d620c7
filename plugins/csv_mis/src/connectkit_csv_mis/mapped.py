"""What a reader makes of one source row, before the snapshot and paging see it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from connectkit.models import MISPerson


class Mapped(NamedTuple):
    """One row of the role being read: the person, or a tombstone for a deleted one."""

    mis_id: str
    line: int
    hash: str
    person: MISPerson | None
    row_time: datetime | None = None
    tombstone: bool = False
