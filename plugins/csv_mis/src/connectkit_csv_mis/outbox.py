"""Write-back outbox: attendance marks appended to a CSV an MIS can import.

Format (UTF-8, comma, header on line 1)::

    mark_key,student_mis_id,date,session,code,minutes_late,comment

Writes are atomic: the current file is copied to a temp file in the same folder, the new
rows are appended, the temp file is fsynced and renamed over the outbox, under an
exclusive lock, so a reader never sees half a batch. Writes are idempotent by
``mark_key``: a key already in the file is not written again, so a retried batch never
posts a mark twice. Every cell passes :func:`~connectkit_csv_mis.escape.escape_cell`.
"""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from connectkit.models import AttendanceMark, WriteBackReceipt, WriteBackState
from connectkit_csv_mis.escape import escape_cell, escape_row

HEADER = ("mark_key", "student_mis_id", "date", "session", "code", "minutes_late", "comment")


def mark_row(mark: AttendanceMark) -> list[str]:
    """The outbox row of one mark, escaped."""
    late = "" if mark.minutes_late is None else str(mark.minutes_late)
    return escape_row(
        [
            mark.key,
            mark.student_mis_id,
            mark.date.isoformat(),
            mark.session,
            mark.code,
            late,
            mark.comment or "",
        ]
    )


def find_keys(path: Path, keys: set[str]) -> dict[str, int]:
    """Line numbers of the escaped ``keys`` already in the outbox (streamed)."""
    found: dict[str, int] = {}
    if not path.exists():
        return found
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        for row in reader:
            if row and row[0] in keys:
                found[row[0]] = reader.line_num
    return found


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = path.with_name(f".{path.name}.lock")
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_marks(path: Path, marks: Sequence[AttendanceMark]) -> WriteBackReceipt:
    """Append the marks whose key is not yet in the outbox; one receipt for the batch.

    ``remote_id`` is ``<file name>:<first line>-<last line>`` of the rows written (or of
    the rows already there when nothing new was written); ``detail`` says which.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        wanted = {escape_cell(mark.key): mark for mark in marks}
        present = find_keys(path, set(wanted))
        fresh = [mark for key, mark in wanted.items() if key not in present]
        first, last = _write_atomically(path, fresh) if fresh else (0, 0)
    lines = sorted(present.values())
    if fresh:
        span = f"{first}-{last}"
        detail = f"{len(fresh)} mark(s) written to {path.name} lines {span}"
    else:
        span = f"{lines[0]}-{lines[-1]}" if lines else "0-0"
        detail = f"all marks already in {path.name} (lines {span})"
    if present and fresh:
        detail += f"; {len(present)} already present"
    return WriteBackReceipt(
        mark_keys=tuple(mark.key for mark in marks),
        state=WriteBackState.DONE,
        remote_id=f"{path.name}:{span}",
        detail=detail,
    )


def _write_atomically(path: Path, marks: Sequence[AttendanceMark]) -> tuple[int, int]:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    lines = _count_lines(path)
    try:
        with temp.open("w", newline="", encoding="utf-8") as out:
            if lines:
                with path.open(newline="", encoding="utf-8") as current:
                    shutil.copyfileobj(current, out)
            writer = csv.writer(out, lineterminator="\r\n")
            if not lines:
                writer.writerow(HEADER)
                lines = 1
            for mark in marks:
                writer.writerow(mark_row(mark))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return lines + 1, lines + len(marks)


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        for _ in reader:
            pass
        return reader.line_num


def receipt_status(path: Path, receipt: WriteBackReceipt) -> WriteBackReceipt:
    """DONE when every key of ``receipt`` is in the outbox, else FAILED naming the missing."""
    keys = {escape_cell(key): key for key in receipt.mark_keys}
    found = find_keys(path, set(keys))
    missing = [keys[k] for k in keys if k not in found]
    if missing:
        return receipt.model_copy(
            update={
                "state": WriteBackState.FAILED,
                "detail": f"{len(missing)} mark(s) not in {path.name}: {missing[:5]}",
            }
        )
    return receipt.model_copy(update={"state": WriteBackState.DONE})
