"""Turn a stream of mapped rows into resumable :class:`PeoplePage` s, via the snapshot.

The cursor is ``p<pass id>.r<data rows consumed>``: resuming re-opens the file, skips that
many rows (without mapping them) and carries on in the same pass, so a page the core did
not store is simply produced again. Memory holds one page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Protocol

from connectkit.errors import BadResponseError
from connectkit.models import MISPerson, PeoplePage, Role
from connectkit_csv_mis.mapped import Mapped
from connectkit_csv_mis.reader import CsvFile
from connectkit_csv_mis.snapshot import Observed, Snapshot, stamp

log = logging.getLogger(__name__)
_CURSOR = re.compile(r"^p(\d+)\.r(\d+)$")


class ChunkMapper(Protocol):
    def map_chunk(self, chunk: Sequence[tuple[int, list[str]]]) -> list[Mapped]: ...


Opened = AbstractContextManager[tuple[CsvFile, ChunkMapper]]


@dataclass(frozen=True)
class Pass:
    """One fetch: which role, since when, where to resume, and what kind of export."""

    role: Role
    since: datetime | None
    cursor: str | None
    signature: str
    full: bool
    """A full export (absence means deletion), not a delta file."""
    page_size: int


def parse_cursor(cursor: str) -> tuple[int, int]:
    match = _CURSOR.match(cursor)
    if not match:
        raise BadResponseError(f"csv_mis: cursor {cursor!r} was not issued by this connector")
    return int(match.group(1)), int(match.group(2))


def chunks(csv_file: CsvFile, size: int) -> Iterator[list[tuple[int, list[str]]]]:
    """Rows in lists of ``size``, each row with the line it ended on."""
    rows = csv_file.rows()
    while True:
        chunk = [(csv_file.line, row) for row in islice(rows, size)]
        if not chunk:
            return
        yield chunk


def scan(opened: Opened, size: int = 1000) -> Iterator[Mapped]:
    """Every mapped row of an export, without touching the snapshot (groups, photos)."""
    with opened as (csv_file, mapper):
        for chunk in chunks(csv_file, size):
            yield from mapper.map_chunk(chunk)


def people_pages(
    open_source: Callable[[], Opened],
    spec: Pass,
    snapshot: Snapshot,
    clock: Callable[[], datetime],
) -> Iterator[PeoplePage]:
    """Yield the pages of one pass; the last one has ``cursor=None``."""
    now = clock()
    pass_id, skip = _start(spec, snapshot, now)
    buffer: list[MISPerson] = []
    with open_source() as (csv_file, mapper):
        csv_file.skip(skip)
        for chunk in chunks(csv_file, spec.page_size):
            buffer.extend(_keep(mapper.map_chunk(chunk), spec, pass_id, snapshot, now))
            if len(buffer) >= spec.page_size:
                yield PeoplePage(people=tuple(buffer), cursor=f"p{pass_id}.r{csv_file.rows_read}")
                buffer = []
    snapshot.complete_pass(spec.role.value, pass_id, now, spec.full)
    yield PeoplePage(people=tuple(buffer), cursor=None)


def _start(spec: Pass, snapshot: Snapshot, now: datetime) -> tuple[int, int]:
    """``(pass id, rows to skip)``: a new pass, or the cursor's one if its file is unchanged.

    A cursor into a file that has since been replaced cannot be trusted (row N is another
    person now): the pass starts again from the top, with a warning; the core's staging is
    keyed by MIS id, so the rows it receives twice are not doubled.
    """
    if spec.cursor is not None:
        pass_id, skip = parse_cursor(spec.cursor)
        if snapshot.pass_signature(pass_id) == spec.signature:
            return pass_id, skip
        log.warning(
            "%s export changed since cursor %s was issued; reading it again from the start",
            spec.role.value,
            spec.cursor,
        )
    return snapshot.begin_pass(spec.role.value, spec.signature, now), 0


def _keep(
    mapped: list[Mapped], spec: Pass, pass_id: int, snapshot: Snapshot, now: datetime
) -> Iterator[MISPerson]:
    role = spec.role.value
    floor = stamp(spec.since) if spec.since is not None else None
    tombstones = [(m.mis_id, m.row_time or now) for m in mapped if m.tombstone]
    if tombstones:
        snapshot.mark_deleted(role, tombstones)
    live = [m for m in mapped if m.person is not None and not m.tombstone]
    observed = [Observed(m.mis_id, m.hash, m.line, m.row_time) for m in live]
    for item, verdict in zip(live, snapshot.observe(role, pass_id, observed, now), strict=True):
        if verdict.duplicate_of_line is not None:
            log.warning(
                "%s record %s on line %d repeats the id of line %d; the repeat is skipped",
                role,
                item.mis_id,
                item.line,
                verdict.duplicate_of_line,
            )
            continue
        if floor is not None and verdict.changed_at < floor:
            continue
        assert item.person is not None
        yield item.person
